"""The bot in chat: joining, starting, deciding, asking — including everything done wrong."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from bot.engine.instance import Action
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step, step_button_data
from tests.support.offices import UNIT, dispositions, kesbangpol


async def test_joining_and_bad_codes(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        stranger = h.api.user(5001, "Tamu", language_code="en")
        answer = await h.say(stranger, "halo")
        assert "not registered" in answer["text"] and "invitation" in answer["text"]
        assert step_button_data(answer) == []
        answer = await h.say(stranger, "/start salah-kode")
        assert "not valid" in answer["text"]
        answer = await h.say(stranger, "status PK 2025")
        assert "not registered" in answer["text"]

        invite = h.services.create_invite(unit=UNIT, role="sekretaris", now=h.clock(),
                                          name="Sekar Ayu")
        answer = await h.say(stranger, f"/start {invite.code}")
        assert "Sekar Ayu" in answer["text"] and "as Secretary in" in answer["text"]
        assert "Badan Kesatuan Bangsa dan Politik Provinsi Jawa Tengah" in answer["text"]
        other = h.api.user(5002, "Lain", language_code="en")
        answer = await h.say(other, f"/start {invite.code}")
        assert "already been used" in answer["text"]

        old = h.services.create_invite(unit=UNIT, role="kepala", now=h.clock())
        h.clock.advance(timedelta(days=7, seconds=1))
        answer = await h.say(other, f"/start {old.code}")
        assert "expired" in answer["text"]
        answer = await h.say(other, "/tugas")
        assert "not registered" in answer["text"]


async def test_one_official_in_two_units_and_two_officials_in_one_role(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        ani = await h.join("Ani", UNIT, "sekretaris", user_id=7001)
        await h.join("Ani", "kec-sooko", "camat", user_id=7001)
        member = h.services.store.read().member("7001")
        assert member is not None and member.units == [UNIT, "kec-sooko"]
        budi = await h.join("Budi", UNIT, "pelaksana")
        citra = await h.join("Citra", UNIT, "pelaksana")
        assert h.services.store.read().holders(UNIT)["pelaksana"] == [str(budi.id),
                                                                      str(citra.id)]
        # Ani may start PK only at Kesbangpol (at Sooko the Staf starts it)
        await h.say(ani, "mulai PK 2025", expect="Started")
        await ani.await_message(is_step(1, 1))
        await h.say(ani, "mulai PK 2025", expect="already exists")  # same flow and year
        answer = await h.say(ani, "status PK 2025", expect="several of your units")
        assert "kec-sooko" in answer["text"] and UNIT in answer["text"]
        await h.say(ani, "status PK 2025 kec-sooko", expect="has not been started")
        staf = await h.join("Sooko Staf", "kec-sooko", "staf")
        await h.say(staf, "mulai PK 2025", expect="Started")
        tasks = await h.say(ani, "/tugas", expect="Waiting for you")
        assert "Orders the drafting of the Performance Agreement" in tasks["text"]


async def test_starting_rules(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        answer = await h.say(o["pelaksana"], "mulai PK 2025")
        assert answer["text"] == ("Sorry, only Kepala Badan, Sekretaris, Kasubbag Program may "
                                  "start this flow.")
        answer = await h.say(o["kepala"], "mulai PK")
        assert "mulai PK 2025" in answer["text"]
        answer = await h.say(o["kepala"], "mulai RENSTRA 2025")
        assert "no flow 'RENSTRA'" in answer["text"] and "PK (Penyusunan" in answer["text"]
        await h.say(o["kepala"], "/mulai PK 2025", expect="Started")
        answer = await h.say(o["kepala"], "mulai pk 2025", expect="already exists")
        assert "Step 1 of 13" in answer["text"]


async def test_text_replies_revision_reason_asked_and_batal(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        msg = await o["sekretaris"].await_message(is_step(1, 1))
        await h.say(o["sekretaris"], "selesai", reply_to=msg, expect="Marked done")
        msg = await o["kasubbag"].await_message(is_step(2, 1))
        # an approval in other words is confirmed first (issue 12); the words become its note
        question = await h.say(o["kasubbag"], "oke, format sudah dibagikan", reply_to=msg,
                               expect="Do you mark step 2")
        answer = await h.press(o["kasubbag"], question, "✅ Ya, selesai")
        assert answer["text"] == "Done."
        note = next(d for d in dispositions(h) if d.step_no == 2 and d.note)
        assert note.note == "oke, format sudah dibagikan"
        # steps 3..8 by button
        for no, who in ((3, "bidang"), (4, "pelaksana"), (5, "pelaksana"),
                        (6, "bidang"), (7, "pelaksana"), (8, "kasubbag")):
            msg = await o[who].await_message(is_step(no, 1))
            await h.press(o[who], msg, "✔️ Selesai")
        msg = await o["sekretaris"].await_message(is_step(9, 1))
        # "revisi" alone: the bot asks for the reason and takes the next message
        answer = await h.say(o["sekretaris"], "revisi", reply_to=msg)
        assert "reason" in answer["text"]
        answer = await h.say(o["sekretaris"], "/batal")
        assert "Cancelled" in answer["text"]
        answer = await h.say(o["sekretaris"], "halo")  # no longer taken as a reason
        assert "What I understand" in answer["text"]
        # the Revisi button asks too
        await h.press(o["sekretaris"], msg, "🔁 Revisi")
        await h.seen(o["sekretaris"], "What must be revised?")
        o["sekretaris"].send_text("Indikator sasaran 2 belum terukur")
        await h.seen(o["sekretaris"], "Sent back for revision")
        back = await o["kasubbag"].await_message(is_step(8, 2))
        assert "Indikator sasaran 2 belum terukur" in back["text"] and "Sekar" in back["text"]
        revise = next(d for d in dispositions(h) if d.action is Action.REVISE)
        assert (revise.step_no, revise.member, revise.role, revise.note) == (
            9, str(o["sekretaris"].id), "sekretaris", "Indikator sasaran 2 belum terukur")
        # the decided message now says what happened, without buttons
        edited = h.api.message(o["sekretaris"].id, msg["message_id"])
        assert "Sent back for revision by Sekar" in edited["text"]
        assert step_button_data(edited) == []


async def test_unauthorised_double_and_simultaneous_presses(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        msg = await o["sekretaris"].await_message(is_step(1, 1))
        # double press: both presses queued before the bot handles either
        q1 = o["sekretaris"].press_button(msg, "✔️ Selesai")
        q2 = o["sekretaris"].press_button(msg, "✔️ Selesai")
        a1 = await h.api.await_for(lambda: h.api.callback_answer(q1))
        a2 = await h.api.await_for(lambda: h.api.callback_answer(q2))
        assert "Marked done" in a1["text"] and "Already decided by Sekar" in a2["text"]
        assert [d.step_no for d in dispositions(h)].count(1) == 2  # start + one completion
        for no, who in ((2, "kasubbag"), (3, "bidang")):
            m = await o[who].await_message(is_step(no, 1))
            await h.press(o[who], m, "✔️ Selesai")
        # step 4 goes to both Pelaksana; both press at once: exactly one transition
        m1 = await o["pelaksana"].await_message(is_step(4, 1))
        m2 = await o["pelaksana2"].await_message(is_step(4, 1))
        q1 = o["pelaksana"].press_button(m1, "✔️ Selesai")
        q2 = o["pelaksana2"].press_button(m2, "✔️ Selesai")
        answers = [await h.api.await_for(lambda q=q: h.api.callback_answer(q))
                   for q in (q1, q2)]
        # Chats are handled concurrently: either may win, never both; the other is told who.
        won = [i for i, a in enumerate(answers) if a["text"].startswith("Marked")]
        assert len(won) == 1, answers
        winner, who = (("Putu", "pelaksana"), ("Pandu", "pelaksana2"))[won[0]]
        assert answers[1 - won[0]]["text"].startswith(f"Already decided by {winner}"), answers
        assert [d.step_no for d in dispositions(h)].count(4) == 1
        # someone else replying "setuju" to a copy of step 5 forwarded to them changes nothing
        m5 = await o[who].await_message(is_step(5, 1))
        answer = await h.say(o["kepala"], "setuju", reply_to=2)
        assert "not a step" in answer["text"]
        assert h.services.store.read().instances(unit=UNIT)[0].current.no == 5
        await h.press(o[who], m5, "✔️ Selesai")


async def test_status_in_every_form_and_only_for_members(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        answer = await h.say(o["sekretaris"], "status PK 2025")
        assert "has not been started" in answer["text"]
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        m = await o["sekretaris"].await_message(is_step(1, 1))
        await h.press(o["sekretaris"], m, "✔️ Selesai")
        h.clock.advance(timedelta(hours=3))  # step 2 (2 Jam) is now overdue
        for text in ("status PK 2025", "Status pk 2025", "/status PK 2025",
                     "status perjanjian kinerja 2025"):
            answer = await h.say(o["sekretaris"], text, expect="📊")
            body = answer["text"]
            assert "Progress: 1 of 13 steps done." in body
            assert "Step 2 of 13: Prepares the Performance Agreement data-collection" in body
            assert "Waiting for: Sri (Kasubbag Program)" in body
            assert "Since: 5 Jan 2026 08:00 WIB" in body
            assert "Deadline: 5 Jan 2026 10:00 WIB — ⚠️ late by 1 hour" in body
            assert "✔️ Done by Sekar" in body
        answer = await h.say(o["sekretaris"], "status")
        assert "Running now:" in answer["text"] and "PK 2025" in answer["text"]
        outsider = await h.join("Camat Sooko", "kec-sooko", "camat")
        answer = await h.say(outsider, "status PK 2025")
        assert "has not been started" in answer["text"]  # his own unit's PK, not Kesbangpol's
        assert "Sri" not in answer["text"]


async def test_bad_input_gets_help(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        answer = await h.say(o["kepala"], "/entahlah")
        assert "do not know that command" in answer["text"]
        assert "mulai PK 2025" in answer["text"]
        answer = await h.say(o["kepala"], "asdf qwerty")
        assert "What I understand" in answer["text"]
        answer = await h.say(o["kepala"], "setuju", reply_to=2)  # the welcome message
        assert "not a step" in answer["text"]
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        m = await o["sekretaris"].await_message(is_step(1, 1))
        answer = await h.say(o["sekretaris"], "mungkin nanti", reply_to=m)
        assert "nothing was recorded" in answer["text"] and "selesai" in answer["text"]
        answer = await h.say(o["sekretaris"], "revisi: kenapa", reply_to=m)
        assert answer["text"].startswith("Step 1 is a task: it cannot be sent back.")
        o["kepala"].send_document("x.pdf", b"%PDF", mime_type="application/pdf")
        await h.seen(o["kepala"], "send it as a reply")
        assert h.services.store.read().instances(unit=UNIT)[0].current.no == 1


async def test_commands_registered_in_indonesian(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.idle()
        names = [c["command"] for c in h.api.commands("default")]
        assert names[:4] == ["mulai", "status", "tugas", "pengingat"]
        assert names[-3:] == ["batal", "bahasa", "bantuan"]
        assert {"rekap", "ekspor", "monev", "grafik", "bagan", "ringkasan"} <= set(names)
        english = {c["command"]: c["description"]
                   for c in h.api.commands("default", language_code="en")}
        assert english["tugas"] == "steps waiting for me"


async def test_long_revision_reason_is_split_across_messages(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        for no, who in ((1, "sekretaris"), (2, "kasubbag"), (3, "bidang"), (4, "pelaksana"),
                        (5, "pelaksana"), (6, "bidang"), (7, "pelaksana"), (8, "kasubbag")):
            m = await o[who].await_message(is_step(no, 1))
            await h.press(o[who], m, "✔️ Selesai")
        m = await o["sekretaris"].await_message(is_step(9, 1))
        reason = "Perbaiki. " + "Sasaran strategis harus terukur. " * 120
        await h.say(o["sekretaris"], f"revisi: {reason}", reply_to=m)
        back = await o["kasubbag"].await_message(is_step(8, 2))
        assert back["text"].startswith("📋") and len(back["text"]) <= 1200  # one screen
        before = len(h.api.messages(o["kasubbag"].id))
        await h.press(o["kasubbag"], back, "ℹ️ Rincian")  # the whole reason, on demand
        parts = await h.api.await_for(
            lambda: (m := h.api.messages(o["kasubbag"].id)[before:])
            and reason.strip() in "".join(x["text"] for x in m) and m)
        assert len(parts) == 2 and parts[0]["text"].startswith("📋")
        assert all(len(p["text"]) <= 4096 for p in parts)  # cut between words


async def test_completion_tells_participants_elapsed_and_standard(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = {"camat": await h.join("Camat", "kec-sooko", "camat"),
             "sekcam": await h.join("Sekcam", "kec-sooko", "sekcam"),
             "kasubag": await h.join("Kasubag", "kec-sooko", "kasubag_program"),
             "staf": await h.join("Staf", "kec-sooko", "staf"),
             "tim": await h.join("Tim", "kec-sooko", "tim")}
        await h.say(o["staf"], "mulai PK 2025", expect="Started")
        plan = ((1, "staf"), (2, "camat"), (3, "sekcam"), (4, "kasubag"), (5, "tim"),
                (6, "kasubag"), (7, "camat"), (8, "staf"))
        for no, who in plan:
            m = await o[who].await_message(is_step(no, 1))
            h.clock.advance(timedelta(hours=5))
            label = "✅ Setujui" if no == 7 else "✔️ Selesai"
            await h.press(o[who], m, label)
        for who in o:
            done = await h.seen(o[who], "complete")
            assert re.search(r"Time taken: 2 days \(SOP standard total: 4 Hari 2 Jam 30 Menit\)",
                             done["text"]), done["text"]


async def test_crafted_and_stale_callbacks_change_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        sooko_camat = await h.join("Camat Sooko", "kec-sooko", "camat")
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        m1 = await o["sekretaris"].await_message(is_step(1, 1))
        data = step_button_data(m1)[0]
        # the Pelaksana forges the Kepala's button on a message of his own chat
        q = o["pelaksana"].press(2, data, crafted=True)
        answer = await h.api.await_for(lambda: h.api.callback_answer(q))
        assert answer["text"] == "Sorry, step 1 is for Sekretaris; you do not hold that role."
        # someone of another unit cannot even learn that the instance exists
        q = sooko_camat.press(2, data, crafted=True)
        answer = await h.api.await_for(lambda: h.api.callback_answer(q))
        assert answer["text"] == "This step is not one you can act on."
        # garbage callback data
        q = o["sekretaris"].press(m1, "s:zzz:1:1:x", crafted=True)
        answer = await h.api.await_for(lambda: h.api.callback_answer(q))
        assert "no longer valid" in answer["text"]
        assert [d.action for d in dispositions(h)] == [Action.START]
        await h.press(o["sekretaris"], m1, "✔️ Selesai")
        # the old button, pressed again from a stale screen, answers who decided and when
        q = o["sekretaris"].press(m1, data, crafted=True)
        answer = await h.api.await_for(lambda: h.api.callback_answer(q))
        assert answer["text"] == "Already decided by Sekar on 5 Jan 2026 08:00 WIB."
        assert [d.action for d in dispositions(h)] == [Action.START, Action.COMPLETE]


async def test_old_round_button_after_a_revision_is_stale(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = {"camat": await h.join("Camat", "kec-sooko", "camat"),
             "sekcam": await h.join("Sekcam", "kec-sooko", "sekcam"),
             "kasubag": await h.join("Kasubag", "kec-sooko", "kasubag_program"),
             "staf": await h.join("Staf", "kec-sooko", "staf"),
             "tim": await h.join("Tim", "kec-sooko", "tim")}
        await h.say(o["staf"], "mulai PK 2025", expect="Started")
        for no, who in ((1, "staf"), (2, "camat"), (3, "sekcam"), (4, "kasubag"),
                        (5, "tim")):
            m = await o[who].await_message(is_step(no, 1))
            await h.press(o[who], m, "✔️ Selesai")
        m6 = await o["kasubag"].await_message(is_step(6, 1))
        old6 = step_button_data(m6)[0]
        await h.press(o["kasubag"], m6, "✔️ Selesai")
        m7 = await o["camat"].await_message(is_step(7, 1))
        await h.say(o["camat"], "revisi: IKU kecamatan belum lengkap", reply_to=m7,
                    expect="Sent back")
        again = await o["kasubag"].await_message(is_step(6, 2))
        assert "IKU kecamatan belum lengkap" in again["text"]
        q = o["kasubag"].press(m6, old6, crafted=True)  # round 1's button
        answer = await h.api.await_for(lambda: h.api.callback_answer(q))
        assert answer["text"].startswith("Already decided by Kasubag")
        repo = h.services.store.read()
        assert repo.instances(unit="kec-sooko")[0].current.no == 6
        await h.press(o["kasubag"], again, "✔️ Selesai")
        m7b = await o["camat"].await_message(is_step(7, 2))
        await h.press(o["camat"], m7b, "✅ Setujui")
        m8 = await o["staf"].await_message(is_step(8, 1))
        assert "Setujui" not in str(h.api.buttons(m8))


async def test_fan_out_parts_keep_their_own_decision_line(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        unit = "kec-neglasari"
        o = {"camat": await h.join("Camat", unit, "camat"),
             "umpeg": await h.join("Umpeg", unit, "kasubag_umpeg"),
             "perenkeu": await h.join("Perenkeu", unit, "kasubag_perenkeu"),
             "lurah": await h.join("Lurah", unit, "pejabat_unit_kerja"),
             "kasi": await h.join("Kasi", unit, "pejabat_unit_kerja")}
        await h.say(o["camat"], "mulai PK 2025", expect="Started")
        plan = ((1, "camat", "✔️ Selesai"), (2, "perenkeu", "✔️ Selesai"),
                (3, "perenkeu", "✔️ Selesai"), (4, "camat", "✅ Setujui"),
                (5, "camat", "✔️ Selesai"), (6, "umpeg", "✔️ Selesai"))
        for no, who, label in plan:
            m = await o[who].await_message(is_step(no, 1))
            await h.press(o[who], m, label)
        m_lurah = await o["lurah"].await_message(is_step(7, 1))
        m_kasi = await o["kasi"].await_message(is_step(7, 1))
        first = await h.press(o["lurah"], m_lurah, "✔️ Selesai")
        assert first["text"].startswith("Marked done")
        await h.press(o["kasi"], m_kasi, "✔️ Selesai")
        await h.idle()
        lurah_copy = h.api.message(o["lurah"].id, m_lurah["message_id"])["text"]
        kasi_copy = h.api.message(o["kasi"].id, m_kasi["message_id"])["text"]
        assert "Done by Lurah" in lurah_copy and "Kasi" not in lurah_copy.split("\n")[-1]
        assert "Done by Kasi" in kasi_copy


async def test_language_choice_with_bahasa(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        # Telegram says Indonesian: the bot speaks Indonesian until the official chooses
        sri = await h.join("Sri", UNIT, "kasubbag_program", language="id")
        sekar = await h.join("Sekar", UNIT, "sekretaris")  # Telegram in English
        menu = await h.say(sri, "/bahasa", expect="pilih bahasa")
        assert [b for b, _ in h.api.buttons(menu)] == ["🇮🇩 Bahasa Indonesia", "🇬🇧 English"]
        answer = await h.press(sri, menu, "🇬🇧 English")
        assert answer["text"] == "Language set."
        edited = await h.api.await_for(
            lambda: (m := h.api.message(sri.id, menu["message_id"]))["text"] != menu["text"]
            and m)
        assert edited["text"] == "Language: English" and not h.api.buttons(edited)
        # messages sent without an update from her (a notification) use her choice
        await h.say(sekar, "mulai PK 2025", expect="Started")
        m1 = await sekar.await_message(is_step(1, 1))
        await h.press(sekar, m1, "✔️ Selesai")
        step2 = await sri.await_message(is_step(2, 1))
        # (the button words are the contract's, in every language)
        assert "Step 2 of 13" in step2["text"] and [b for b, _ in h.api.buttons(step2)] == [
            "✔️ Selesai", "ℹ️ Rincian"]
        # and back to Indonesian
        menu = await h.say(sri, "/bahasa", expect="Choose your language")
        await h.press(sri, menu, "🇮🇩 Bahasa Indonesia")
        status = await h.say(sri, "status PK 2025", expect="📊")
        assert "Progres: 1 dari 13 langkah selesai." in status["text"]
