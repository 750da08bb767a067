"""A burst of decisions: N officials press their step button within the same second.

The per-official procedure of the DPRD Nganjuk secretariat runs for N staff, each with their
own direct superior (kasubag); every staff member has the step 1 message. All N press
**Selesai** at once; each press is timed to its answer and to the superior's step 2 message.
Beside it, a bare python-telegram-bot bot (concurrent updates; answers and sends one message
to the partner's chat) gets the same burst on the same fake Bot API server in the same run.
An event-loop stall probe (a task waking every 10 ms) runs through the burst and through the
periodic reminder sync that follows it. Usage::

    python bench/bench_burst.py [--officials 200] [--running 10000] [--unpaced] [--in-process]

Each bot runs in a process of its own, as in production (``--in-process``: beside the fake
server, sharing its GIL; see ``bench/_bot_process.py``).

``--running N`` adds N running instances of the procedure (year 2025) to the store first;
``--unpaced`` switches sopbot's Telegram pacing off (the fake server has no limits, the
bare bot keeps none; Telegram itself allows about 30 messages a second, so the paced drain
of N notifications cannot be shorter than N/28 s).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._bot_process import runner  # noqa: E402
from bench._press_kit import (  # noqa: E402
    add_running,
    pct,
    serve_bare,
    serve_sopbot,
)
from bot.services.commands import Start  # noqa: E402
from bot.storage.records import Member, Membership  # noqa: E402
from fakeapi import FakeBotApi, FakeUser  # noqa: E402

PDK = "pengumpulan-data-kinerja-dprd-nganjuk"
UNIT = "setwan-nganjuk"
START = datetime(2026, 1, 5, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
STAFF, HEADS = 300_000, 400_000  # Telegram ids: staff i presses, head i is their superior


def prepare(bot, n: int) -> None:  # type: ignore[no-untyped-def]
    """N staff, each with their own kasubag (all under one kabag and the sekwan), and the
    procedure started for them."""
    with bot.store.transaction(record_update=False) as repo:
        repo.save_member(Member("sekwan", 1, "Sekwan", START, telegram_language="en",
                                roles=[Membership(UNIT, "sekwan", START)]))
        repo.save_member(Member("kabag", 2, "Kabag", START, telegram_language="en",
                                roles=[Membership(UNIT, "kabag", START, atasan="sekwan")]))
        for i in range(n):
            repo.save_member(Member(str(HEADS + i), HEADS + i, f"Kasubag {i}", START,
                                    telegram_language="en", roles=[
                                        Membership(UNIT, "kasubag", START, atasan="kabag")]))
            repo.save_member(Member(str(STAFF + i), STAFF + i, f"Staf {i}", START,
                                    telegram_language="en", roles=[
                                        Membership(UNIT, "staf", START,
                                                   atasan=str(HEADS + i))]))
    sekwan = bot.store.read().member("sekwan")
    started = bot.services.start(Start(sekwan, "PDK 2026", START))
    assert len(started.instances) == 2 * n + 1, len(started.instances)


def setup(bot, data_dir: Path, flows: list, args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
    """In the bot's process, before it starts: the burst's officials and the running
    instances beside them."""
    t = time.perf_counter()
    prepare(bot, args.officials)
    if args.running:
        add_running(bot.store, next(f for f in flows if f.id == PDK), args.running, START,
                    2025)
    print(f"prepared {args.officials} staff and their superiors"
          + (f" and {args.running} more running instances" if args.running else "")
          + f" in {time.perf_counter() - t:.1f} s", flush=True)


async def burst(api: FakeBotApi, pressers: list[FakeUser], messages: list[dict],
                nexts: list[FakeUser], label: str,
                marker: str) -> tuple[list[float], list[float], float]:
    """Every presser presses at once; (answer times, notification times, drain time).

    The times are the fake server's own: when it answered each ``answerCallbackQuery`` and
    each next official's ``sendMessage`` (its call log, read every 20 ms). Waiting with a
    task per press polling every millisecond (400 tasks) made the harness, in the same
    process, compete with the bot it measures, and the longer the bot took the more it
    polled: it is the event-loop lag the stall probe then saw.
    """
    started = time.time()
    queries = [u.press_button(m, label) for u, m in zip(pressers, messages, strict=True)]
    pressed = time.time() - started
    assert pressed < 1.0, f"the presses took {pressed:.2f} s"
    wanted = set(queries)
    chats = {u.id for u in nexts}
    answered: dict[str, float] = {}
    notified: dict[int, float] = {}
    seen = 0
    deadline = time.monotonic() + 300
    while len(answered) < len(wanted) or len(notified) < len(chats):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(answered)} of {len(wanted)} answered, "
                               f"{len(notified)} of {len(chats)} notified after 300 s")
        await asyncio.sleep(0.02)
        calls = api.calls()
        for call in calls[seen:]:
            if not call.ok or call.time < started:
                continue
            at = call.time + call.duration - started
            if call.method == "answerCallbackQuery":
                query = str(call.params.get("callback_query_id"))
                if query in wanted:
                    answered.setdefault(query, at)
            elif call.method == "sendMessage":
                chat = int(call.params.get("chat_id", 0))
                if chat in chats and marker in str(call.params.get("text", "")):
                    notified.setdefault(chat, at)
        seen = len(calls)
    answers = [answered[q] for q in queries]
    notes = [notified[u.id] for u in nexts]
    drain = max(*answers, *notes)
    within = collections.Counter(c.method for c in api.calls()
                                 if started <= c.time <= started + drain)
    print("  Bot API calls until the drain ended: "
          + ", ".join(f"{n} {m}" for m, n in within.most_common()))
    return answers, notes, drain


async def sopbot_run(api: FakeBotApi, args: argparse.Namespace) -> dict[str, float]:
    n = args.officials
    staff = [api.user(STAFF + i, f"Staf {i}", language_code="en") for i in range(n)]
    heads = [api.user(HEADS + i, f"Kasubag {i}", language_code="en") for i in range(n)]
    for uid in (1, 2):
        api.user(uid, "Pejabat", language_code="en")
    options = {"now": START, "rate_limit": not args.unpaced,
               "setup": functools.partial(setup, args=args)}
    async with runner(args.in_process, serve_sopbot, api.api_root, api.token, options) as bot:
        t = time.perf_counter()
        step1 = [await u.await_message("Step 1 of", timeout=600) for u in staff]
        print(f"step 1 delivered to all {n} staff in {time.perf_counter() - t:.1f} s")
        await api.await_idle(idle=1.5, timeout=600)
        took = await bot.ask("sync")  # the start-up sync is over before the burst
        print(f"a reminder sync before the burst took {took:.1f} s")
        await bot.ask("stalls")
        answers, notes, drain = await burst(api, staff, step1, heads, "✔️ Selesai",
                                            "Step 2 of")
        burst_stall, _over = await bot.ask("stalls")
        sync_time = await bot.ask("sync")
        sync_stall, _over = await bot.ask("stalls")
    slowest = max(range(n), key=lambda i: notes[i])
    return {"drain": drain, "answer_p50": pct(answers, .5), "answer_p95": pct(answers, .95),
            "answer_max": max(answers) * 1000, "note_p50": pct(notes, .5),
            "note_p95": pct(notes, .95), "slowest": notes[slowest] * 1000,
            "slowest_i": slowest, "burst_stall": burst_stall * 1000,
            "sync": sync_time, "sync_stall": sync_stall * 1000}


async def bare_run(api: FakeBotApi, args: argparse.Namespace,
                   ) -> tuple[list[float], list[float], float]:
    n = args.officials
    pressers = [api.user(500_000 + i, f"A{i}", language_code="en") for i in range(n)]
    partners = [api.user(1_500_000 + i, f"B{i}", language_code="en") for i in range(n)]
    async with runner(args.in_process, serve_bare, api.api_root, api.token, None, 1_000_000) as bot:
        messages = await bot.ask("buttons", [u.id for u in pressers])
        return await burst(api, pressers, messages, partners, "✔️ Selesai", "Step 2 of")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officials", type=int, default=200)
    parser.add_argument("--running", type=int, default=0)
    parser.add_argument("--unpaced", action="store_true")
    parser.add_argument("--in-process", action="store_true",
                        help="run the bots in this process, beside the fake server")
    args = parser.parse_args()
    print("$ python bench/bench_burst.py " + " ".join(sys.argv[1:]))
    with FakeBotApi() as api:
        ours = asyncio.run(sopbot_run(api, args))
        answers, notes, bare_drain = asyncio.run(bare_run(api, args))
    n = args.officials
    print(f"{n} officials pressing at once; all answered and all next officials notified:")
    print(f"  sopbot{' (unpaced)' if args.unpaced else ' (paced as sopbot run)'}: "
          f"{ours['drain']:.2f} s   bare PTB bot: {bare_drain:.2f} s   ratio "
          f"{ours['drain'] / bare_drain:.1f}×  (target ≤ 2×)")
    print(f"  sopbot answer p50/p95/max {ours['answer_p50']:.0f}/{ours['answer_p95']:.0f}/"
          f"{ours['answer_max']:.0f} ms; bare p50/p95 {pct(answers, .5):.0f}/"
          f"{pct(answers, .95):.0f} ms")
    print(f"  sopbot next official p50/p95 {ours['note_p50']:.0f}/{ours['note_p95']:.0f} ms; "
          f"slowest: Kasubag {ours['slowest_i']} after {ours['slowest']:.0f} ms; "
          f"bare p50/p95 {pct(notes, .5):.0f}/{pct(notes, .95):.0f} ms")
    print(f"  worst event-loop stall: during the burst {ours['burst_stall']:.0f} ms, during "
          f"the reminder sync after it ({ours['sync']:.1f} s) {ours['sync_stall']:.0f} ms "
          f"(target ≤ 50 ms)")
    print("  load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
