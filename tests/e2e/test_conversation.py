"""Typed text in the chat (issue 12): a hedge never decides; in doubt the bot asks, with Ya /
Tidak buttons bound to the official, the step and its round; commands typed while a revision
reason is awaited stay commands; a decision typed without replying finds its step."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.engine.instance import Action
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step, step_button_data
from tests.support.conversation import current, to_step_9
from tests.support.offices import UNIT, dispositions, kesbangpol

JSON = dict






async def test_hedges_never_decide_and_unmistakable_replies_do(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        msg = await to_step_9(h, o)
        for hedge in ("Sudah saya terima, tapi belum saya periksa. Besok ya.",
                      "Ok, nanti saya pelajari dulu", "Sudah saya baca, tapi belum setuju",
                      "setuju?"):
            answer = await h.say(o["sekretaris"], hedge, reply_to=msg)
            assert "nothing was recorded for step 9" in answer["text"], (hedge, answer["text"])
            assert "\"setuju\"" in answer["text"] and step_button_data(answer) == []
            assert current(h) == 9
        await h.say(o["sekretaris"], "acc pak 🙏", reply_to=msg, expect="Approved")
        assert current(h) == 10
        approval = [d for d in dispositions(h) if d.step_no == 9]
        assert [d.action for d in approval] == [Action.APPROVE]


async def test_a_revision_in_other_words_is_asked_and_ya_sends_it_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        msg = await to_step_9(h, o)
        sek = o["sekretaris"]
        question = await h.say(sek, "belum sesuai, indikator sasaran 2 belum terukur",
                               reply_to=msg)
        assert question["text"].startswith(
            "Do you send step 9 «Corrects the draft Performance Agreement» back for revision")
        assert "«belum sesuai, indikator sasaran 2 belum terukur»" in question["text"]
        labels = [text for text, _data in h.api.buttons(question)]
        assert labels[0].startswith("🔁 Ya") and labels[1].startswith("Tidak")
        assert current(h) == 9  # nothing happened yet
        # someone else cannot use the question's button, even with its data
        data = h.api.buttons(question)[0][1]
        other = await h.answer(o["kepala"].press(2, data, crafted=True))  # his welcome
        assert other["text"] == "This button is no longer valid."
        # a double press: both queued before the bot handles either; one revision
        q1 = sek.press_button(question, labels[0])
        q2 = sek.press_button(question, labels[0])
        first, second = await h.answer(q1), await h.answer(q2)
        assert first["text"] == "Done." and second["text"].startswith("Already decided by")
        back = await o["kasubbag"].await_message(is_step(8, 2))
        assert "indikator sasaran 2 belum terukur" in back["text"]
        revisions = [d for d in dispositions(h) if d.action is Action.REVISE]
        assert [(d.step_no, d.note) for d in revisions] == [
            (9, "belum sesuai, indikator sasaran 2 belum terukur")]
        edited = h.api.message(sek.id, question["message_id"])
        assert h.api.buttons(edited) == []


async def test_tidak_does_nothing_and_a_moved_step_makes_the_question_stale(
        tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        msg = await to_step_9(h, o)
        sek = o["sekretaris"]
        question = await h.say(sek, "oke sudah saya cek, lanjut", reply_to=msg,
                               expect="Do you approve step 9")
        answer = await h.press(sek, question, "Tidak")
        assert answer["text"] == "Nothing was changed." and current(h) == 9
        question = await h.say(sek, "oke sudah saya cek, lanjut", reply_to=msg,
                               expect="Do you approve step 9")
        await h.press(sek, msg, "✅ Setujui")  # decided with the button meanwhile
        answer = await h.press(sek, question, "✅ Ya, setujui")
        assert answer["text"].startswith("Already decided by Sekar")
        assert [d.action for d in dispositions(h) if d.step_no == 9] == [Action.APPROVE]


async def test_a_reply_to_a_decided_step_never_says_nothing_was_recorded_for_it(
        tmp_path: Path) -> None:
    """Bu Camat thanked on the step she had just marked done ("makasih ya") and was told
    "nothing was recorded for step 1", as if her decision were lost (found in the demo)."""
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        msg = await to_step_9(h, o)
        sek = o["sekretaris"]
        await h.press(sek, msg, "✅ Setujui")
        answer = await h.say(sek, "makasih ya", reply_to=msg, expect="welcome")
        assert answer["text"].startswith("You are welcome")
        answer = await h.say(sek, "nanti sy cek lg", reply_to=msg, expect="Nothing new")
        assert answer["text"].startswith("Nothing new was recorded: step 9 «")
        assert "no longer waits for anyone's decision here" in answer["text"]
        assert "nothing was recorded for step" not in answer["text"]
        # words that might mean "yes" ask nothing about a step that no longer waits
        answer = await h.say(sek, "oh iya td lupa", reply_to=msg, expect="Nothing new")
        assert h.api.buttons(answer) == []
        assert [d.action for d in dispositions(h) if d.step_no == 9] == [Action.APPROVE]


async def test_a_decision_typed_without_replying_finds_its_step(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        answer = await h.say(o["kasubbag"], "selesai")
        assert answer["text"] == "No step is waiting for you now, so nothing was recorded."
        # the Sekretaris starts the PK and gives step 1's order himself (a starter)
        await h.say(o["sekretaris"], "mulai PK 2025", expect="Started")
        await o["sekretaris"].await_message(is_step(1, 1))
        question = await h.say(o["sekretaris"], "selesai")  # exactly one open step
        assert question["text"].startswith("Do you mark step 1 «Orders the drafting")
        assert "What I understand" not in question["text"]
        await h.press(o["sekretaris"], question, "✅ Ya, selesai")
        await o["kasubbag"].await_message(is_step(2, 1))
        assert current(h) == 2
        # two flows waiting for the same official: a list, each with its button
        await h.say(o["sekretaris"], "mulai PK 2026", expect="Started")
        await o["sekretaris"].await_message(is_step(1, 1))
        await h.say(o["sekretaris"], "mulai PK 2027", expect="Started")
        await o["sekretaris"].await_message(is_step(1, 1))
        listing = await h.say(o["sekretaris"], "sudah selesai pak")
        assert listing["text"].startswith("Several steps are waiting for you.")
        labels = [text for text, _data in h.api.buttons(listing)]
        assert labels == ["✅ Ya, selesai · 1 PK 2026", "✅ Ya, selesai · 1 PK 2027", "Tidak"]
        await h.press(o["sekretaris"], listing, labels[1])
        repo = h.services.store.read()
        by_year = {i.year: i.current.no for i in repo.instances(unit=UNIT)}
        assert by_year == {2025: 2, 2026: 1, 2027: 2}


async def test_commands_while_a_reason_is_awaited_stay_commands(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        msg = await to_step_9(h, o)
        sek = o["sekretaris"]
        await h.press(sek, msg, "🔁 Revisi")
        prompt = await h.seen(sek, "What must be revised?")
        assert prompt.get("force_reply") is True  # Telegram opens the reply box
        for command in ("status PK 2025", "/tugas", "cek status pk 2025"):
            sek.send_text(command)
            answer = await sek.await_message(None)
            assert "revision" not in answer["text"].split("\n")[0], answer["text"]
            reminder = await sek.await_message("still awaits the revision reason")
            assert reminder["text"].startswith("Step 9 «Corrects the draft Performance Agreement»")
            assert reminder.get("force_reply") is True
        assert current(h) == 9 and not [d for d in dispositions(h)
                                        if d.action is Action.REVISE]
        await h.say(sek, "Indikator sasaran 2 belum terukur", reply_to=prompt,
                    expect="Sent back for revision")
        revision = next(d for d in dispositions(h) if d.action is Action.REVISE)
        assert revision.note == "Indikator sasaran 2 belum terukur"


async def test_status_and_start_as_people_type_them_in_indonesian(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        code = h.services.create_invite(unit=UNIT, role="sekretaris", now=h.clock(),
                                        name="Sekar", salutation="Bapak").code
        sekretaris = h.new_user("Sekar", language="id")
        await h.say(sekretaris, f"/start {code}", expect="Selamat datang")
        started = await h.say(sekretaris, "Mulai PK 2026 ya pak", expect="telah dimulai")
        assert "(PK 2026) telah dimulai. Langkah 1 menunggu Bapak." in started["text"]
        step = await sekretaris.await_message(is_step(1, 1))
        for text in ("Status PK 2026?", "cek status pk 2026", "posisi PK 2026",
                     "PK 2026 sudah sampai mana?", "status perjanjian kinerja 2026"):
            answer = await h.say(sekretaris, text, expect="📊")
            assert "Langkah 1 dari 13" in answer["text"], (text, answer["text"])
        question = await h.say(sekretaris, "sudah pak, tapi nanti saya cek lagi", reply_to=step)
        assert "belum ada yang dicatat" in question["text"]
        question = await h.say(sekretaris, "sudah saya kirim drafnya", reply_to=step)
        assert question["text"].startswith("Apakah Bapak menyatakan langkah 1"), \
            question["text"]
        assert [t for t, _d in h.api.buttons(question)] == ["✅ Ya, selesai", "Tidak"]


async def test_a_reply_the_moment_the_step_arrives_finds_its_step(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sender records which step a message belongs to a moment after Telegram took it:
    an official who replies at once is not told that the message is not a step."""
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        real = h.services.outbox_progress

        def slow_record(*args: object, **kwargs: object) -> object:
            time.sleep(0.8)  # the round's write comes late (a busy store)
            return real(*args, **kwargs)

        monkeypatch.setattr(h.services, "outbox_progress", slow_record)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        step1 = await o["sekretaris"].await_message(is_step(1, 1))
        assert h.services.step_message(o["sekretaris"].id, step1["message_id"]) is None
        answer = await h.say(o["sekretaris"], "selesai", reply_to=step1, expect="Marked done")
        assert "not a step" not in answer["text"]
        assert current(h) == 2


