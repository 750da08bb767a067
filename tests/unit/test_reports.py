"""Reports from the stored trail, driven the way an admin runs them: a trail played through
the engine (revisions, a late step, a fan-out, per-official instances), stored in a real data
directory, then ``sopbot export / monev / rekap / chart / flows draw`` read back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from bot.engine.calendar import WorkCalendar
from bot.engine.waktu import TimeUnit, parse_waktu
from bot.reports import mutu_baku_minutes, working_minutes
from tests.support.paths import WIB
from tests.support.reportkit import (
    ACTIONS_EN,
    EXPORT_FIELDS,
    Played,
    member_name,
    sopbot,
)


def expected_rows(plays: list[Played]) -> list[tuple[Played, object]]:
    """Dispositions in the export's order: by unit, flow, instance start, then as stored."""
    ordered = sorted(plays, key=lambda p: (p.flow.unit.id, p.flow.id, p.instance.created_at,
                                           p.instance.id))
    return [(p, d) for p in ordered for d in p.dispositions]


def nominal(waktu_text: str) -> int | None:
    waktu = parse_waktu(waktu_text)
    return {TimeUnit.MINUTE: waktu.amount, TimeUnit.HOUR: waktu.amount * 60}.get(waktu.unit)


# --- working time ---------------------------------------------------------------------------


def test_working_minutes_count_office_hours_only() -> None:
    cal = WorkCalendar("Asia/Jakarta")
    friday = datetime(2026, 1, 9, 15, 0, tzinfo=WIB)
    # Friday 15:00–16:30, the weekend off, Monday 07:30–09:00.
    assert working_minutes(cal, friday, datetime(2026, 1, 12, 9, 0, tzinfo=WIB)) == 180
    # Nyepi with its cuti bersama and the Idul Fitri days off (18–24 Mar 2026) count nothing:
    # Tue 17 Mar 15:00 to Wed 25 Mar 08:00 is 60 + 30 minutes.
    assert working_minutes(cal, datetime(2026, 3, 17, 15, 0, tzinfo=WIB),
                           datetime(2026, 3, 25, 8, 0, tzinfo=WIB)) == 60 + 30
    assert working_minutes(cal, friday, friday - timedelta(hours=1)) == 0
    # The same span seen from WITA is the same office time.
    assert working_minutes(cal, friday.astimezone(WorkCalendar("WITA").tz),
                           datetime(2026, 1, 12, 9, 0, tzinfo=WIB)) == 180


@pytest.mark.parametrize("start", [datetime(2026, 1, 5, 7, 30, tzinfo=WIB),
                                   datetime(2026, 1, 9, 16, 0, tzinfo=WIB),
                                   datetime(2026, 1, 10, 11, 0, tzinfo=WIB),
                                   datetime(2026, 3, 18, 15, 59, tzinfo=WIB)])
@pytest.mark.parametrize("text", ["10 Menit", "2 Jam", "180 Menit", "2 Hari"])
def test_mutu_baku_is_the_office_time_to_the_deadline(start: datetime, text: str) -> None:
    cal = WorkCalendar("Asia/Jakarta")
    waktu = parse_waktu(text)
    minutes = mutu_baku_minutes(cal, waktu, start)
    assert minutes == working_minutes(cal, start, cal.due(start, waktu))
    if nominal(text) is not None:
        assert minutes == nominal(text)
    assert mutu_baku_minutes(cal, parse_waktu("-"), start) is None


# --- export -----------------------------------------------------------------------------------


