"""What the press benchmarks share (bench_latency.py, bench_burst.py): a data directory with
history or running instances, the bare python-telegram-bot bot, an event-loop stall probe and
a per-stage timeline of one press. Not a benchmark itself."""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Bot, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes

from bench._bot_process import Link
from bot.engine.instance import Actor, Engine, Status
from bot.engine.model import Flow
from bot.storage.records import Member, Membership
from bot.storage.store import Store
from fakeapi import FakeBotApi, FakeUser

FLOWS_DIR = Path(__file__).resolve().parent.parent / "flows"

T0 = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)


async def wait_new(user: FakeUser, before: int, marker: str, timeout: float = 20.0) -> float:
    """Wait (polling every millisecond) until `user` has a new message containing `marker`.

    Polls the chat's next message ids one at a time (the fake server numbers a chat's
    messages in order): reading every message of the chat each millisecond (a deep copy
    of each, under the server's lock) cost more than the bot being measured, and more the
    longer the chat.
    """
    deadline = time.perf_counter() + timeout
    msgs = user.messages()
    if len(msgs) > before and any(marker in (m.get("text") or "") for m in msgs[before:]):
        return time.perf_counter()
    next_id = (msgs[before - 1]["message_id"] if before and len(msgs) >= before else 0) + 1
    while time.perf_counter() < deadline:
        found = user.api.message(user.id, next_id)
        if found is not None:
            next_id += 1
            if (found.get("from") or {}).get("is_bot") and marker in (found.get("text") or ""):
                return time.perf_counter()
            continue
        await asyncio.sleep(0.001)
    raise TimeoutError(f"no {marker!r} for {user.first_name}")


async def wait_answer(api: FakeBotApi, query_id: str, timeout: float = 20.0) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if api.callback_answer(query_id):
            return time.perf_counter()
        await asyncio.sleep(0.001)
    raise TimeoutError("callback not answered")