async def test_fixing_words_on_a_task_step_offer_no_revision(tmp_path: Path) -> None:
    """A task cannot be sent back for revision: "sdh sy perbaiki" on one is not asked as a
    revision (its Ya would be refused); nothing is recorded and the way to finish is said."""
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        step1 = await o["sekretaris"].await_message(is_step(1, 1))
        answer = await h.say(o["sekretaris"], "sdh sy perbaiki pak, mohon dicek kembali 🙏",
                             reply_to=step1)
        assert "nothing was recorded for step 1" in answer["text"], answer["text"]
        assert "\"selesai\"" in answer["text"] and step_button_data(answer) == []
        assert h.api.buttons(answer) == []
        assert current(h) == 1


async def test_a_reply_while_the_steps_attachments_still_go_finds_its_step(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The step message is in the chat before its attachments have gone (the sender's item
    is not over): a reply at that moment waits for it, and is not told it is not a step."""
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        sender = h.app.bot_data["runtime"].sender
        real = sender._send

        async def send_then_attachments(*args: object, **kwargs: object) -> object:
            sent = await real(*args, **kwargs)
            await asyncio.sleep(0.8)  # the attachments, slow to go
            return sent

        monkeypatch.setattr(sender, "_send", send_then_attachments)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        step1 = await o["sekretaris"].await_message(is_step(1, 1))
        answer = await h.say(o["sekretaris"], "selesai", reply_to=step1, expect="Marked done")
        assert "not a step" not in answer["text"]
        assert current(h) == 2
