"""Disposition latency: from a button press to the next official's notification.

sopbot (built as ``sopbot run`` builds it, Telegram's pace kept) and a bare
python-telegram-bot bot (answers the callback, sends one message to another chat) run one
after the other against the same fake Bot API server in the same run. Printed: p50/p95 of
press → next official's message and of press → answerCallbackQuery, and the ratios.
Only presses whose next official is another chat count (one chat's messages are a second
apart by Telegram's rules). Usage::

    python bench/bench_latency.py [--instances 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes  # noqa: E402

from bot.bootstrap import build_bot, running  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.engine.loader import load_flows  # noqa: E402
from fakeapi import FakeBotApi, FakeUser  # noqa: E402

FLOWS_DIR = ROOT / "flows"
UNIT = "kec-neglasari"
START = datetime(2026, 1, 5, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


async def wait_new(user: FakeUser, before: int, marker: str, timeout: float = 20.0) -> float:
    """Wait (polling every millisecond) until `user` has a new message containing `marker`."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        msgs = user.messages()
        if len(msgs) > before and any(marker in (m.get("text") or "") for m in msgs[before:]):
            return time.perf_counter()
        await asyncio.sleep(0.001)
    raise TimeoutError(f"no {marker!r} for {user.first_name}")


async def wait_answer(api: FakeBotApi, query_id: str, timeout: float = 20.0) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if api.callback_answer(query_id):
            return time.perf_counter()
        await asyncio.sleep(0.001)
    raise TimeoutError("callback not answered")


async def press(api: FakeBotApi, user: FakeUser, message: dict, label: str, nxt: FakeUser,
                marker: str) -> tuple[float, float]:
    """(seconds to the answer, seconds to the next official's message)."""
    before = len(nxt.messages())
    t0 = time.perf_counter()
    query = user.press_button(message, label)
    answered, notified = await asyncio.gather(wait_answer(api, query),
                                              wait_new(nxt, before, marker))
    return answered - t0, notified - t0


async def sopbot_run(api: FakeBotApi, instances: int) -> tuple[list[float], list[float]]:
    answers: list[float] = []
    notes: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(token=api.token, api_url=api.api_root, data_dir=Path(tmp),
                            flows_dir=FLOWS_DIR)
        bot = build_bot(settings, load_flows(FLOWS_DIR), clock=lambda: START)
        async with running(bot, poll_timeout=1):
            users = []
            for uid, name, role in ((2001, "Pak Camat", "camat"),
                                    (2002, "Bu Perenkeu", "kasubag_perenkeu")):
                invite = bot.services.create_invite(unit=UNIT, role=role, now=START, name=name)
                user = api.user(uid, name, language_code="en")
                user.send_text(f"/start {invite.code}")
                await user.await_message("Welcome", timeout=20)
                users.append(user)
            camat, perenkeu = users
            for year in range(2026, 2026 + instances):
                camat.send_text(f"mulai PK {year}")
                await camat.await_message("Started", timeout=20)
                m1 = await camat.await_message(lambda m, y=year: "Step 1 of" in m.get("text", "")
                                               and str(y) in m["text"], timeout=20)
                await asyncio.sleep(1.1)  # a quiet chat: no pacing inside the measurement
                a, n = await press(api, camat, m1, "✔️ Selesai", perenkeu, "Step 2 of")
                answers.append(a)
                notes.append(n)
                m2 = perenkeu.messages()[-1]
                await asyncio.sleep(1.1)
                await press(api, perenkeu, m2, "✔️ Selesai", perenkeu, "Step 3 of")
                await asyncio.sleep(1.1)
                m3 = [m for m in perenkeu.messages() if "Step 3 of" in (m.get("text") or "")][-1]
                a, n = await press(api, perenkeu, m3, "✔️ Selesai", camat, "Step 4 of")
                answers.append(a)
                notes.append(n)
                m4 = [m for m in camat.messages() if "Step 4 of" in (m.get("text") or "")][-1]
                await asyncio.sleep(1.1)
                await wait_answer(api, camat.press_button(m4, "✅ Setujui"))
                await asyncio.sleep(1.1)
    return answers, notes


async def bare_run(api: FakeBotApi, presses: int) -> tuple[list[float], list[float]]:
    """A bare PTB bot: answers the callback and sends one message to chat 3002."""

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        await context.bot.send_message(3002, "Step 2 of 9: next")

    app = (ApplicationBuilder().token(api.token).base_url(api.api_root + "/bot")
           .base_file_url(api.api_root + "/file/bot").build())
    app.add_handler(CallbackQueryHandler(pressed))
    a_user = api.user(3001, "A", language_code="en")
    b_user = api.user(3002, "B", language_code="en")
    answers: list[float] = []
    notes: list[float] = []
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        message = await app.bot.send_message(3001, "press", reply_markup={
            "inline_keyboard": [[{"text": "✔️ Selesai", "callback_data": "x"}]]})
        for _ in range(presses):
            a, n = await press(api, a_user, {"message_id": message.message_id,
                                             "chat": {"id": 3001}}, "✔️ Selesai",
                               b_user, "Step 2 of")
            answers.append(a)
            notes.append(n)
            await asyncio.sleep(0.05)
        await app.updater.stop()
        await app.stop()
    return answers, notes


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=10)
    args = parser.parse_args()
    print(f"$ python bench/bench_latency.py --instances {args.instances}")
    with FakeBotApi() as api:
        ours = asyncio.run(sopbot_run(api, args.instances))
        bare = asyncio.run(bare_run(api, len(ours[1])))
    print(f"{'':<34}{'p50 ms':>9}{'p95 ms':>9}")
    for name, (answers, notes) in (("sopbot", ours), ("bare PTB bot", bare)):
        print(f"{name + ': press → next official':<34}{pct(notes, .5):>9.1f}"
              f"{pct(notes, .95):>9.1f}")
        print(f"{name + ': press → answer':<34}{pct(answers, .5):>9.1f}"
              f"{pct(answers, .95):>9.1f}")
    print(f"ratio (next official) p50 {pct(ours[1], .5) / pct(bare[1], .5):.1f}×, "
          f"p95 {pct(ours[1], .95) / pct(bare[1], .95):.1f}×  (n={len(ours[1])} presses; "
          f"target ≤ 1.3×)")
    print(f"mean press → next official: sopbot {statistics.mean(ours[1]) * 1000:.1f} ms, "
          f"bare {statistics.mean(bare[1]) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