async def served(api: FakeBotApi, method: str, since: float,
                 match: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> float:
    """When the fake server received the first `method` call since `since` (time.time())
    whose parameters `match`: the call's arrival on the server's own clock, before the
    server's threads and this process's polling add their share. (A call is logged once
    answered: wait for it.)"""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for call in api.calls(method):
            if call.time >= since and match(call.params):
                return call.time
        await asyncio.sleep(0.001)
    raise TimeoutError(f"no {method} call logged")


def pct(values: list[float], q: float) -> float:
    """The q-quantile of `values` (seconds) in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# -- stored data ---------------------------------------------------------------------------


def add_history(data_dir: Path, flow: Flow, instances: int, dispositions: int) -> None:
    """`instances` finished instances of `flow` holding `dispositions` dispositions, in
    per-year archives (as bench_storage.py builds them)."""
    engine = Engine(flow)
    holders = {r.id: ["h"] for r in flow.roles}
    starter = Actor.of("h", *flow.starters)
    template = engine.start(instance_id="t", year=2000, by=starter, now=T0,
                            holders=holders).instance
    template.status, template.current, template.finished_at = Status.COMPLETED, None, T0
    years = list(range(2000, 2025))
    archives: dict[int, dict[str, dict[str, Any]]] = {
        y: {"instances": {}, "dispositions": {}} for y in years}
    per = max(1, dispositions // max(1, instances))
    n_doc = 0
    for i in range(instances):
        year = years[i % len(years)]
        arch = archives[year]
        doc = template.to_dict() | {"id": f"a{i:07d}", "year": year}
        arch["instances"][str(len(arch["instances"]) + 1)] = doc
        for k in range(per):
            n_doc += 1
            arch["dispositions"][str(n_doc)] = {
                "v": 1, "instance_id": doc["id"], "step_no": 1 + k % len(flow.steps),
                "round": 1, "action": "complete", "member": "h", "role": flow.starters[0],
                "at": (T0 + timedelta(minutes=k)).isoformat(), "note": None,
                "attachments": []}
    for year, data in archives.items():
        (data_dir / f"archive-{year}.json").write_text(json.dumps(data))


def add_running(store: Store, flow: Flow, n: int, now: datetime, year: int = 2026) -> None:
    """`n` running instances of the per-official `flow` (n officials with their atasan),
    their notifications already delivered: a kabupaten's procedure under way."""
    assert flow.per_official is not None
    unit = flow.unit.id
    starter_role = flow.starters[-1]
    levels = flow.per_official.levels
    top, mid, low = levels[0], levels[1], levels[-1]
    people = [("r0", starter_role), ("r1", top), ("r2", mid)]
    people += [(f"r{i}", low) for i in range(3, n + 1)]
    engine = Engine(flow)
    members = []
    for k, (mid_, role) in enumerate(people):
        roles = [Membership(unit, role, now)]
        if role == starter_role:
            roles.append(Membership(unit, "sekwan", now))
        members.append(Member(mid_, 900_000 + k, f"Pejabat {k}", now,
                              telegram_language="en", roles=roles))
    with store.transaction(record_update=False) as repo:
        known = {m.id for m in repo.members()}
        bulk = getattr(repo, "_members", None) is not None \
            and not known & {m.id for m in members}
        if bulk:  # TinyDB, new ids: one insert of them all (10,000 upserts are O(N²))
            # (TinyDB's write replaces the table, and so the repository's indexes of it)
            repo._members.insert_multiple(m.to_doc() for m in members)  # type: ignore[attr-defined]
        else:
            for member in members:
                repo.save_member(member)
        holders = repo.holders(unit)
        pairs = [("r1", "r0"), ("r2", "r1")] + [(f"r{i}", "r2") for i in range(3, n + 1)]
        by = Actor.of("r0", *flow.starters)
        started = [engine.start(instance_id=f"run{k:05d}", year=year, by=by, now=now,
                                holders=holders, subject=subject, atasan=atasan).instance
                   for k, (subject, atasan) in enumerate(pairs[:n])]
        if bulk and not {i.id for i in repo.instances()} & {i.id for i in started}:
            repo._instances.insert_multiple(i.to_dict() for i in started)  # type: ignore[attr-defined]
        else:
            for inst in started:
                repo.save_instance(inst)


# -- the bare bot ----------------------------------------------------------------------------


def bare_app(token: str, api_root: str, notify: Callable[[Update], int]) -> Any:
    """A bare PTB bot: answers the callback and sends one message to chat `notify(update)`."""

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        await context.bot.send_message(notify(update), "Step 2 of 9: next")

    app = (ApplicationBuilder().token(token).base_url(api_root + "/bot")
           .base_file_url(api_root + "/file/bot").concurrent_updates(True).build())
    app.add_handler(CallbackQueryHandler(pressed))
    return app


async def serve_bare(link: Link, api_root: str, token: str, to: int | None,
                     offset: int = 0) -> None:
    """The bare bot (see :mod:`bench._bot_process`): it notifies chat `to`, or the presser's
    id + `offset`. Requests: ``("ready",)``; ``("buttons", chat_ids)`` sends each chat a
    message with one button and answers their ``{"message_id", "chat"}``."""

    def notify(update: Update) -> int:
        assert update.effective_user is not None
        return to if to is not None else update.effective_user.id + offset

    app = bare_app(token, api_root, notify)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        async for op, *args in link.requests():
            if op == "ready":
                link.answer()
            elif op == "buttons":
                sent = []
                for chat in args[0]:
                    m = await app.bot.send_message(chat, "press", reply_markup={
                        "inline_keyboard": [[{"text": "✔️ Selesai", "callback_data": "x"}]]})
                    sent.append({"message_id": m.message_id, "chat": {"id": chat}})
                link.answer(sent)
            else:
                raise ValueError(f"unknown request {op!r}")
        await app.updater.stop()
        await app.stop()


async def serve_sopbot(link: Link, api_root: str, token: str, options: dict[str, Any]) -> None:
    """sopbot built as ``sopbot run`` builds it (see :mod:`bench._bot_process`), its clock
    stopped at ``options["now"]``.

    ``options["setup"]`` (a module-level function, if any) is called with the bot, its data
    directory and the flows before the bot starts; ``options["rate_limit"]`` (default True)
    keeps Telegram's pace; ``options["profile"]`` installs a :class:`Timeline`. Requests:

    - ``("ready",)`` once the bot polls;
    - ``("invite", unit, role, name)`` → an invitation code;
    - ``("start", chat_id, title)``: the official of that chat starts a flow;
    - ``("sync",)`` → seconds a reminder sync took;
    - ``("stalls",)`` → the worst event-loop stall (s) and how many were over 50 ms since
      the last ask (a :class:`StallProbe` runs throughout);
    - ``("record",)`` / ``("report", t0, answered, notified)``: the timeline of one press
      (``time.perf_counter`` is the system's monotonic clock, the same in both processes).
    """
    from bot.bootstrap import build_bot, running
    from bot.config import Settings
    from bot.engine.loader import load_flows
    from bot.services.commands import Start

    now = options["now"]
    flows = load_flows(FLOWS_DIR)
    timeline = Timeline()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(token=token, api_url=api_root, data_dir=Path(tmp),
                            flows_dir=FLOWS_DIR)
        bot = build_bot(settings, flows, clock=lambda: now,
                        rate_limit=options.get("rate_limit", True))
        if options.get("setup") is not None:
            options["setup"](bot, Path(tmp), flows)
        runtime = bot.app.bot_data["runtime"]
        if options.get("profile"):
            timeline.install(bot.services, bot.store, runtime.sender)
        async with running(bot, poll_timeout=1):
            with StallProbe() as probe:
                async for op, *args in link.requests():
                    if op == "ready":
                        link.answer()
                    elif op == "invite":  # in a thread, like "start" below
                        unit, role, name = args
                        invite = await asyncio.to_thread(
                            bot.services.create_invite, unit=unit, role=role, now=now,
                            name=name)
                        link.answer(invite.code)
                    elif op == "start":
                        chat, title = args

                        def start(chat: int = chat, title: str = title) -> None:
                            # (in a thread, as the bot's handlers do: reading the store on
                            # the event loop would be the harness stalling it)
                            member = next(m for m in bot.store.read().members()
                                          if m.chat_id == chat)
                            bot.services.start(Start(member, title, now))

                        await asyncio.to_thread(start)
                        runtime.sender.wake()
                        link.answer()
                    elif op == "sync":
                        began = time.perf_counter()
                        await runtime.scheduler.sync()
                        link.answer(time.perf_counter() - began)
                    elif op == "stalls":
                        link.answer((probe.worst, probe.over_50ms))
                        probe.reset()
                    elif op == "record":
                        timeline.marks.clear()
                        timeline.recording = True
                        link.answer()
                    elif op == "report":
                        timeline.recording = False
                        link.answer(timeline.report(*args))
                    else:
                        raise ValueError(f"unknown request {op!r}")


# -- the event loop's stalls -----------------------------------------------------------------


class StallProbe:
    """A task that sleeps 10 ms at a time and notes how late it wakes: the event loop's
    stalls (time it could not run anything else)."""

    def __init__(self, period: float = 0.010) -> None:
        self.period = period
        self.worst = 0.0
        self.over_50ms = 0
        self._task: asyncio.Task[None] | None = None

    def reset(self) -> None:
        self.worst, self.over_50ms = 0.0, 0

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(self.period)
            lag = loop.time() - t - self.period
            self.worst = max(self.worst, lag)
            self.over_50ms += lag > 0.050

    def __enter__(self) -> StallProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


# -- the timeline of one press --------------------------------------------------------------

SERVICE_CALLS = ("update_seen", "member", "decide", "decide_pressed", "outbox_due",
                 "outbox_inflight", "outbox_sent", "outbox_progress")


class Timeline:
    """Wall-clock marks of what one press costs: service calls (with the store's
    transactions and file rewrites inside them) and Bot API calls."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float, float]] = []
        self.recording = False

    def note(self, name: str, began: float, ended: float) -> None:
        if self.recording:
            self.marks.append((name, began, ended))

    @contextmanager
    def span(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.note(name, began, time.perf_counter())

    def install(self, services: Any, store: Store, sender: Any = None) -> None:
        from bot.storage import store as store_module

        collecting: dict[str, float] = {}

        def collection(phase: str, info: dict[str, Any]) -> None:  # the collector's passes
            if phase == "start":
                collecting["began"] = time.perf_counter()
            elif "began" in collecting:
                self.note(f"gc generation {info['generation']}", collecting.pop("began"),
                          time.perf_counter())

        gc.callbacks.append(collection)

        if sender is not None:  # when the sender is handed the decision's items, starts a
            # delivery round, and each item's Bot API call begins
            for name in ("hand_off", "_round", "_attempt"):
                original_m = getattr(sender, name, None)
                if original_m is None:
                    continue
                if asyncio.iscoroutinefunction(original_m):
                    async def awrapped(*a: Any, _f: Any = original_m, _n: str = name,
                                       **k: Any) -> Any:
                        with self.span(f"sender {_n}"):
                            return await _f(*a, **k)
                    setattr(sender, name, awrapped)
                else:
                    def wrapped_m(*a: Any, _f: Any = original_m, _n: str = name,
                                  **k: Any) -> Any:
                        with self.span(f"sender {_n}"):
                            return _f(*a, **k)
                    setattr(sender, name, wrapped_m)

        for name in SERVICE_CALLS:
            original = getattr(services, name, None)
            if original is None:
                continue

            def wrapped(*a: Any, _f: Any = original, _n: str = name, **k: Any) -> Any:
                with self.span(f"service {_n}"):
                    return _f(*a, **k)

            setattr(services, name, wrapped)
        original_tx = store.transaction

        @contextmanager
        def transaction(*a: Any, **k: Any) -> Iterator[Any]:
            with self.span("  store transaction"), original_tx(*a, **k) as repo:
                yield repo

        store.transaction = transaction  # type: ignore[method-assign]
        original_write = store_module.atomic_write

        def atomic_write(path: Path, data: bytes) -> None:
            with self.span(f"  file rewrite ({len(data) // 1024} KiB)"):
                original_write(path, data)

        store_module.atomic_write = atomic_write
        original_append = store_module.journal.append

        def append(path: Path, line: bytes, stamp: str) -> int:
            with self.span(f"  journal line ({len(line) / 1024:.1f} KiB)"):
                return original_append(path, line, stamp)

        store_module.journal.append = append
        original_post = Bot._post

        async def post(bot: Bot, endpoint: str, *a: Any, **k: Any) -> Any:
            if endpoint == "getUpdates":
                result = await original_post(bot, endpoint, *a, **k)
                if result:
                    self.note("Bot API getUpdates returned", time.perf_counter(),
                              time.perf_counter())
                return result
            with self.span(f"Bot API {endpoint}"):
                return await original_post(bot, endpoint, *a, **k)

        Bot._post = post  # type: ignore[method-assign]
        self._install_http_marks()

    def _install_http_marks(self) -> None:
        """Below the Bot API call: the pacer's admission, PTB's request (its JSON built,
        then httpx), and the moment the sender is told the step's request is written."""
        from telegram.request import HTTPXRequest

        from bot.tg import pacing, sender, steps

        original_run = steps.run

        async def run(func: Any, *a: Any, **k: Any) -> Any:  # the button's service call
            began = time.perf_counter()
            self.note("handler hands the service to a thread", began, began)
            try:
                return await original_run(func, *a, **k)
            finally:
                now = time.perf_counter()
                self.note("handler has the service's result", now, now)

        steps.run = run  # type: ignore[assignment]

        original_process = pacing.PacedRateLimiter.process_request

        async def process(limiter: Any, callback: Any, args: Any, kwargs: Any,
                          **rest: Any) -> Any:
            began = time.perf_counter()

            async def admitted(*a: Any, **k: Any) -> Any:
                self.note("    pacer admitted", began, time.perf_counter())
                return await callback(*a, **k)

            return await original_process(limiter, admitted, args, kwargs, **rest)

        pacing.PacedRateLimiter.process_request = process  # type: ignore[method-assign]
        original_do = HTTPXRequest.do_request

        async def do_request(request: Any, *a: Any, **k: Any) -> Any:
            with self.span("    httpx request → response"):
                return await original_do(request, *a, **k)

        HTTPXRequest.do_request = do_request  # type: ignore[method-assign]
        original_on_written = sender.on_written

        def on_written(callback: Any) -> Any:
            if callback is None:
                return original_on_written(None)

            def told() -> None:
                now = time.perf_counter()
                self.note("    written (the answer may go)", now, now)
                callback()

            return original_on_written(told)

        sender.on_written = on_written  # type: ignore[assignment]

    def report(self, t0: float, answered: float, notified: float) -> list[str]:
        lines = [f"{'ms from press':>14} {'took ms':>8}  what"]
        for name, began, ended in sorted(self.marks, key=lambda m: m[1]):
            lines.append(f"{(began - t0) * 1000:>14.1f} {(ended - began) * 1000:>8.1f}  {name}")
        lines.append(f"{(answered - t0) * 1000:>14.1f} {'':>8}  the official sees the answer")
        lines.append(f"{(notified - t0) * 1000:>14.1f} {'':>8}  the next official sees the step")
        return lines


def summary(samples: list[float]) -> str:
    return (f"p50 {pct(samples, .5):.1f} ms, p95 {pct(samples, .95):.1f} ms, "
            f"mean {statistics.mean(samples) * 1000:.1f} ms")
