"""Oversight in chat: the rekap across units (worst first) for the oversight unit only, and the
regulation target (the DPA date, typed or asked) counted down in status and rekap."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.support.bot import running_bot
from tests.support.chatdriver import is_step
from tests.support.oversight import SETDA, with_oversight


async def test_oversight_rekap_across_two_units_with_target_countdown(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        with_oversight(h)
        inspektur = await h.join("Ir. Wahyu", SETDA.id, "inspektorat")
        # Kesbangpol: started with the DPA date typed; step 2 (2 Jam) left lying
        kepala = await h.join("Haerudin", "kesbangpol-jateng", "kepala")
        sri = await h.join("Sri", "kesbangpol-jateng", "kasubbag_program")
        sekar = await h.join("Sekar", "kesbangpol-jateng", "sekretaris")
        started = await h.say(kepala, "mulai PK 2026 DPA 02-01-2026", expect="Started")
        assert "DPA" not in started["text"] and "force_reply" not in started  # no question
        m1 = await sekar.await_message(is_step(1, 1))  # step 1 is the Sekretaris's
        await h.press(sekar, m1, "✔️ Selesai")
        await sri.await_message(is_step(2, 1))
        # Sooko: started without the date: the bot asks for it (ForceReply); a bad answer
        # gets one sentence, a good one the countdown
        staf = await h.join("Sooko Staf", "kec-sooko", "staf")
        await h.join("Bu Camat", "kec-sooko", "camat")
        question = await h.say(staf, "mulai PK 2026", expect="Started")
        assert question["text"].endswith(
            "\n\nOn what date was the DPA approval for PK 2026? Reply to this message with the "
            "date (DD-MM-YYYY); the target of the whole flow counts from it.")
        assert question.get("force_reply") is True
        answer = await h.say(staf, "kemarin", reply_to=question, expect="not a date")
        assert answer["text"] == ("'kemarin' is not a date: reply to this message with the "
                                  "date, e.g. 15-01-2026 or 15 January 2026.")
        assert answer.get("force_reply") is True  # the official replies to the bot's last word
        # ... with a hedge: asked again, nothing recorded
        again = await h.say(staf, "kira2 tgl 5 jan", reply_to=answer, expect="not a date")
        assert again["text"].startswith("'kira2 tgl 5 jan' is not a date")
        status = await h.say(staf, "status PK 2026", expect="Step")
        assert "Target" not in status["text"]
        # ... as it is typed on a phone, replying to the bot's last answer: the year is this
        # one (the latest such date not after today), and the answer shows it whole
        answer = await h.say(staf, "tgl 5 jan bu 🙏", reply_to=again, expect="Target")
        assert "05-02-2026, counted from DPA approval 05-01-2026" in answer["text"]
        m1 = next(m for m in h.api.messages(staf.id) if is_step(1, 1)(m))
        await h.press(staf, m1, "✔️ Selesai")

        # Three working days later (Thursday 8 January 2026, 10:00 WIB)
        h.clock.advance(timedelta(days=3, hours=2))
        status = await h.say(kepala, "status PK 2026", expect="Step 2")
        # 16 January 2026 (Isra Mi'raj) is a holiday
        assert ("🎯 Target (PermenPAN-RB 53/2014): 02-02-2026, counted from DPA approval "
                "02-01-2026 — 16 working days left") in status["text"]

        rekap = await h.say(inspektur, "rekap PK 2026", expect="Recap PK 2026")
        lines = rekap["text"].splitlines()
        assert lines[0] == "Recap PK 2026, as of 8 Jan 2026 10:00 WIB:"
        units = [line for line in lines if line[:2].rstrip(".").isdigit()]
        assert len(units) == 4  # every PK of the deployment, the unstarted ones too
        # worst first: Kesbangpol is 3 working days late with step 2 (Sri's)
        assert units[0].startswith("1. 🔴 Badan Kesatuan Bangsa dan Politik")
        assert "step 2 of 13" in units[0] and "— Sri" in units[0]
        assert "late by 3 working days" in units[0]
        # as late: by name
        assert "Kecamatan Sooko" in units[1] and "late by 3 working days" in units[1]
        assert "— Bu Camat" in units[1]
        assert all("not started" in u for u in units[2:])
        kesbangpol_target = lines[lines.index(next(x for x in lines if x == units[0])) + 1]
        assert kesbangpol_target.strip().startswith("🎯 Target (PermenPAN-RB 53/2014): "
                                                    "02-02-2026")
        # the same, typed as a command
        again = await h.say(inspektur, "/rekap PK 2026", expect="Recap PK 2026")
        assert again["text"] == rekap["text"]

        # anyone else: a polite refusal
        refused = await h.say(kepala, "rekap PK 2026", expect="Sorry")  # (reminders come too)
        assert refused["text"] == ("Sorry, the recap across units is for the oversight "
                                   "officials (Bagian Organisasi, Inspektorat, Sekda).")
        bad = await h.say(inspektur, "rekap PK", expect="write")
        assert "PK 2025" in bad["text"]
        bad = await h.say(kepala, "mulai PK 2027 DPA 31-02-2027", expect="not a date")
        assert bad["text"] == ("'31-02-2027' is not a date: write DPA and the date as "
                               "DD-MM-YYYY, e.g. DPA 15-01-2026.")


async def test_rekap_in_indonesian_and_per_official_counts(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        with_oversight(h)
        sekda = await h.join("Pak Sekda", SETDA.id, "sekda", language="id")
        rekap = await h.say(sekda, "rekap PDK 2026", expect="2026")
        assert "Sekretariat DPRD" in rekap["text"] or "DPRD" in rekap["text"]
        assert "selesai 0, berjalan 0, terlambat 0" in rekap["text"]
