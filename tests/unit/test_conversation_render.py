"""How the bot speaks (issue 12): addressing, titles, escalations, decided messages that fit."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.engine.instance import Action, Disposition
from bot.engine.loader import load_flows
from bot.i18n import Translator
from bot.textlimits import utf16_len
from bot.tg import render
from tests.support.paths import FLOWS_DIR

FLOWS = {f.id: f for f in load_flows(FLOWS_DIR)}
ID, EN = Translator("id"), Translator("en")
AT = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def flow_of(unit: str):
    return next(f for f in FLOWS.values() if f.unit.id == unit)


def test_the_starter_who_holds_step_1_is_told_it_waits_for_her() -> None:
    flow = flow_of("kec-sooko")
    payload = {"ack": "started", "flow_id": flow.id, "year": 2025, "count": 1, "skipped": [],
               "starter_acts": True, "salutation": "Ibu"}
    text = render.ack_text(payload, FLOWS, ID)
    assert text.endswith("Langkah 1 menunggu Ibu.") and "diteruskan" not in text
    assert render.ack_text({**payload, "salutation": None}, FLOWS, ID).endswith(
        "Langkah 1 menunggu Bapak/Ibu.")
    other = render.ack_text({**payload, "starter_acts": False}, FLOWS, ID)
    assert "Langkah 1 diteruskan kepada" in other


def test_a_collective_role_is_never_welcomed_by_its_whole_list() -> None:
    flow = flow_of("kec-neglasari")
    base = {"ack": "joined", "already": False, "unit": flow.unit.name, "unit_id": flow.unit.id,
            "role": "pejabat_unit_kerja", "role_id": "pejabat_unit_kerja"}
    lurah = render.ack_text({**base, "name": "Pak Lurah Kedaung"}, FLOWS, ID)
    assert "sebagai Lurah di" in lurah and "Kasi, Kasubag" not in lurah
    kasi = render.ack_text({**base, "name": "Bu Kasi Kelurahan"}, FLOWS, ID)
    assert "sebagai Kasi Kelurahan di" in kasi
    someone = render.ack_text({**base, "name": "Dewi"}, FLOWS, ID)
    assert "sebagai pejabat unit kerja di" in someone


def test_an_escalation_names_the_late_official_once() -> None:
    flow = next(f for f in FLOWS.values() if f.per_official is not None)
    step = flow.sequence[0].no
    payload = {"type": "step", "kind": "escalate", "flow_id": flow.id, "year": 2026,
               "step_no": step, "deadline": AT.isoformat(), "subject": "Bu Kasubag",
               "late": ["Bu Kasubag"]}
    text = render.reminder_text(payload, FLOWS, ID, AT.replace(hour=9))
    assert text.count("Bu Kasubag") == 1, text


def test_an_attachment_is_not_shown_as_a_step_done() -> None:
    disp = Disposition("abcd1234", 3, Action.ATTACH, "1", "staf", AT)
    line = render.decision_line(disp, "Putu", "Asia/Jakarta", ID)
    assert line.startswith("📎 Lampiran ditambahkan oleh Putu") and "✔️" not in line


def test_a_decided_message_with_a_huge_reason_fits_one_message() -> None:
    flow = flow_of("kesbangpol-jateng")
    disp = Disposition("abcd1234", 9, Action.REVISE, "1", "sekretaris", AT, note="👍" * 2000)
    payload = {"flow_id": flow.id, "message_id": 3, "text": "📋 " + "x" * 4000,
               "disposition": disp.to_dict(), "name": "Sekar"}
    text = render.settled_text(payload, FLOWS, EN)
    assert utf16_len(text) <= 4096 and "Sent back for revision by Sekar" in text
    assert render.withdraw_keyboard(payload, EN) is None  # not offered: not the decider's copy
    keyboard = render.withdraw_keyboard({**payload, "undo": True}, EN)
    assert keyboard is not None
    assert keyboard.inline_keyboard[0][0].callback_data == "w1:abcd1234:9:1"


def test_pengingat_is_one_line_per_step_however_many_reminders() -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    flow = flow_of("kesbangpol-jateng")
    payload = {"type": "step", "flow_id": flow.id, "year": 2025, "step_no": 3,
               "instance_id": "abcd1234", "round": 1, "kind": "before",
               "deadline": (AT + timedelta(hours=2)).isoformat()}
    points = [SimpleNamespace(at=AT + timedelta(minutes=m), payload=payload)
              for m in (60, 120, 180)]
    text = render.upcoming_text(points, FLOWS, ID, AT)
    lines = text.split("\n")
    # the header, the flow, and one line for the step with its next reminder
    assert len(lines) == 3 and lines[1].endswith("(PK 2025):")
    assert lines[2].startswith("• Langkah 3: ")
    assert lines[2].endswith("— batas waktu 5 Jan 2026 12.00 WIB; pengingat berikutnya "
                             "5 Jan 2026 11.00 WIB"), lines[2]


def test_a_withdrawal_reads_as_a_message_edit_on_the_step_and_as_an_act_in_the_status() -> None:
    disp = Disposition("abcd1234", 4, Action.WITHDRAW, "1", "camat", AT, note="salah tekan")
    edit = render.decision_line(disp, "Bu Camat", "Asia/Jakarta", ID)
    assert edit.startswith("↩️ Bu Camat menarik kembali keputusan atas langkah 4")
    assert "pesan ini tidak lagi" in edit and "salah tekan" not in edit
    listed = render.decision_line(disp, "Bu Camat", "Asia/Jakarta", ID, on_message=False)
    assert listed.startswith("↩️ Keputusan ditarik kembali oleh Bu Camat, 5 Jan 2026")
    assert "pesan ini" not in listed and listed.endswith("\nCatatan: salah tekan")
