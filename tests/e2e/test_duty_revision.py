"""The DPRD semester duty in chat: the atasan's evaluation (step 11) sends the report back for
revision with a reason, the official reports again, the atasan evaluates again, and the
follow-up (step 12) is recorded in the same semester."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.demo.harness import Clock
from fakeapi import FakeBotApi
from tests.support.bot import running_bot
from tests.support.clock import wib

DPRD = "setwan-nganjuk"
SEMESTER = "Semester I 2026"


def duty(*needles: str) -> Any:
    """Predicate: a reminder of the semester duty containing every needle."""
    return lambda m: all(n in (m.get("text") or "") for n in (SEMESTER, *needles))


def labels(message: dict) -> list[str]:
    return [text for text, _data in FakeBotApi.buttons(message)]


async def test_the_atasan_sends_the_semester_report_back_and_evaluates_again(
        tmp_path: Path) -> None:
    async with running_bot(tmp_path, clock=Clock(wib(2026, 7, 8, 8, 0))) as h:
        for name, role in (("Bu Sekwan", "sekwan"), ("Pak Kabag", "kabag"),
                           ("Bu TU", "kasubag_tu")):
            await h.join(name, DPRD, role)
        kasubag = await h.join("Bu Kasubag", DPRD, "kasubag")
        staf = await h.join("Pak Staf", DPRD, "staf")
        # The Staf measures and reports with his evidence (steps 9-10). Triwulan II falls
        # due the same day, so both duties come in one message (issue 12): he reports the
        # triwulan with its button first, then replies to the message with the semester's
        # evidence (the one duty it still names).
        report = await staf.await_message(duty(), timeout=10)
        await h.idle()
        if "Quarter II 2026" in " ".join(labels(report)):
            await h.press(staf, report, "✔️ Selesai: Quarter II 2026")
            await h.idle()
        await h.send_file(staf, "pengukuran.pdf", b"%PDF-1.4 bukti", reply_to=report,
                          mime_type="application/pdf", expect="Recorded")
        evaluation = await kasubag.await_message(duty("For Pak Staf: 11."), timeout=10)
        await h.idle()
        assert labels(evaluation) == ["✅ Setujui", "🔁 Revisi"]
        # a hedge decides nothing; a revision without a reason is asked for one
        answer = await h.say(kasubag, "mungkin perlu revisi ya", reply_to=evaluation)
        assert answer["text"].startswith("Nothing was recorded."), answer["text"]
        answer = await h.say(kasubag, "revisi", reply_to=evaluation)
        assert answer["text"].startswith("A revision needs a reason."), answer["text"]
        # 🔁 Revisi asks for the reason; the reply to that question is it
        await h.press(kasubag, evaluation, "🔁 Revisi")
        prompt = await kasubag.await_message("What must be revised?")
        assert prompt.get("force_reply") is True
        answer = await h.say(kasubag, "setuju", reply_to=prompt)  # no reason: nothing sent
        assert answer["text"].startswith("Nothing was recorded."), answer["text"]
        ack = await h.say(kasubag, "Bukti capaian IKI 2 belum dilampirkan", reply_to=prompt,
                          expect="Sent back for revision")
        assert "Reason: Bukti capaian IKI 2 belum dilampirkan" in ack["text"]
        # The Staf is told why and reports again: a new reminder of steps 9-10
        again = await staf.await_message(duty("For Pak Staf: 9."), timeout=10)
        await h.idle()
        assert "Sent back for revision by your atasan: Bukti capaian IKI 2 belum " \
            "dilampirkan" in again["text"]
        assert labels(again) == ["✔️ Selesai"]
        # the old evaluation is spent; the Staf cannot send his own report back
        stale = await h.press(kasubag, evaluation, "✅ Setujui")
        assert stale["text"] == "This step is not one you can act on."
        answer = await h.say(staf, "revisi: salah kirim", reply_to=again)
        assert answer["text"].startswith("Step 9 is a task: it cannot be sent back.")
        await h.send_file(staf, "pengukuran-revisi.pdf", b"%PDF-1.4 bukti 2", reply_to=again,
                          mime_type="application/pdf", expect="Recorded")
        # The Kasubag evaluates again and approves as she would write it
        second = await kasubag.await_message(duty("For Pak Staf: 11."), timeout=10)
        await h.idle()
        assert second["message_id"] != evaluation["message_id"]
        await h.say(kasubag, "sudah sesuai", reply_to=second, expect="Recorded")
        # The follow-up (step 12) is the Staf's, in the same semester
        follow_up = await staf.await_message(duty("For Pak Staf: 12."), timeout=10)
        await h.idle()
        await h.say(staf, "selesai", reply_to=follow_up, expect="Recorded")
        repo = h.services.store.read()
        tasks = repo.db.table("cycle_tasks").all()
        revised = [t for t in tasks if t.get("action") == "revise"]
        assert [t["note"] for t in revised] == ["Bukti capaian IKI 2 belum dilampirkan"]
        semester = [t for t in tasks if t["occurrence"] == "semester-2026-1"
                    and t["member_id"] == str(staf.id)]
        assert len(semester) == 5  # report, revision, report again, approval, follow-up
        evidence = [t["evidence"] for t in semester if t.get("evidence")]
        assert len(evidence) == 2 and all(e.startswith("doc:") for e in evidence)