def test_export_xlsx_has_every_disposition_with_its_working_time(trail, tmp_path) -> None:
    data, plays = trail
    out = tmp_path / "trail.xlsx"
    result = sopbot(data, "export", "--year", "2026", "--out", str(out))
    assert result.returncode == 0, result.stderr
    wb = load_workbook(out)
    ws = wb["Dispositions"]
    assert ws.freeze_panes == "A2"
    head = [c.value for c in ws[1]]
    assert head[:4] == ["Unit", "Flow", "Year", "Step"]
    col = {name: i for i, name in enumerate(head)}
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    expected = expected_rows(plays)
    assert len(rows) == len(expected) > 40  # every play of the trail, revisions included
    late_steps = set()
    for row, (p, d) in zip(rows, expected, strict=True):
        step = p.flow.step(d.step_no)
        assert row[col["Unit"]] == p.flow.unit.name
        assert row[col["Year"]] == 2026
        assert (row[col["Step"]], row[col["Round"]]) == (d.step_no, d.round)
        assert row[col["Procedure (uraian)"]] == step.title
        assert row[col["Official"]] == member_name(d.member)
        assert row[col["Role"]] == p.flow.role(d.role).title
        assert row[col["Action"]] == ACTIONS_EN[d.action.value]
        assert (row[col["Note"]] or None) == d.note
        assert (row[col["Attachments"]] or "") == "\n".join(d.attachments)
        decided = row[col["Decided"]]
        assert isinstance(decided, datetime)  # a real Excel date, in the unit's wall-clock time
        assert decided == d.at.astimezone(WIB).replace(tzinfo=None)
        if d.action.value == "start":
            assert row[col["Actual working time (minutes)"]] is None
            continue
        took = p.minutes[(d.step_no, d.round, d.member)]
        assert row[col["Actual working time (minutes)"]] == took
        assert row[col["Step started"]] <= decided
        baku = nominal(str(step.waktu))
        if baku is not None:
            assert row[col["Mutu baku (working minutes)"]] == baku
            assert row[col["Late"]] == ("Yes" if took > baku else "No")
        if row[col["Late"]] == "Yes":
            late_steps.add((p.flow.unit.id, d.step_no))
    # 150 min on a 2 Jam step; 900 min on a 1 Hari step (one working day is 510 minutes here).
    assert late_steps == {("kec-neglasari", 2), ("setwan-nganjuk", 4)}
    date_cell = ws.cell(2, col["Decided"] + 1)
    assert date_cell.is_date and date_cell.number_format == "yyyy-mm-dd hh:mm"
    assert ws.column_dimensions["F"].width > 20  # the uraian column is sized to its text


def test_export_has_step_statistics_per_flow(trail, tmp_path) -> None:
    data, _plays = trail
    out = tmp_path / "ng.xlsx"
    result = sopbot(data, "export", "--year", "2026", "--flow", "PK", "--unit",
                    "kec-neglasari", "--out", str(out))
    assert result.returncode == 0, result.stderr
    wb = load_workbook(out)
    assert wb.sheetnames == ["Dispositions", "PK kec-neglasari"]
    ws = wb["PK kec-neglasari"]
    assert ws.freeze_panes == "A4"
    head = [c.value for c in ws[3]]
    stats = {r[0]: dict(zip(head, r, strict=True))
             for r in ws.iter_rows(min_row=4, values_only=True)}
    assert set(stats) == set(range(1, 10))
    assert stats[2]["Late"] == 1 and stats[2]["Worst actual (working minutes)"] == 150
    assert stats[2]["Mutu baku (working minutes)"] == 120
    assert stats[3]["Decisions measured"] == 3 and stats[3]["Revised"] == 2
    assert stats[3]["Median actual (working minutes)"] == 45
    assert stats[4]["Sent back for revision"] == 2 and stats[4]["Decisions measured"] == 3
    assert stats[7]["Decisions measured"] == 4  # two officials, two rounds
    assert stats[7]["Revised"] == 1 and stats[7]["Median actual (working minutes)"] == 600
    assert stats[9]["Mutu baku (working minutes)"] is None  # "-" in the SOP


def test_export_json_has_exactly_the_documented_fields(trail) -> None:
    data, plays = trail
    result = sopbot(data, "export", "--year", "2026", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    expected = expected_rows(plays)
    assert len(rows) == len(expected)
    for row, (p, d) in zip(rows, expected, strict=True):
        assert list(row) == EXPORT_FIELDS
        assert (row["unit"], row["flow"], row["year"]) == (p.flow.unit.id, p.flow.id, 2026)
        assert (row["step"], row["role"], row["action"]) == (d.step_no, d.role, d.action.value)
        assert row["official"] == member_name(d.member) and row["acting_for"] is None
        assert datetime.fromisoformat(row["decided"]) == d.at
        assert row["decided"].endswith("+07:00")  # the unit's zone
        if d.action.value != "start":
            assert row["actual_working_minutes"] == p.minutes[(d.step_no, d.round, d.member)]
            assert isinstance(row["late"], bool)
        else:
            assert row["actual_working_minutes"] is None and row["late"] is False


def test_export_refuses_what_it_cannot_do(trail, tmp_path) -> None:
    data, _plays = trail
    no_out = sopbot(data, "export", "--year", "2026")
    assert no_out.returncode == 2 and "--out" in no_out.stderr
    bad_flow = sopbot(data, "export", "--year", "2026", "--flow", "XYZ", "--json")
    assert bad_flow.returncode == 2 and "XYZ" in bad_flow.stderr
    assert "Traceback" not in bad_flow.stderr
    no_data = sopbot(tmp_path / "nowhere", "export", "--year", "2026", "--json")
    assert no_data.returncode == 1 and "SOPBOT_DATA_DIR" in no_data.stderr
    assert not (tmp_path / "nowhere").exists()  # a report creates no data directory
    unwritable = sopbot(data, "export", "--year", "2026", "--out",
                        str(tmp_path / "missing" / "x.xlsx"))
    assert unwritable.returncode == 1 and "Traceback" not in unwritable.stderr
