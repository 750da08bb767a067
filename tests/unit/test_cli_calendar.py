"""``sopbot calendar due`` and ``sopbot reminders plan``, run as an admin runs them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.cli import run_sopbot
from tests.support.paths import DATA_DIR, ROOT

MINI = (DATA_DIR / "mini.yaml").read_text(encoding="utf-8")
DPRD = "pengumpulan-data-kinerja-dprd-nganjuk"


def sopbot(*args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOPBOT_LANGUAGE": lang}
    env.pop("SOPBOT_FLOWS_DIR", None)
    return run_sopbot(*args, env=env)


def wita_flows(tmp_path: Path) -> Path:
    """A one-flow directory whose unit works 08:00–16:00 WITA and reports each semester."""
    text = MINI.replace(
        "unit: {id: kantor, name: Kantor Uji}",
        "unit: {id: kantor-wita, name: Kantor Uji, timezone: WITA, "
        "office_hours: {mon-fri: '08:00-16:00'}}")
    text += ("cycles:\n"
             "  - {id: laporan, name: Laporan Semester, period: semester, steps: [1],\n"
             "     due: {working_days_after_period_end: 0}, applies_to: kepala}\n")
    (tmp_path / "mini.yaml").write_text(text, encoding="utf-8")
    return tmp_path


# --- calendar due --------------------------------------------------------------------------


def test_due_two_days_across_nyepi_and_idul_fitri() -> None:
    result = sopbot("calendar", "due", "2026-03-17T15:00", "2 Hari")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "2026-03-26T15:00:00+07:00",
        "Thursday, 26 March 2026 at 15:00 WIB",
    ]


def test_due_in_indonesian_for_a_unit() -> None:
    result = sopbot("calendar", "due", "2026-03-17T15:00", "2 Hari", "--unit", "kec-neglasari",
                    lang="id")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "2026-03-26T15:00:00+07:00",
        "Kamis, 26 Maret 2026 pukul 15.00 WIB",
    ]


def test_due_with_an_offset_in_a_wita_unit(tmp_path: Path) -> None:
    # 07:00 WIB is 08:00 WITA, the unit's opening; Friday 15:00 WITA + 2 Jam is Monday 09:00.
    flows = str(wita_flows(tmp_path))
    result = sopbot("calendar", "due", "2026-01-05T07:00+07:00", "2 Jam", "--unit",
                    "kantor-wita", "--dir", flows)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "2026-01-05T10:00:00+08:00", "Monday, 5 January 2026 at 10:00 WITA"]
    result = sopbot("calendar", "due", "2026-01-09T15:00", "2 Jam", "--unit", "kantor-wita",
                    "--dir", flows)
    assert result.stdout.splitlines()[0] == "2026-01-12T09:00:00+08:00"


def test_due_bad_input_exits_2() -> None:
    bad_start = sopbot("calendar", "due", "17-03-2026 15:00", "2 Hari")
    assert bad_start.returncode == 2
    assert bad_start.stdout == ""
    assert "Bad start '17-03-2026 15:00'" in bad_start.stderr
    assert "Traceback" not in bad_start.stderr
    bad_waktu = sopbot("calendar", "due", "2026-03-17T15:00", "2 Minggu")
    assert bad_waktu.returncode == 2
    assert "Bad standard time '2 Minggu'" in bad_waktu.stderr
    bad_unit = sopbot("calendar", "due", "2026-03-17T15:00", "2 Hari", "--unit", "kec-nowhere")
    assert bad_unit.returncode == 2
    assert "No unit 'kec-nowhere'" in bad_unit.stderr
    assert "setwan-nganjuk" in bad_unit.stderr


def test_due_without_standard_time() -> None:
    result = sopbot("calendar", "due", "2026-03-17T15:00", "-")
    assert result.returncode == 0
    assert result.stdout.strip() == "No deadline: the step has no standard time."


# --- reminders plan ------------------------------------------------------------------------


def test_plan_json_for_the_dprd_unit() -> None:
    result = sopbot("reminders", "plan", "--year", "2026", "--unit", "setwan-nganjuk", "--json")
    assert result.returncode == 0, result.stderr
    plans = json.loads(result.stdout)
    assert [p["key"] for p in plans] == [
        "triwulan-2026-1", "triwulan-2026-2", "semester-2026-1", "triwulan-2026-3",
        "triwulan-2026-4", "semester-2026-2", "tahunan-2026-1",
    ]
    first = plans[0]
    assert set(first) == {"unit", "flow", "cycle", "key", "period_start", "period_end", "due",
                          "reminders"}
    assert first["unit"] == "setwan-nganjuk"
    assert first["flow"] == DPRD
    assert first["cycle"] == "triwulan"
    assert (first["period_start"], first["period_end"]) == ("2026-01-01", "2026-03-31")
    assert first["due"] == "2026-04-15T16:00:00+07:00"
    assert first["reminders"][:5] == [
        {"kind": "before", "at": "2026-04-08T07:30:00+07:00", "n": 0},
        {"kind": "recap", "at": "2026-04-08T07:30:00+07:00", "n": 0},
        {"kind": "due", "at": "2026-04-15T07:30:00+07:00", "n": 0},
        {"kind": "recap", "at": "2026-04-15T07:30:00+07:00", "n": 0},
        {"kind": "overdue", "at": "2026-04-16T07:30:00+07:00", "n": 1},
    ]
    assert first["reminders"][-1] == {"kind": "overdue", "at": "2026-04-29T07:30:00+07:00",
                                      "n": 10}
    dues = {p["key"]: p["due"] for p in plans}
    assert dues["triwulan-2026-3"] == "2026-10-14T16:00:00+07:00"
    assert dues["tahunan-2026-1"] == "2027-01-18T16:00:00+07:00"


def test_plan_json_wita_and_units_without_cycles(tmp_path: Path) -> None:
    result = sopbot("reminders", "plan", "--year", "2026", "--json", "--dir",
                    str(wita_flows(tmp_path)))
    assert result.returncode == 0, result.stderr
    plans = json.loads(result.stdout)
    assert [(p["key"], p["due"]) for p in plans] == [
        ("laporan-2026-1", "2026-06-30T16:00:00+08:00"),
        ("laporan-2026-2", "2026-12-31T16:00:00+08:00"),
    ]
    assert plans[0]["reminders"][0] == {"kind": "before", "at": "2026-06-23T08:00:00+08:00",
                                        "n": 0}
    none = sopbot("reminders", "plan", "--year", "2026", "--unit", "kec-neglasari", "--json")
    assert none.returncode == 0, none.stderr
    assert json.loads(none.stdout) == []


def test_plan_human_form() -> None:
    result = sopbot("reminders", "plan", "--year", "2026", "--unit", "setwan-nganjuk")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("Performance Data Collection (pengumpulan-data-kinerja-dprd-nganjuk) — "
                        "Sekretariat DPRD Kabupaten Nganjuk (setwan-nganjuk)")
    block = lines[lines.index("Quarter I 2026 — Pengukuran Kinerja Triwulan "
                              "[triwulan-2026-1]"):]
    assert block[1:6] == [
        "  Period: 1 January 2026 – 31 March 2026",
        "  Deadline: Wednesday, 15 April 2026 at 16:00 WIB",
        "  For: each official of the per-official procedure, for himself",
        "  Reminders:",
        "    8 Apr 2026 07:30 WIB  reminder before the deadline",
    ]
    assert "    16 Apr 2026 07:30 WIB  late reminder 1" in block
    year = lines[lines.index("Year 2026 — Dokumen Kinerja Tahunan [tahunan-2026-1]"):]
    assert year[1:4] == [
        "  Period: 1 January 2026 – 31 December 2026",
        "  Deadline: Monday, 18 January 2027 at 16:00 WIB",
        "  For: each official of the per-official procedure, for himself",
    ]
    assert result.stdout.count("  Deadline: ") == 7


def test_plan_human_form_in_indonesian() -> None:
    result = sopbot("reminders", "plan", "--year", "2026", "--unit", "setwan-nganjuk",
                    lang="id")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Pengumpulan Data Kinerja (pengumpulan-data-kinerja-dprd-nganjuk)")
    assert "Rabu, 15 April 2026 pukul 16.00 WIB" in out
    assert "Senin, 18 Januari 2027 pukul 16.00 WIB" in out
    assert "1 Januari 2026 – 31 Maret 2026" in out
    assert "8 Apr 2026 07.30 WIB" in out


def test_plan_errors(tmp_path: Path) -> None:
    unknown = sopbot("reminders", "plan", "--year", "2026", "--unit", "kec-nowhere")
    assert unknown.returncode == 2
    assert "No unit 'kec-nowhere'" in unknown.stderr
    (tmp_path / "bad.yaml").write_text(MINI.replace("waktu: 1 Hari", "waktu: lama"),
                                       encoding="utf-8")
    broken = sopbot("reminders", "plan", "--year", "2026", "--dir", str(tmp_path))
    assert broken.returncode == 1
    assert broken.stderr.splitlines()[0] == "1 problem found:"
    assert "steps[2] (no 3).waktu" in broken.stderr
    bad_year = sopbot("reminders", "plan", "--year", "0")
    assert bad_year.returncode == 2
    assert "Bad year 0" in bad_year.stderr


# --- calendar.yaml and calendar show ---------------------------------------------------------

CALENDAR_YAML = """\
all:
  cuti_bersama:
    2028:
      - {date: 2028-01-28, name: Cuti Bersama Tahun Baru Imlek}
