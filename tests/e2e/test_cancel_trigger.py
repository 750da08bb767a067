"""Re-running the signing chain after a mutasi (``revisi PK 2026 mutasi …``), cancelling an
instance started by mistake (``batalkan PK 2099 …``), who may start, and the same from the
command line (``sopbot instances trigger|cancel``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main as cli_main
from bot.engine.instance import Action, Status
from bot.engine.model import Flow
from bot.services.reminders import Reminders
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step
from tests.support.flowops_kit import office, walk

INSPEKTORAT = "pk-inspektorat-nganjuk"
NEGLASARI = "pk-kec-neglasari"


async def test_revisi_after_mutasi_reruns_the_signing_chain(
        tmp_path: Path, all_flows: dict[str, Flow]) -> None:
    flow = all_flows[INSPEKTORAT]
    async with running_bot(tmp_path) as h:
        people = await office(h, flow)
        inspektur, fungsional = people["inspektur"][0], people["fungsional"][0]
        await h.say(inspektur, "mulai PK 2026", expect="Started")
        await walk(h, flow, people, list(range(1, 14)))
        await fungsional.await_message("📤", timeout=10)  # outside, at the Setda
        # Someone who may not trigger it is refused; the Inspektur is asked to confirm.
        refused = await h.say(people["pejabat_eselon"][0], "revisi PK 2026 mutasi Kabid")
        assert refused["text"].startswith("Sorry, only"), refused["text"]
        question = await h.say(inspektur, "revisi PK 2026 mutasi Inspektur Pembantu II diganti",
                               expect="Start step 16")
        assert "runs again from step 9" in question["text"]
        assert [label for label, _d in h.api.buttons(question)] == ["Ya", "Tidak"]
        await h.press(inspektur, question, "Ya")
        await h.seen(inspektur, "Started step 16")
        step16 = await fungsional.await_message(is_step(16, 1), timeout=10)
        assert "Inspektur Pembantu II diganti" in step16["text"]
        await h.press(fungsional, step16, "✔️ Selesai")
        # The revised PK is checked, signed, forwarded and sent to the Bupati again.
        await walk(h, flow, people, list(range(9, 14)), round_no=2)
        again = await fungsional.await_message("📤", timeout=10)
        await h.press(fungsional, again, "📥 Sudah kembali")
        await fungsional.await_message(is_step(14, 1), timeout=10)
        trail = [d.action for d in h.store.read().dispositions(
            h.store.read().instances(unit=flow.unit.id, year=2026)[0].id, 2026)]
        assert trail.count(Action.RETURN) == 1 and Action.TRIGGER in trail


async def test_batalkan_by_the_sekcam_with_a_confirmation(
        tmp_path: Path, all_flows: dict[str, Flow]) -> None:
    flow = all_flows[NEGLASARI]
    async with running_bot(tmp_path) as h:
        people = await office(h, flow)
        camat, sekcam = people["camat"][0], people["sekcam"][0]
        perenkeu, umpeg = people["kasubag_perenkeu"][0], people["kasubag_umpeg"][0]
        # Who starts: the Camat, the Sekcam, the Kasubag Perencanaan — not the Kasubag Umum.
        refused = await h.say(umpeg, "mulai PK 2026")
        assert refused["text"] == ("Sorry, only Camat, Sekretaris Camat, Kasubag Perencanaan "
                                   "dan Keuangan may start this flow."), refused["text"]
        # A year far from this one is confirmed first.
        question = await h.say(camat, "mulai PK 2099", expect="far from this year")
        await h.press(camat, question, "Ya")
        await h.seen(camat, "Started")
        await walk(h, flow, people, [1])
        step2 = await perenkeu.await_message(is_step(2, 1), timeout=10)
        # Not the Kasubag Umum; the Sekcam may, and says no once, then yes.
        refused = await h.say(umpeg, "batalkan PK 2099 salah tahun")
        assert refused["text"].startswith("Sorry, only"), refused["text"]
        question = await h.say(sekcam, "batalkan PK 2099 salah tahun", expect="Cancel")
        await h.press(sekcam, question, "Tidak")
        assert h.store.read().instances(unit=flow.unit.id, year=2099)[0].is_open
        question = await h.say(sekcam, "batalkan PK 2099 salah tahun", expect="Cancel")
        await h.press(sekcam, question, "Ya")
        told = await perenkeu.await_message("was cancelled by", timeout=10)
        assert "salah tahun" in told["text"]
        await h.seen(sekcam, "is cancelled")
        settled = await h.api.await_for(
            lambda: (lambda m: m if m and not h.api.buttons(m) else None)(
                h.api.message(perenkeu.id, step2["message_id"])), 5, what="settled step 2")
        assert "Cancelled by Sekretaris Camat" in settled["text"]
        status = await h.say(camat, "status PK 2099", expect="📊")
        assert "Status: cancelled by Sekretaris Camat" in status["text"], status["text"]
        assert "salah tahun" in status["text"]
        (inst,) = h.store.read().instances(unit=flow.unit.id, year=2099)
        assert inst.status is Status.CANCELLED
        assert [d.action for d in h.store.read().dispositions(inst.id, 2099)][-1] \
            is Action.CANCEL
        assert not [p for p in Reminders(h.services).plan(h.clock())
                    if p.payload.get("instance_id") == inst.id]
        sekcam_id = await h.say(sekcam, "/bahasa", expect="language")
        await h.press(sekcam, sekcam_id, "🇮🇩 Bahasa Indonesia")
        status = await h.say(sekcam, "status PK 2099", expect="📊")
        assert "Status: dibatalkan oleh Sekretaris Camat" in status["text"], status["text"]


async def test_cli_cancel_and_trigger(tmp_path: Path, all_flows: dict[str, Flow],
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    inspektorat, neglasari = all_flows[INSPEKTORAT], all_flows[NEGLASARI]
    async with running_bot(tmp_path) as h:
        monkeypatch.setenv("SOPBOT_DATA_DIR", str(h.data_dir))
        monkeypatch.setenv("SOPBOT_LANGUAGE", "en")
        ins = await office(h, inspektorat)
        neg = await office(h, neglasari)
        await h.say(ins["inspektur"][0], "mulai PK 2026", expect="Started")
        await h.say(neg["camat"][0], "mulai PK 2026", expect="Started")
        await neg["camat"][0].await_message(is_step(1, 1), timeout=10)
        assert cli_main(["instances", "trigger", "--flow", inspektorat.id, "--year", "2026",
                         "--step", "3", "--reason", "mutasi"]) == 2
        assert "Step 3 is not a step that an event starts." in capsys.readouterr().err
        assert cli_main(["instances", "trigger", "--flow", inspektorat.id, "--year", "2026",
                         "--step", "16", "--reason", "Perubahan anggaran (APBD-P)"]) == 0
        assert "Step 16 of PK 2026 (inspektorat-nganjuk) has started." in \
            capsys.readouterr().out
        step16 = await ins["fungsional"][0].await_message(is_step(16, 1), timeout=10)
        assert "Perubahan anggaran (APBD-P)" in step16["text"]
        assert cli_main(["instances", "cancel", "--flow", "PK", "--year", "2026",
                         "--reason", "dobel"]) == 2  # PK is in several units
        assert "--unit" in capsys.readouterr().err
        assert cli_main(["instances", "cancel", "--unit", neglasari.unit.id, "--flow", "PK",
                         "--year", "2026", "--reason", "dimulai dua kali"]) == 0
        assert "is cancelled" in capsys.readouterr().out
        told = await neg["camat"][0].await_message("was cancelled by", timeout=10)
        assert "dimulai dua kali" in told["text"]
        assert cli_main(["instances", "cancel", "--unit", neglasari.unit.id, "--flow", "PK",
                         "--year", "2026", "--reason", "lagi"]) == 2
        assert "has not been started" in capsys.readouterr().err
