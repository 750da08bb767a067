"""How reminders read (issue 12): several for one official at one moment as one digest,
grouped by instance and flow with each item's own deadline; ``/pengingat`` grouped and short."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.engine.model import Flow
from bot.engine.reminders import ReminderKind
from bot.i18n import Translator
from bot.services.reminder_plan import Planned
from bot.services.reminders import message_payload
from bot.textlimits import split_message
from bot.tg.render import cycle_keyboard, reminder_text, upcoming_text
from bot.tg.render_reminders import DIGEST_ITEMS
from tests.support.paths import WIB

PK = "pk-kesbangpol-jateng"
PDK = "pengumpulan-data-kinerja-dprd-nganjuk"
NOW = datetime(2026, 7, 7, 7, 30, tzinfo=WIB)
ID, EN = Translator("id"), Translator("en")


def step(instance: str, year: int, no: int, kind: str, deadline: datetime,
         **extra: Any) -> dict[str, Any]:
    return {"type": "step", "instance_id": instance, "flow_id": PK, "year": year,
            "step_no": no, "round": 1, "deadline": deadline.isoformat(), "subject": None,
            "kind": kind, "n": 0, "at": NOW.isoformat(), **extra}


def duty(cycle: str, period: str, index: int, task: str, kind: str = "before",
         **extra: Any) -> dict[str, Any]:
    return {"type": "cycle", "flow_id": PDK, "cycle_id": cycle, "occurrence": f"{cycle}-1",
            "period": period, "index": index, "year": 2026,
            "due": datetime(2026, 7, 14, 16, 0, tzinfo=WIB).isoformat(), "kind": kind,
            "n": 0, "task_id": task, "at": NOW.isoformat(), **extra}


def test_duties_due_the_same_day_read_as_one_message(all_flows: dict[str, Flow]) -> None:
    payload = message_payload([duty("triwulan", "quarter", 2, "aaa"),
                               duty("semester", "semester", 1, "bbb")], "Bu Sri", NOW)
    assert payload["type"] == "digest" and payload["task_id"] == "aaa+bbb"
    text = reminder_text(payload, all_flows, ID, NOW)
    lines = text.splitlines()
    assert lines[0] == "📅 Kewajiban Bapak/Ibu dan batas waktunya (2):"
    assert lines[2] == "Pengumpulan Data Kinerja:"
    assert [ln.split(" — ")[0] for ln in lines[3:5]] == [
        "• Pengukuran Kinerja Triwulan (Triwulan II 2026)",
        "• Pengukuran Kinerja Semesteran (Semester I 2026)"]
    assert all("batas waktu 14 Jul 2026 16.00 WIB" in ln for ln in lines[3:5])
    assert lines[-1] == ("Bila suatu kewajiban telah diselesaikan, silakan tekan tombolnya "
                         "di bawah ini.")
    keyboard = cycle_keyboard(payload, ID)
    assert keyboard is not None
    assert [(b.text, b.callback_data) for row in keyboard.inline_keyboard for b in row] == [
        ("✔️ Selesai: Triwulan II 2026", "k:aaa"), ("✔️ Selesai: Semester I 2026", "k:bbb")]


def test_missed_reminders_are_grouped_by_instance_with_their_deadlines(
        all_flows: dict[str, Flow]) -> None:
    monday = datetime(2026, 7, 6, 10, 0, tzinfo=WIB)
    missed = [step("a", 2025, 2, "overdue", monday, at=monday.isoformat()),
              step("b", 2026, 2, "due", monday, at=monday.isoformat()),
              step("a", 2025, 5, "escalate", monday - timedelta(days=1), late=["Pak Budi"],
                   at=monday.isoformat())]
    payload = message_payload(missed, "Bu Sri", NOW)
    assert payload["missed"] and payload["task_id"] is None
    text = reminder_text(payload, all_flows, EN, NOW)
    step2 = "Step 2: Prepares the Performance Agreement data-collection form for each division"
    assert text.splitlines() == [
        "⏰ Reminders missed while the bot was unavailable (3):",
        "",
        "Drafting the Performance Agreement (PK 2025):",  # the nearest deadline first
        "• ⚠️ Step 5: Holds the Performance Agreement meeting — Pak Budi late; the deadline "
        "was 5 Jul 2026 10:00 WIB (late by 2 days)",
        f"• ⚠️ {step2} — late: the deadline was 6 Jul 2026 10:00 WIB (late by 1 day)",
        "",
        "Drafting the Performance Agreement (PK 2026):",
        f"• {step2} — late: the deadline was 6 Jul 2026 10:00 WIB (late by 1 day)",
    ]
    assert cycle_keyboard(payload, EN) is None
    # one reminder alone still reads as it always did
    single = message_payload(missed[:1], "Bu Sri", NOW)
    assert reminder_text(single, all_flows, EN, NOW).startswith("⚠️ Late: the deadline for")


def test_a_digest_of_hundreds_is_one_message_of_the_earliest(
        all_flows: dict[str, Flow]) -> None:
    """The bot down for days over a per-official procedure: 300 late steps and 40 duties owed
    to one official are one message listing the earliest deadlines, not dozens of parts, and
    its buttons stay within Telegram's 100."""
    missed = [step(f"i{n:03d}", 2026, 2, "overdue", NOW - timedelta(hours=n + 1),
                   at=NOW.isoformat()) for n in range(300)]
    duties = [duty("triwulan", "quarter", 2, f"t{n:02d}") for n in range(40)]
    payload = message_payload([*missed, *duties], "Bu Sri", NOW)
    text = reminder_text(payload, all_flows, ID, NOW)
    assert split_message(text) == [text]  # one message
    lines = text.splitlines()
    assert lines[0] == "⏰ Pengingat untuk Bapak/Ibu (340):"
    items = [ln for ln in lines if ln.startswith("• ")]
    assert len(items) == DIGEST_ITEMS == 10
    # the earliest deadlines first: the steps late the longest (300 hours: 24 June 19.30)
    assert all("⚠️ Langkah 2: " in ln for ln in items)
    assert "batas waktu 24 Jun 2026 19.30 WIB" in items[0]
    assert "batas waktu 25 Jun 2026 04.30 WIB" in items[-1]  # (291 hours)
    assert lines[-2:] == ["… dan 330 lainnya", "/tugas menampilkan langkah yang menunggu "
                          "Bapak/Ibu; /pengingat menampilkan pengingat berikutnya."]
    assert cycle_keyboard(payload, ID) is None  # no duty among those shown
    # duties alone: the buttons are those of the duties shown
    duties_only = message_payload(duties, "Bu Sri", NOW)
    keyboard = cycle_keyboard(duties_only, ID)
    assert keyboard is not None
    assert [b.callback_data for row in keyboard.inline_keyboard for b in row] == [
        f"k:t{n:02d}" for n in range(DIGEST_ITEMS)]
    text = reminder_text(duties_only, all_flows, ID, NOW)
    assert split_message(text) == [text] and "… dan 30 lainnya" in text