units:
  kantor:
    holidays:
      - {date: 2026-04-10, name: "Hari Jadi Kabupaten (Keputusan Bupati No. 7/2026)"}
    removed:
      - {date: 2026-12-24, name: piket akhir tahun}
    working_days:
      - {date: 2026-03-28, name: Sabtu pengganti}
"""


def calendar_flows(tmp_path: Path, calendar: str = CALENDAR_YAML) -> Path:
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    (tmp_path / "calendar.yaml").write_text(calendar, encoding="utf-8")
    return tmp_path


def test_calendar_show_lists_every_day_off_with_its_source(tmp_path: Path) -> None:
    flows = calendar_flows(tmp_path)
    result = sopbot("calendar", "show", "--year", "2026", "--dir", str(flows))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Kantor Uji (kantor), WIB — 2026"
    calendar = str(flows / "calendar.yaml")
    hut = next(line for line in lines if "Fri 10 Apr 2026" in line)
    assert "unit holiday" in hut and "Keputusan Bupati" in hut and f"[{calendar}:8]" in hut
    saturday = next(line for line in lines if "Sat 28 Mar 2026" in line)
    assert "working day" in saturday and f"[{calendar}:12]" in saturday
    christmas_eve = next(line for line in lines if "Thu 24 Dec 2026" in line)
    assert "worked: holiday removed" in christmas_eve
    imlek = next(line for line in lines if "Mon 16 Feb 2026" in line)
    assert "cuti bersama" in imlek and "[holidays library 0." in imlek
    assert any(re.fullmatch(r"  and \d+ closed weekdays \(weekends.*\)", x) for x in lines)
    assert re.search(r"\d+ non-working days in 2026\.", result.stdout)


def test_calendar_show_json_and_indonesian(tmp_path: Path) -> None:
    flows = calendar_flows(tmp_path)
    result = sopbot("calendar", "show", "--year", "2028", "--unit", "kantor", "--json",
                    "--dir", str(flows))
    assert result.returncode == 0, result.stderr
    [unit] = json.loads(result.stdout)
    assert unit["unit"] == "kantor" and unit["cuti_bersama_known"] is True
    days = {d["date"]: d for d in unit["days"]}
    assert days["2028-01-28"]["kind"] == "cuti_bersama"
    assert days["2028-01-28"]["source"] == f"{flows / 'calendar.yaml'}:4"
    assert days["2028-01-02"]["kind"] == "weekend"  # a Sunday
    indonesian = sopbot("calendar", "show", "--year", "2026", "--dir", str(flows), lang="id")
    assert "libur unit" in indonesian.stdout and "hari kerja pengganti" in indonesian.stdout


def test_calendar_show_warns_when_cuti_bersama_are_unknown() -> None:
    result = sopbot("calendar", "show", "--year", "2030", "--unit", "kec-neglasari")
    assert result.returncode == 0, result.stderr
    assert "Warning: the cuti bersama of 2030 are not known yet" in result.stdout


def test_calendar_file_moves_deadlines(tmp_path: Path) -> None:
    flows = calendar_flows(tmp_path)
    plain = sopbot("calendar", "due", "2026-04-09T10:00", "1 Hari", "--unit", "kec-neglasari")
    assert plain.stdout.splitlines()[0] == "2026-04-10T10:00:00+07:00"
    result = sopbot("calendar", "due", "2026-04-09T10:00", "1 Hari", "--unit", "kantor",
                    "--dir", str(flows))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "2026-04-13T10:00:00+07:00"


def test_calendar_file_named_by_the_environment(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "mini.yaml").write_text(MINI, encoding="utf-8")
    (tmp_path / "kalender.yaml").write_text(CALENDAR_YAML, encoding="utf-8")
    env = {**os.environ, "SOPBOT_LANGUAGE": "en",
           "SOPBOT_CALENDAR_FILE": str(tmp_path / "kalender.yaml")}
    result = subprocess.run([sys.executable, "-m", "bot", "calendar", "due", "2026-04-09T10:00",
                             "1 Hari", "--unit", "kantor", "--dir", str(tmp_path / "flows")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines()[0] == "2026-04-13T10:00:00+07:00", result.stderr


def test_a_bad_calendar_file_is_reported_like_flows(tmp_path: Path) -> None:
    flows = calendar_flows(tmp_path, """\
