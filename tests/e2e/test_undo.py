"""Tarik kembali (issue 12): the official who decided may withdraw for SOPBOT_UNDO_MINUTES,
while the next step has not been acted on; the flow returns to the step, the next officials'
notifications say it was withdrawn and by whom, and the trail keeps both acts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, settings_from_env
from bot.engine.instance import Action
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step, step_button_data
from tests.support.conversation import current, to_step_9
from tests.support.offices import dispositions, kesbangpol
from tests.support.paths import FLOWS_DIR

UNDO = "↩️ Tarik kembali"


async def test_withdraw_returns_the_flow_and_tells_the_next_officials(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        msg = await to_step_9(h, o)
        sek = o["sekretaris"]
        await h.press(sek, msg, "✅ Setujui")
        nexts = [await o["pelaksana"].await_message(is_step(10, 1))]  # Putu, bound since step 4
        decided = await h.api.await_for(
            lambda: (m := h.api.message(sek.id, msg["message_id"]))
            and [t for t, _d in h.api.buttons(m)] == [UNDO] and m)
        assert "✅ Approved by Sekar" in decided["text"]
        answer = await h.press(sek, decided, UNDO)
        assert answer["text"] == "Withdrawn: step 9 is waiting for you again."
        assert current(h) == 9
        # the decider has the step again, with its buttons
        again = await sek.await_message(
            lambda m: m["message_id"] > msg["message_id"] and bool(step_button_data(m)))
        assert "Corrects the draft Performance Agreement" in again["text"]
        # the next officials' notifications say it was withdrawn, and by whom; no buttons
        for who, note in zip(("pelaksana",), nexts, strict=True):
            edited = await h.api.await_for(
                lambda u=o[who], n=note: (m := h.api.message(u.id, n["message_id"]))
                and "withdrew" in m["text"] and m)
            assert "Sekar withdrew the decision on step 9" in edited["text"]
            assert step_button_data(edited) == []
        # the decided message lost its Tarik kembali button
        old = await h.api.await_for(
            lambda: (m := h.api.message(sek.id, msg["message_id"]))
            and not h.api.buttons(m) and m)
        assert "withdrew" in old["text"]
        trail = [d.action for d in dispositions(h) if d.step_no == 9]
        assert trail == [Action.APPROVE, Action.WITHDRAW]
        # the status lists both acts; "this message" belongs to the edited message only
        status = await h.say(o["kepala"], "status PK 2025", expect="📊")
        lines = status["text"].splitlines()
        assert any(line.startswith("• step 9: ✅ Approved by Sekar") for line in lines)
        assert any(line.startswith("• step 9: ↩️ Decision withdrawn by Sekar, ")
                   for line in lines), lines
        assert "this message" not in status["text"]
        # decided again: the flow goes on as before
        await h.press(sek, again, "✅ Setujui")
        await o["pelaksana"].await_message(is_step(10, 2))  # a new activation of step 10
        assert current(h) == 10


async def test_too_late_or_after_the_next_step_nothing_is_withdrawn(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        msg = await to_step_9(h, o)
        sek = o["sekretaris"]
        await h.press(sek, msg, "✅ Setujui")
        step10 = await o["pelaksana"].await_message(is_step(10, 1))
        # the edit of the pressed message goes out after the next official's step
        decided = await h.api.await_for(
            lambda: (m := h.api.message(sek.id, msg["message_id"]))
            and any(text == UNDO for text, _d in h.api.buttons(m)) and m)
        typed = await h.say(sek, "Tarik kembali")  # typed: the bot points to the button
        assert typed["text"].startswith("To withdraw a decision, you press ↩️ Tarik kembali")
        h.clock.advance(timedelta(minutes=11))
        answer = await h.press(sek, decided, UNDO)
        assert answer["text"] == ("Too late to withdraw: a decision may be withdrawn within "
                                  "10 minutes.")
        assert current(h) == 10
        # the next step acted on: a stale button (crafted) withdraws nothing either
        data = h.api.buttons(decided)[0][1]
        await h.press(o["pelaksana"], step10, "✔️ Selesai")
        answer = await h.answer(sek.press(decided, data, crafted=True))
        assert answer["text"].startswith("This decision can no longer be withdrawn")
        assert current(h) == 11
        assert [d.action for d in dispositions(h) if d.step_no == 9] == [Action.APPROVE]
        # once the next step was acted on, no decided message offers Tarik kembali any more
        # but the last one (step 10, by Putu)
        await h.idle()
        offered = [(u, m["message_id"]) for u in o.values() for m in h.api.messages(u.id)
                   if any(text == UNDO for text, _d in h.api.buttons(m))]
        assert offered == [(o["pelaksana"], step10["message_id"])]


def test_undo_minutes_is_validated() -> None:
    env = {"TELEGRAM_BOT_TOKEN": "1:x", "SOPBOT_FLOWS_DIR": str(FLOWS_DIR)}
    assert settings_from_env(env).undo_minutes == 10
    assert settings_from_env({**env, "SOPBOT_UNDO_MINUTES": "0"}).undo_minutes == 0
    for bad in ("-5", "sepuluh", "2000"):
        with pytest.raises(ConfigError) as info:
            settings_from_env({**env, "SOPBOT_UNDO_MINUTES": bad})
        assert "SOPBOT_UNDO_MINUTES" in "\n".join(info.value.problems)
