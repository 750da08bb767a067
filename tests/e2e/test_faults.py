"""The Bot API misbehaves: the bot recovers by itself and delivers what it owes, once."""

from __future__ import annotations

from pathlib import Path

from bot.demo.harness import Harness
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step, step_button_data
from tests.support.offices import UNIT, kesbangpol


def sends_to(h: Harness, chat_id: int, *, step: int) -> list[dict]:
    """Every step-`step` notification that reached the chat."""
    return [m for m in h.api.messages(chat_id) if is_step(step, 1)(m)]


async def test_5xx_burst_then_delivery(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        h.api.fail_next("sendMessage", status=500, count=3)
        h.api.fail_next("sendMessage", status=502, count=1)
        o["sekretaris"].send_text("mulai PK 2025")  # he starts it and holds step 1
        m = await o["sekretaris"].await_message(is_step(1, 1), timeout=20)
        await h.idle()
        assert len(sends_to(h, o["sekretaris"].id, step=1)) == 1
        await h.press(o["sekretaris"], m, "✔️ Selesai")
        await o["kasubbag"].await_message(is_step(2, 1), timeout=10)


async def test_429_waits_retry_after(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        h.api.fail_next("sendMessage", status=429, retry_after=1, count=2)
        o["sekretaris"].send_text("mulai PK 2025")
        await o["sekretaris"].await_message(is_step(1, 1), timeout=20)
        calls = [c for c in h.api.calls("sendMessage")
                 if c.params.get("chat_id") == o["sekretaris"].id]
        refused = [c for c in calls if c.status == 429]
        assert len(refused) == 2
        after = [c for c in calls if c.time > refused[0].time and c.status == 200]
        assert after and after[0].time - refused[0].time >= 0.9  # it waited retry_after
        await h.idle()
        assert len(sends_to(h, o["sekretaris"].id, step=1)) == 1


async def test_timeout_that_delivered_is_sent_again_and_marked_uncertain(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        m = await o["sekretaris"].await_message(is_step(1, 1))
        # Telegram takes the step-2 notification but answers too late for the bot.
        h.api.fail_next("sendMessage", status=None, delay=3.0)
        await h.press(o["sekretaris"], m, "✔️ Selesai")
        await o["kasubbag"].await_message(is_step(2, 1), timeout=20)
        await h.idle()
        copies = sends_to(h, o["kasubbag"].id, step=2)
        repo = h.services.store.read()
        item = next(i for i in repo.outbox("sent")
                    if i.member_id == str(o["kasubbag"].id) and i.kind == "step")
        # The bot could not know the first copy arrived: it resent, and says so.
        assert item.uncertain and len(copies) == 2


async def test_blocked_chat_is_marked_shown_and_not_retried_forever(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        o["kasubbag"].block_bot()
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        m = await o["sekretaris"].await_message(is_step(1, 1))
        await h.press(o["sekretaris"], m, "✔️ Selesai")
        warning = await h.seen(o["kepala"], "cannot be reached")
        assert "Sri" in warning["text"] and "blocked the bot" in warning["text"]
        await h.idle()
        tries = [c for c in h.api.calls("sendMessage") if c.params.get("chat_id") ==
                 o["kasubbag"].id and c.status == 403]
        assert len(tries) == 1  # not retried
        status = await h.say(o["sekretaris"], "status PK 2025", expect="📊")
        assert "Cannot be reached (blocked the bot): Sri" in status["text"]
        # Sri comes back: what she missed is delivered, and the warning goes away
        o["kasubbag"].send_text("/tugas")
        step2 = await o["kasubbag"].await_message(is_step(2, 1), timeout=10)
        assert step_button_data(step2)
        status = await h.say(o["sekretaris"], "status PK 2025", expect="📊")
        assert "Cannot be reached" not in status["text"]


async def test_get_updates_failures_do_not_lose_updates(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        h.api.fail_next("getUpdates", status=502, count=2)
        o["kepala"].send_text("mulai PK 2025")
        await o["sekretaris"].await_message(is_step(1, 1), timeout=20)
        repo = h.services.store.read()
        assert len(repo.instances(unit=UNIT)) == 1


async def test_a_failed_handler_is_retried_not_confirmed(tmp_path: Path) -> None:
    """The disk is full for a moment: the update is not confirmed, and handled again."""
    async with running_bot(tmp_path) as h:
        real = h.services.start
        calls = []

        def flaky(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise OSError(28, "No space left on device")
            return real(*args, **kwargs)

        o = await kesbangpol(h)
        h.services.start = flaky  # type: ignore[method-assign]
        o["kepala"].send_text("mulai PK 2025")
        await o["sekretaris"].await_message(is_step(1, 1), timeout=15)
        assert len(calls) == 2
        assert len(h.services.store.read().instances(unit=UNIT)) == 1
