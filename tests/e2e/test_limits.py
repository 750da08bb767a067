"""Telegram's limits by its own count (UTF-16 units): no content may leave the next step without
a working notification (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.textlimits import utf16_len
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step, step_button_data
from tests.support.conversation import to_step_9
from tests.support.offices import kesbangpol


@pytest.mark.parametrize("reason", [
    "👍" * 2000,  # 4,000 units: two each, beyond the Basic Multilingual Plane
    "✅" * 4000,  # 4,000 emoji of one unit each
    ("Indikator kinerja belum terukur. " * 121)[:3990],  # about 3,990 plain characters
], ids=["2000-wide-emoji", "4000-emoji", "3990-plain"])
async def test_a_huge_revision_reason_still_leaves_a_working_next_step(
        tmp_path: Path, reason: str) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        msg = await to_step_9(h, o)
        await h.say(o["sekretaris"], f"revisi: {reason}", reply_to=msg,
                    expect="Sent back for revision")
        back = await o["kasubbag"].await_message(is_step(8, 2), timeout=10)
        # one screen: the reason first (shortened), the step, its deadline, the buttons
        lines = back["text"].split("\n")
        assert lines[1].startswith("🔁 Sent back for revision by Sekar: ")
        assert "(shortened: the whole text is under ℹ️ Rincian)" in back["text"]
        assert utf16_len(back["text"]) <= 1200
        # the whole reason on demand, split by Telegram's count
        before = len(h.api.messages(o["kasubbag"].id))
        await h.press(o["kasubbag"], back, "ℹ️ Rincian")
        parts = await h.api.await_for(
            lambda: (m := h.api.messages(o["kasubbag"].id)[before:])
            and reason in "".join(x["text"] for x in m) and m)
        assert parts[0]["text"].startswith("📋") and "Role: Head of Program" in parts[0]["text"]
        assert all(utf16_len(m["text"]) <= 4096 for m in parts)
        assert reason in "".join(m["text"] for m in parts)
        # the decided message was edited within the limit: its buttons are gone
        edited = h.api.message(o["sekretaris"].id, msg["message_id"])
        assert step_button_data(edited) == [] and utf16_len(edited["text"]) <= 4096
        # the next step works: its button, and a reply to it
        await h.press(o["kasubbag"], back, "✔️ Selesai")
        again = await o["sekretaris"].await_message(is_step(9, 2), timeout=10)
        await h.say(o["sekretaris"], "setuju", reply_to=again, expect="Approved")
        decided = h.api.message(o["kasubbag"].id, back["message_id"])
        assert step_button_data(decided) == [] and utf16_len(decided["text"]) <= 4096


async def test_button_toasts_are_cut_at_a_word(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        msg = await to_step_9(h, o)
        answer = await h.press(o["sekretaris"], msg, "✅ Setujui")
        text = answer["text"]
        assert utf16_len(text) <= 200
        assert text.endswith((".", "…")), text
        if text.endswith("…"):
            assert text[:-1] in "Approved: Corrects the draft Performance Agreement."
