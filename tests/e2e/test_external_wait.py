"""The Inspektorat's PK goes to the Bupati through the Setda after step 13: the office waits,
nobody is late for the weeks it is outside, and the Fungsional records that it came back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main as cli_main
from bot.engine.model import Flow
from bot.services import UnknownUnitOrRole
from bot.services.reminders import Reminders
from bot.storage.records import Invite
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step
from tests.support.flowops_kit import office, walk

FLOW = "pk-inspektorat-nganjuk"


async def test_wait_outside_the_office_in_chat(tmp_path: Path,
                                               all_flows: dict[str, Flow]) -> None:
    flow = all_flows[FLOW]
    async with running_bot(tmp_path) as h:
        people = await office(h, flow)
        inspektur, fungsional = people["inspektur"][0], people["fungsional"][0]
        await h.say(inspektur, "mulai PK 2026", expect="Started")
        await walk(h, flow, people, list(range(1, 14)))
        # The recorder is told the document is outside, with a "Sudah kembali" button.
        wait = await fungsional.await_message("📤", timeout=10)
        assert "Setda" in wait["text"] and "Bupati" in wait["text"], wait["text"]
        assert [label for label, _data in h.api.buttons(wait)] == ["📥 Sudah kembali"]
        # Status says whom it waits for, since when; in English and in Indonesian.
        status = await h.say(inspektur, "status PK 2026", expect="📊")
        assert ("Waiting for Organisation Section of the Regional Secretariat and Regent "
                "since 5 Jan 2026") in status["text"], status["text"]
        assert "13 of 15 steps done" in status["text"]
        await h.say(inspektur, "/bahasa", expect="language")
        chooser = inspektur.last_message()
        await h.press(inspektur, chooser, "🇮🇩 Bahasa Indonesia")
        status = await h.say(inspektur, "status PK 2026", expect="📊")
        assert "Menunggu Bagian Organisasi Setda dan Bupati sejak 5 Jan 2026" \
            in status["text"], status["text"]
        # Three weeks outside: no reminder, no escalation planned or sent for it.
        reminders = Reminders(h.services)
        for week in range(3):
            h.clock.advance(timedelta(days=7))
            assert reminders.plan(h.clock()) == [], f"week {week + 1}"
        await h.idle()
        assert not [m for m in h.api.messages(None)
                    if any(mark in (m.get("text") or "") for mark in ("⏰", "⚠️"))]
        # Someone else cannot record the return; the Fungsional replies "sudah kembali".
        refused = await h.say(inspektur, "sudah kembali")
        assert "Tidak ada dokumen" in refused["text"], refused["text"]
        fungsional.send_text("Sudah kembali", reply_to=wait)
        step14 = await fungsional.await_message(is_step(14, 1), timeout=10)
        assert "signed by the Regent" in step14["text"]
        await h.seen(fungsional, "back in the office")
        edited = await h.api.await_for(
            lambda: (lambda m: m if m and not h.api.buttons(m) else None)(
                h.api.message(fungsional.id, wait["message_id"])), 5, what="settled wait")
        assert "Recorded back in the office by" in edited["text"]
        await h.press(fungsional, step14, "✔️ Selesai")
        await walk(h, flow, people, [15])
        done = await inspektur.await_message("🏁", timeout=10)
        assert "selesai" in done["text"]


async def test_external_roles_are_never_invited(tmp_path: Path, all_flows: dict[str, Flow],
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_bot(tmp_path) as h:
        with pytest.raises(UnknownUnitOrRole) as refused:
            h.invite("inspektorat-nganjuk", "bupati", "Pak Bupati")
        assert "outside the office" in str(refused.value)
        # An invitation made for it before the role was marked external is refused on joining.
        now = h.clock()
        with h.store.transaction() as repo:
            repo.add_invite(Invite("old-bupati-code", "inspektorat-nganjuk", "bupati", now,
                                   now + timedelta(days=7), "Pak Bupati"))
        outsider = h.new_user("Pak Bupati", language="id")
        answer = await h.say(outsider, "/start old-bupati-code")
        assert "peran di luar kantor" in answer["text"], answer["text"]
        assert h.store.read().member(str(outsider.id)) is None
    monkeypatch.setenv("SOPBOT_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("SOPBOT_BOT_USERNAME", "sopbot_test_bot")
    monkeypatch.setenv("SOPBOT_LANGUAGE", "en")
    status = cli_main(["invite", "--unit", "inspektorat-nganjuk", "--role", "bupati"])
    err = capsys.readouterr().err
    assert status == 2
    assert "'bupati' is outside the office (external)" in err or "bupati" in err, err
    assert "fungsional" in err and "bagian_organisasi" not in err.split("roles:")[-1]
