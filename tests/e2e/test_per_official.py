"""The DPRD "Pengumpulan Data Kinerja": one instance per official, paired with the atasan."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.engine.model import Flow
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step, play

UNIT = "setwan-nganjuk"
FLOW = "pengumpulan-data-kinerja-dprd-nganjuk"


async def test_per_official_procedure_in_chat(tmp_path: Path,
                                              all_flows: dict[str, Flow]) -> None:
    flow = all_flows[FLOW]
    async with running_bot(tmp_path) as h:
        sekwan = await h.join("Djoko", UNIT, "sekwan")
        kabag = await h.join("Kabag Umum", UNIT, "kabag")
        kasubag1 = await h.join("Kasubag Satu", UNIT, "kasubag")
        kasubag2 = await h.join("Kasubag Dua", UNIT, "kasubag")
        tu = await h.join("Arsiparis TU", UNIT, "kasubag_tu")
        staf1 = await h.join("Staf Satu", UNIT, "staf")
        # the second Staf reports to the second Kasubag: said in the invitation
        invite = h.services.create_invite(unit=UNIT, role="staf", now=h.clock(),
                                          name="Staf Dua", atasan=str(kasubag2.id))
        staf2 = h.api.user(1999, "Staf Dua", language_code="en")
        await h.say(staf2, f"/start {invite.code}", expect="Welcome")

        answer = await h.say(staf1, "mulai PDK 2026")
        assert answer["text"] == ("Sorry, only Kasubag TU dan Kepegawaian, Sekretaris DPRD "
                                  "(Sekwan) may start this flow.")
        answer = await h.say(tu, "mulai PDK 2026", expect="Started")
        assert "for 5 officials" in answer["text"]
        repo = h.services.store.read()
        pairs = {i.subject: i.bindings["atasan"] for i in repo.instances(unit=UNIT)}
        assert pairs == {
            str(kabag.id): str(sekwan.id),
            str(kasubag1.id): str(kabag.id),
            str(kasubag2.id): str(kabag.id),
            str(staf1.id): str(kasubag1.id),
            str(staf2.id): str(kasubag2.id),
        }
        answer = await h.say(tu, "mulai PDK 2026", expect="already exists")

        # Staf Satu's procedure, played through with one revision by his atasan
        expected = [1, 2, 1, 2, 3, 4, 5, 6, 7]  # steps 8-14 live in the cycles only
        bound = {"pegawai": staf1, "atasan": kasubag1}
        run = await play(h, flow, {"kasubag_tu": [tu]}, expected, revise_at=2,
                         reason="IKI belum sesuai peta jabatan", bound=bound)
        assert run.order == expected
        assert run.revision_seen_by == ["Staf Satu"]
        # Staf Dua's first step names whose it is, and only Staf Dua got it
        m = await staf2.await_message(is_step(1, 1))
        assert "Staf Dua" in m["text"]

        h.clock.advance(timedelta(hours=2))  # everyone else's 60-minute step 1 is late
        answer = await h.say(sekwan, "status PDK 2026", expect="📊")
        text = answer["text"]
        assert "Done: 1 · In progress: 4 · Late: 4" in text
        for name in ("Kabag Umum", "Kasubag Satu", "Kasubag Dua", "Staf Dua"):
            assert f"{name}: step 1" in text
        assert "Staf Satu:" not in text
        tasks = await h.say(staf2, "/tugas", expect="Waiting for you")
        assert "Staf Dua" in tasks["text"] and "Drafts the IKI" in tasks["text"]
