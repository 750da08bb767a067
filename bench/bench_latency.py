"""Disposition latency: from a button press to the next official's notification.

sopbot (built as ``sopbot run`` builds it, Telegram's pace kept) and a bare
python-telegram-bot bot (answers the callback, sends one message to another chat) run one
after the other against the same fake Bot API server in the same run, each in a process of
its own as in production (``--in-process``: beside the server, sharing its GIL; see
``bench/_bot_process.py``). Printed: p50/p95 of
press → next official's message and of press → answerCallbackQuery, the ratios, and the
worst event-loop stall while sopbot was measured. Only presses whose next official is
another chat count (one chat's messages are a second apart by Telegram's rules). Usage::

    python bench/bench_latency.py [--instances 10] [--history] [--running 1000] [--profile]
                                  [--in-process]

``--history`` stores 10,000 finished instances with 200,000 dispositions first;
``--running N`` starts N instances of the per-official procedure (their notifications
already delivered) beside the measured ones; ``--profile`` prints the timelines of
the median and the slowest press (service calls, store transactions, file rewrites, Bot API calls).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._bot_process import runner  # noqa: E402
from bench._press_kit import (  # noqa: E402
    add_history,
    add_running,
    pct,
    serve_bare,
    serve_sopbot,
    served,
    summary,
    wait_answer,
    wait_new,
)
from fakeapi import FakeBotApi, FakeUser  # noqa: E402

__all__ = ["wait_answer", "wait_new"]  # bench_fanout.py imports them from here

UNIT = "kec-neglasari"
PDK = "pengumpulan-data-kinerja-dprd-nganjuk"
START = datetime(2026, 1, 5, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
#: The quiet before each measured press, for both bots: Telegram paces one chat at a message
#: a second, so sopbot's presses are 1.1 s apart, and the bare bot's are too, so that both
#: are measured waking from the same idle. (The bare bot was pressed every 50 ms, its
#: process and caches kept warm: p50 10.7 ms where 1.1 s apart gave 12.8-13.1 ms in the
#: same session, sopbot's own figure 15.8-16.0 ms either way.)
QUIET = 1.1


class Press(NamedTuple):
    """One press's latencies in seconds: as the bench saw them (polling the fake server
    every millisecond) and as the server received them (the call's arrival, its own clock)."""

    t0: float  # the press (time.perf_counter)
    answer: float
    note: float
    served_answer: float
    served_note: float


async def press(api: FakeBotApi, user: FakeUser, message: dict, label: str, nxt: FakeUser,
                marker: str) -> Press:
    """Press `label` on `message` as `user`; wait for the answer and `nxt`'s new message."""
    before = len(nxt.messages())
    wall, t0 = time.time(), time.perf_counter()
    query = user.press_button(message, label)
    answered, notified = await asyncio.gather(wait_answer(api, query),
                                              wait_new(nxt, before, marker))
    answer_call, note_call = await asyncio.gather(
        served(api, "answerCallbackQuery", wall,
               lambda p: p.get("callback_query_id") == query),
        served(api, "sendMessage", wall,
               lambda p: p.get("chat_id") == nxt.id and marker in (p.get("text") or "")))
    return Press(t0, answered - t0, notified - t0, answer_call - wall, note_call - wall)


def step_message(user: FakeUser, step: str, year: int) -> dict:
    return [m for m in user.messages() if f"Step {step} of" in (m.get("text") or "")
            and f"PK {year}" in m["text"]][-1]


def setup(bot, data_dir: Path, flows: list, args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
    """The stored history and the running instances (in the bot's process, before it starts)."""
    if args.history:
        add_history(data_dir, next(f for f in flows if f.unit.id == UNIT), 10_000, 200_000)
    if args.running:
        add_running(bot.store, next(f for f in flows if f.id == PDK), args.running, START)


async def sopbot_run(api: FakeBotApi, args: argparse.Namespace,
                     ) -> tuple[list[Press], list[tuple[float, list[str]]], tuple[float, float]]:
    presses: list[Press] = []
    profiles: list[tuple[float, list[str]]] = []  # (latency, timeline) of each measured press
    options = {"now": START, "profile": args.profile,
               "setup": functools.partial(setup, args=args)}
    async with runner(args.in_process, serve_sopbot, api.api_root, api.token, options) as bot:
        users = []
        for uid, name, role in ((2001, "Pak Camat", "camat"),
                                (2002, "Bu Perenkeu", "kasubag_perenkeu")):
            code = await bot.ask("invite", UNIT, role, name)
            user = api.user(uid, name, language_code="en")
            user.send_text(f"/start {code}")
            await user.await_message("Welcome", timeout=60)
            users.append(user)
        camat, perenkeu = users
        await bot.ask("sync")  # the start-up's first reminder sync is over
        startup_stall, _over = await bot.ask("stalls")  # (from here on: the presses)
        for year in range(2026, 2026 + args.instances):
            await bot.ask("start", camat.id, f"PK {year}")
            await camat.await_message(lambda m, y=year: "Step 1 of" in m.get("text", "")
                                      and f"PK {y}" in m["text"], timeout=60)
            await asyncio.sleep(QUIET)  # a quiet chat: no pacing inside the measurement
            for who, step, label, nxt, marker in (
                    (camat, "1", "✔️ Selesai", perenkeu, "Step 2 of"),
                    (perenkeu, "2", "✔️ Selesai", perenkeu, "Step 3 of"),
                    (perenkeu, "3", "✔️ Selesai", camat, "Step 4 of")):
                measured = nxt is not who  # (one chat's messages are a second apart)
                if measured and args.profile:
                    await bot.ask("record")
                done = await press(api, who, step_message(who, step, year), label, nxt,
                                   marker)
                if measured:
                    presses.append(done)
                    if args.profile:
                        await asyncio.sleep(0.5)  # the sender's bookkeeping after the send
                        profiles.append((done.served_note, await bot.ask(
                            "report", done.t0, done.t0 + done.served_answer,
                            done.t0 + done.served_note)))
                await asyncio.sleep(QUIET)
            await wait_answer(api, camat.press_button(step_message(camat, "4", year),
                                                      "✅ Setujui"))
            await asyncio.sleep(QUIET)
        worst, _over = await bot.ask("stalls")
    return presses, profiles, (worst, startup_stall)


async def bare_run(api: FakeBotApi, args: argparse.Namespace, count: int) -> list[Press]:
    """The bare bot: answers the callback and sends one message to chat 3002."""
    a_user = api.user(3001, "A", language_code="en")
    b_user = api.user(3002, "B", language_code="en")
    presses: list[Press] = []
    async with runner(args.in_process, serve_bare, api.api_root, api.token, 3002) as bot:
        [message] = await bot.ask("buttons", [a_user.id])
        for _ in range(count):
            presses.append(await press(api, a_user, message, "✔️ Selesai", b_user, "Step 2 of"))
            await asyncio.sleep(QUIET)
    return presses


def typical(timelines: list[list[str]]) -> list[str]:
    """Each mark's median time from the press and median duration over the presses (its
    first occurrence after the press in each), in the order of the medians."""
    seen: dict[str, list[tuple[float, float]]] = {}
    for lines in timelines:
        first: dict[str, tuple[float, float]] = {}
        for line in lines[1:]:
            at, *rest = line.split(None, 2)
            took, name = (rest[0], rest[1]) if len(rest) == 2 and rest[0][0].isdigit() \
                else ("", " ".join(rest))
            if float(at) >= 0 and name not in first:
                first[name] = (float(at), float(took or 0))
        for name, mark in first.items():
            seen.setdefault(name, []).append(mark)
    rows = sorted((statistics.median(a for a, _t in marks),
                   statistics.median(t for _a, t in marks), len(marks), name)
                  for name, marks in seen.items())
    return [f"{at:>14.2f} {took:>8.2f}  {name}" + (f"  (in {n})" if n < len(timelines) else "")
            for at, took, n, name in rows]


def compare(sopbot: list[Press], bare: list[Press], note: str, answer: str) -> None:
    """p50/p95 of both bots, the ratios, and sopbot's every press."""
    series = {name: ([getattr(p, note) for p in runs], [getattr(p, answer) for p in runs])
              for name, runs in (("sopbot", sopbot), ("bare PTB bot", bare))}
    print(f"{'':<36}{'p50 ms':>9}{'p95 ms':>9}")
    for name, (n, a) in series.items():
        print(f"  {name + ': press → next official':<34}{pct(n, .5):>9.1f}{pct(n, .95):>9.1f}")
        print(f"  {name + ': press → answer':<34}{pct(a, .5):>9.1f}{pct(a, .95):>9.1f}")
    (notes, answers), (bare_notes, bare_answers) = series.values()
    print(f"  ratio (next official) p50 {pct(notes, .5) / pct(bare_notes, .5):.2f}×, "
          f"p95 {pct(notes, .95) / pct(bare_notes, .95):.2f}×  (n={len(notes)} presses; "
          f"target ≤ 1.3×)")
    print(f"  ratio (answer) p50 {pct(answers, .5) / pct(bare_answers, .5):.2f}×, "
          f"p95 {pct(answers, .95) / pct(bare_answers, .95):.2f}×")
    print(f"  sopbot next official: {summary(notes)}; bare: {summary(bare_notes)}")
    print("  each press (ms):", " ".join(f"{n * 1000:.1f}" for n in notes))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--history", action="store_true",
                        help="10,000 finished instances with 200,000 dispositions stored")
    parser.add_argument("--running", type=int, default=0,
                        help="instances of the per-official procedure running meanwhile")
    parser.add_argument("--profile", action="store_true",
                        help="print the timelines of the median and the slowest press")
    parser.add_argument("--in-process", action="store_true",
                        help="run the bots in this process, beside the fake server")
    args = parser.parse_args()
    print("$ python bench/bench_latency.py " + " ".join(sys.argv[1:]))
    with FakeBotApi() as api:
        sopbot, profiles, worst = asyncio.run(sopbot_run(api, args))
        bare = asyncio.run(bare_run(api, args, len(sopbot)))
    if profiles:
        ranked = sorted(profiles, key=lambda p: p[0])
        for what, (latency, lines) in (("the median press", ranked[len(ranked) // 2]),
                                       ("the slowest press", ranked[-1])):
            print(f"{what} ({latency * 1000:.1f} ms to the next official's request):")
            print("\n".join(lines))
        print(f"the median of every press (n={len(profiles)}; each mark's first time from "
              "the press):")
        print("\n".join(typical([lines for _latency, lines in profiles])))
    print("Received by the fake server (each call's arrival, the server's own clock):")
    compare(sopbot, bare, "served_note", "served_answer")
    print("Seen by this benchmark (polling the server every millisecond beside it):")
    compare(sopbot, bare, "note", "answer")
    print(f"worst event-loop stall while sopbot was measured: {worst[0] * 1000:.0f} ms "
          f"(at its start-up, before the first press: {worst[1] * 1000:.0f} ms)")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