units:
  kantor:
    holidays:
      - {date: 2026-02-30, name: Tanggal salah}
      - 2026-05-04
    removed:
      - {date: 2026-03-02, name: bukan libur}
    working_days:
      - {date: 2026-03-02, name: sudah hari kerja}
    cuti_bersama:
      2027:
        - {date: 2026-12-31, name: tahun salah}
    libur: []
  kantor-lain: {}
""")
    result = sopbot("flows", "check", str(flows))
    assert result.returncode == 1
    calendar = str(flows / "calendar.yaml")
    for expected in (
        f"{calendar}:4: units.kantor.holidays[0]: '2026-02-30' is not a date written YYYY-MM-DD",
        f"{calendar}:5: units.kantor.holidays[1]: give the day's name too",
        f"{calendar}:7: removed (kantor): 2026-03-02 is not a holiday or cuti bersama",
        f"{calendar}:9: working_days (kantor): 2026-03-02 is already a working day",
        f"{calendar}:12: units.kantor.cuti_bersama.2027: 2026-12-31 is not in 2027",
        f"{calendar}:13: units.kantor.libur: unknown field",
        f"{calendar}:14: units.kantor-lain: unknown unit 'kantor-lain'; known: kantor",
    ):
        assert expected in result.stderr, result.stderr
    indonesian = sopbot("flows", "check", str(flows), lang="id")
    assert "bukan tanggal yang ditulis YYYY-MM-DD" in indonesian.stderr
    # the calendar file is not mistaken for a flow file
    assert "mini.yaml" not in result.stderr
