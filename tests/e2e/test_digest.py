"""The weekly digest on the controllable clock: Monday at the office's opening, to the
Sekretaris roles and the oversight unit, once, and not to whoever wrote /ringkasan off."""

from __future__ import annotations

from pathlib import Path

from bot.demo.harness import Clock
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step, texts
from tests.support.clock import arrives_exactly_at, at, wib
from tests.support.oversight import SETDA, with_oversight

DIGEST = "📋 Weekly digest"


async def test_weekly_digest_on_monday_morning_with_opt_out(tmp_path: Path) -> None:
    async with running_bot(tmp_path, clock=Clock(wib(2026, 1, 8, 10, 0))) as h:  # a Thursday
        with_oversight(h)
        inspektur = await h.join("Ir. Wahyu", SETDA.id, "inspektorat")
        sekar = await h.join("Sekar", "kesbangpol-jateng", "sekretaris")
        kepala = await h.join("Haerudin", "kesbangpol-jateng", "kepala")
        await h.join("Sri", "kesbangpol-jateng", "kasubbag_program")
        sekcam = await h.join("Pak Sekcam", "kec-sooko", "sekcam")
        await h.say(kepala, "mulai PK 2026", expect="Started")
        m1 = await sekar.await_message(is_step(1, 1))  # step 1 is the Sekretaris's
        await h.press(sekar, m1, "✔️ Selesai")  # step 2 (2 Jam) now lies with Sri
        answer = await h.say(sekcam, "/ringkasan off", expect="weekly digest")
        assert answer["text"] == "You will no longer receive the weekly digest."
        answer = await h.say(sekcam, "/ringkasan", expect="weekly digest")
        assert "The weekly digest is off for you." in answer["text"]

        # nothing on Friday, nor on Monday before the office opens; then once, at 07:30
        await at(h, wib(2026, 1, 9, 9, 0))
        (digest,) = await arrives_exactly_at(h, sekar, DIGEST, wib(2026, 1, 12, 7, 30))
        assert digest.startswith("📋 Weekly digest (2026-W03)")
        late = digest.split("Late:")[1].split("Deadlines this week:")[0]
        assert "Drafting the Performance Agreement (PK 2026)" in late
        assert "2. Prepares the Performance Agreement" in late
        (overseen,) = texts(h.api, inspektur, DIGEST)
        assert "Drafting the Performance Agreement (PK 2026)" in overseen
        assert "Write \"/ringkasan off\" to stop the weekly digest." in overseen
        assert texts(h.api, sekcam, DIGEST) == []  # opted out
        assert texts(h.api, kepala, DIGEST) == []  # not a Sekretaris
        # the same Monday later, and Tuesday: no second digest
        await at(h, wib(2026, 1, 12, 10, 0))
        await at(h, wib(2026, 1, 13, 7, 30))
        assert len(texts(h.api, sekar, DIGEST)) == 1
        # opted in again: next Monday it comes
        await h.say(sekcam, "/ringkasan on", expect="Monday mornings")
        await arrives_exactly_at(h, sekcam, DIGEST, wib(2026, 1, 19, 7, 30))
        assert len(texts(h.api, sekar, DIGEST)) == 2