def test_pengingat_is_grouped_nearest_first_and_capped(all_flows: dict[str, Flow]) -> None:
    points = []
    for i, no in enumerate(range(2, 12)):  # ten steps of two flows, each with 2 reminders
        instance, year = ("a", 2025) if no % 2 else ("b", 2026)
        deadline = NOW + timedelta(days=10 - i)
        for at in (deadline - timedelta(hours=1), deadline):
            points.append(Planned(f"s:{instance}:{no}:{at}", f"s:{instance}:{no}", at,
                                  ReminderKind.BEFORE, ("m",),
                                  (step(instance, year, no, "before", deadline),)))
    text = upcoming_text(points, all_flows, ID, NOW)
    lines = text.splitlines()
    assert lines[0] == "Pengingat berikutnya untuk Bapak/Ibu:"
    items = [ln for ln in lines if ln.startswith("• ")]
    assert len(items) == 8  # one line per step, however many reminders it has
    assert lines[-1] == "… dan 2 lainnya"
    # grouped under each flow's header once; the nearest deadline first
    assert [ln for ln in lines[1:-1] if not ln.startswith("• ")] == [
        "Penyusunan Perjanjian Kinerja (PK 2025):", "Penyusunan Perjanjian Kinerja (PK 2026):"]
    assert items[0].startswith("• Langkah 11: ")
    assert items[0].endswith(" — batas waktu 8 Jul 2026 07.30 WIB; pengingat berikutnya "
                             "8 Jul 2026 06.30 WIB")


def test_a_planned_point_reads_one_field_as_its_merged_payload_says() -> None:
    shared = {"type": "cycle", "flow_id": "pdk", "task_id": None, "kind": "due"}
    p = Planned("c:x:due", "c:x", NOW, ReminderKind.DUE, ("m",),
                (shared, {"kind": "overdue", "n": 2}, {"task_id": "t1"}))
    assert p.payload == {"type": "cycle", "flow_id": "pdk", "task_id": "t1",
                         "kind": "overdue", "n": 2}  # later parts win
    for key in ("type", "flow_id", "task_id", "kind", "n", "absent"):
        assert p.get(key, "-") == p.payload.get(key, "-")
