"""Fan-out at Telegram's pace: N reminders owed at once, against the limit-enforcing fake.

The real bot (as ``sopbot run`` builds it, TinyDB store) starts with N officials, each owed
a reminder (the first 50 owed two, to check the order within a chat), already in the outbox
as a round of firing leaves them; the fake Bot API enforces Telegram's flood limits (429 with
retry_after above 30 msg/s overall, 1/s per chat). While the round goes out, an official
presses a step button: its answer and the next official's notification are timed. Printed:
sustained msg/s, lost, duplicated, 429s (and any left unhandled: failed items), the order
per chat, the interactive latency. Planning and firing are not in this figure (see
bench_planning.py). Usage::

    python bench/bench_fanout.py [--officials 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_latency import wait_answer, wait_new  # noqa: E402
from bot.bootstrap import build_bot, running  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.engine.loader import load_flows  # noqa: E402
from bot.storage.records import Member, Membership, OutboxItem  # noqa: E402
from fakeapi import FakeBotApi  # noqa: E402

FLOWS_DIR = ROOT / "flows"
UNIT = "kec-neglasari"
START = datetime(2026, 1, 5, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
FIRST = 100_000  # Telegram ids of the officials


def prepare(bot, n: int) -> str:  # type: ignore[no-untyped-def]
    """N officials (stored as joined) and N(+50) reminders owed, written into the working
    set in one go (inserting them one by one through TinyDB is O(N²))."""
    flow_id = next(f.id for f in bot.services.flows.values() if f.unit.id == UNIT)
    members = [Member(str(FIRST + i), FIRST + i, f"Pejabat {i}", START,
                      telegram_language="en",
                      roles=[Membership(UNIT, "pejabat_unit_kerja", START)]) for i in range(n)]
    items = [OutboxItem(id=secrets.token_hex(8), member_id=str(FIRST + i), chat_id=FIRST + i,
                        kind="reminder", created_at=START, payload={
                            "type": "step", "instance_id": "bench-pk", "flow_id": flow_id,
                            "year": 2026, "step_no": 1, "round": 1,
                            "deadline": START.isoformat(), "kind": "overdue", "n": rnd})
             for rnd in (1, 2) for i in range(n if rnd == 1 else min(50, n))]
    bot.store.compact()  # the file alone holds the working set (its journal folded in)
    path = bot.store.path
    tables = json.loads(path.read_text()) if path.exists() else {}
    for name, docs in (("members", [m.to_doc() for m in members]),
                       ("outbox", [i.to_doc() for i in items])):
        table = tables.setdefault(name, {})
        first = max((int(k) for k in table), default=0) + 1
        table.update({str(first + k): doc for k, doc in enumerate(docs)})
    path.write_text(json.dumps(tables))
    return flow_id


def timeline(api: FakeBotApi) -> None:
    """Per second of the round: messages accepted, 429s (private chat / overall)."""
    calls = [c for c in api.calls("sendMessage") if int(c.params["chat_id"]) >= FIRST]
    if not calls:
        return
    t0 = min(c.time for c in calls)
    rows: dict[int, list[int]] = {}
    for c in calls:
        row = rows.setdefault(int(c.time - t0), [0, 0])
        row[0 if c.ok else 1] += 1
    print("second: accepted/429 " + " ".join(f"{s}:{a}/{r}" for s, (a, r) in
                                              sorted(rows.items())))
    # A 429 is the chat's own limit when the chat had a message in the second before it.
    last: dict[int, float] = {}
    own = overall = 0
    for c in sorted(calls, key=lambda c: c.time):
        chat = int(c.params["chat_id"])
        if c.ok:
            last[chat] = c.time
        elif c.time - last.get(chat, -9.0) < 1.0:
            own += 1
        else:
            overall += 1
    print(f"429s: {own} for the chat's own limit, {overall} for the overall one")


async def run(n: int, show_timeline: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeBotApi(limits=True) as api:
        settings = Settings(token=api.token, api_url=api.api_root, data_dir=Path(tmp),
                            flows_dir=FLOWS_DIR)
        bot = build_bot(settings, load_flows(FLOWS_DIR), clock=lambda: START)
        t = time.perf_counter()
        await asyncio.to_thread(prepare, bot, n)
        print(f"prepared {n} officials in {time.perf_counter() - t:.1f} s")
        users = [api.user(FIRST + i, f"Pejabat {i}", language_code="en") for i in range(n)]
        expected = n + min(50, n)
        async with running(bot, poll_timeout=1):
            began = time.perf_counter()
            cpu_began = time.process_time()
            camat = api.user(2001, "Pak Camat", language_code="en")
            perenkeu = api.user(2002, "Bu Perenkeu", language_code="en")
            for user, role in ((camat, "camat"), (perenkeu, "kasubag_perenkeu")):
                invite = bot.services.create_invite(unit=UNIT, role=role, now=START,
                                                    name=user.first_name)
                user.send_text(f"/start {invite.code}")
                await user.await_message("Welcome", timeout=60)
            camat.send_text("mulai PK 2026")
            step1 = await camat.await_message("Step 1 of", timeout=60)
            await asyncio.sleep(1.2)
            t0 = time.perf_counter()
            query = camat.press_button(step1, "✔️ Selesai")
            answered, notified = await asyncio.gather(
                wait_answer(api, query, timeout=60),
                wait_new(perenkeu, len(perenkeu.messages()), "Step 2 of", timeout=60))
            press_at = t0 - began
            deadline = time.perf_counter() + 60 + n / 10
            while time.perf_counter() < deadline:
                ok = [c for c in api.calls("sendMessage", ok=True)
                      if int(c.params["chat_id"]) >= FIRST]
                if len(ok) >= expected:
                    break
                await asyncio.sleep(0.5)
            cpu = time.process_time() - cpu_began
            wall = time.perf_counter() - began
            times = sorted(c.time for c in ok)
            # wall-clock times of the fake's accepted calls, relative to the bot's start
            offset = time.time() - time.perf_counter()
            first_at, last_at = times[0] - offset - began, times[-1] - offset - began
            # the steadiest second-by-second rate: the busiest full 10 s window
            window = max((sum(1 for x in times if a <= x < a + 10) for a in times), default=0)
            await asyncio.sleep(1.0)
            with bot.store.transaction(record_update=False) as repo:
                failed = [i for i in repo.outbox("failed") if i.kind == "reminder"]
                pending = [i for i in repo.outbox("pending") if i.kind == "reminder"]
            if show_timeline:
                timeline(api)
        counts = [len(u.messages()) for u in users]
        lost = sum(max(0, (2 if i < 50 else 1) - c) for i, c in enumerate(counts))
        dup = sum(max(0, c - (2 if i < 50 else 1)) for i, c in enumerate(counts))
        disorder = sum(1 for u in users[:50]
                       if [("Reminder 1." in m["text"]) for m in u.messages()] != [True, False])
        span = max(last_at - first_at, 1e-9)
        print(f"$ python bench/bench_fanout.py --officials {n}")
        print(f"messages owed {expected}, delivered {sum(counts)} in {span:.1f} s "
              f"(first at {first_at:.1f} s, last at {last_at:.1f} s after start)")
        print(f"sustained rate        {sum(counts) / span:.1f} msg/s; busiest 10 s: "
              f"{window / 10:.1f} msg/s   (target ≥ 28; Telegram allows 30)")
        print(f"lost {lost}, duplicated {dup}, out of order (chats with two) {disorder}")
        print(f"429 answered by the fake {api.flood_rejections}; unhandled (failed items) "
              f"{len(failed)}; still pending {len(pending)}")
        print(f"CPU of this process (bot and fake server) {cpu:.1f} s in {wall:.1f} s "
              f"({cpu / max(sum(counts), 1) * 1000:.1f} ms a message); load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"interactive press at {press_at:.1f} s: answered in "
              f"{(answered - t0) * 1000:.0f} ms, next official notified in "
              f"{(notified - t0) * 1000:.0f} ms   (target ≤ 1 s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officials", type=int, default=1000)
    parser.add_argument("--timeline", action="store_true",
                        help="print the messages accepted and refused per second")
    args = parser.parse_args()
    asyncio.run(run(args.officials, args.timeline))


if __name__ == "__main__":
    main()
