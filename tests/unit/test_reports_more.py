"""The SOP monev, the rekap across units (and across deployments), the pictures, and a
delegated (Plt/Plh) decision, from the same kind of stored trail as test_reports.py."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook

from bot.cli import main
from bot.engine.instance import Actor, Engine
from bot.i18n import Translator
from bot.reports import (
    Trail,
    disposition_rows,
    monev,
    monev_notes,
    rekap,
    row_to_json,
    step_stats,
)
from tests.support.paths import ROOT, WIB
from tests.support.reportkit import NOW, START, play, sopbot

PNG = b"\x89PNG\r\n\x1a\n"


def run_main(monkeypatch, capsys, data: Path, *args: str) -> tuple[int, str]:
    """``sopbot ARGS`` in this process (the same entry point, without a Python start-up)."""
    monkeypatch.setenv("SOPBOT_DATA_DIR", str(data))
    monkeypatch.setenv("SOPBOT_LANGUAGE", "en")
    monkeypatch.delenv("SOPBOT_FLOWS_DIR", raising=False)
    monkeypatch.chdir(ROOT)
    code = main(list(args))
    return code, capsys.readouterr().err


# --- monev ------------------------------------------------------------------------------------


def monev_rows(path: Path) -> tuple[dict[str, object], dict[int, dict[str, object]]]:
    ws = load_workbook(path).active
    header = {}
    for row in ws.iter_rows(min_row=2, max_row=8, values_only=True):
        header[row[1]] = row[2]
    head = [c.value for c in ws[10]]
    assert ws.freeze_panes == "A11"
    lines = {r[0]: dict(zip(head, r, strict=True))
             for r in ws.iter_rows(min_row=11, values_only=True)}
    return header, lines


def test_monev_fills_the_form_from_the_facts(trail, tmp_path) -> None:
    data, _plays = trail
    out = tmp_path / "monev.xlsx"
    result = sopbot(data, "monev", "--flow", "PK", "--unit", "kec-neglasari", "--year", "2026",
                    "--out", str(out))
    assert result.returncode == 0, result.stderr
    header, lines = monev_rows(out)
    assert header["SOP number"] == "003/000.9.3.3/I/2024"
    assert header["SOP name"] == "Penyusunan Perjanjian Kinerja"
    assert header["Unit"].startswith("Kecamatan Neglasari")
    assert header["Period"] == "Year 2026" and header["Instances assessed"] == 1
    assert set(lines) == set(range(1, 10))
    late = lines[2]
    assert late["Assessment"] == "Did not run as written"
    assert (late["Done by the right role"], late["Within mutu baku"],
            late["In the SOP's order"]) == ("Yes", "No", "Yes")
    assert late["Notes"] == "late 1 time; median 2 h 30 min against a standard of 2 h"
    assert lines[3]["Assessment"] == "Ran as written"
    assert lines[3]["Notes"] == "revised 2 times; median 45 min against a standard of 1 h"
    assert lines[4]["Notes"].startswith("sent back for revision 2 times; median 5 min")
    assert lines[7]["Runs"] == 2 and lines[7]["Notes"].startswith("revised 1 time; median 10 h")
    assert lines[9]["Notes"] == "median 5 min, no standard time"
    assert all(line["Action to take"] is None for line in lines.values())  # the evaluator's


def test_monev_in_indonesian_and_by_semester(trail, tmp_path) -> None:
    data, _plays = trail
    out = tmp_path / "monev-s2.xlsx"
    result = sopbot(data, "monev", "--flow", "pk-kesbangpol-jateng", "--year", "2026",
                    "--semester", "2", "--out", str(out), lang="id")
    assert result.returncode == 0, result.stderr
    header, lines = monev_rows(out)
    assert header["Periode"] == "Semester II 2026"
    # Everything ran in January: nothing in the second semester.
    assert {line["Penilaian"] for line in lines.values()} == {"Tidak dijalankan pada periode ini"}
    out1 = tmp_path / "monev-s1.xlsx"
    assert sopbot(data, "monev", "--flow", "pk-kesbangpol-jateng", "--year", "2026",
                  "--semester", "1", "--out", str(out1), lang="id").returncode == 0
    _header, lines = monev_rows(out1)
    assert lines[1]["Penilaian"] == "Berjalan sesuai SOP"
    assert lines[9]["Catatan"].startswith("mengembalikan untuk revisi 1 kali")
    assert lines[11]["Penilaian"] == "Tidak dijalankan pada periode ini"  # still waiting


def test_monev_needs_one_unit_for_a_shared_alias(trail, tmp_path) -> None:
    data, _plays = trail
    result = sopbot(data, "monev", "--flow", "PK", "--year", "2026", "--out",
                    str(tmp_path / "x.xlsx"))
    assert result.returncode == 2
    assert "--unit" in result.stderr and "kec-neglasari" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- rekap -------------------------------------------------------------------------------------


def test_rekap_sorts_the_units_worst_first(trail) -> None:
    data, _plays = trail
    result = sopbot(data, "rekap", "--flow", "PK", "--year", "2026", "--now", NOW, "--json")
    assert result.returncode == 0, result.stderr
    lines = json.loads(result.stdout)
    assert [(x["unit"], x["state"], x["at_risk"]) for x in lines] == [
        ("kesbangpol-jateng", "active", "late"),
        ("inspektorat-nganjuk", "not_started", "not_started"),
        ("kec-sooko", "not_started", "not_started"),
        ("kec-neglasari", "completed", "done"),
    ]
    late = lines[0]
    assert (late["step"], late["position"], late["total_steps"]) == (11, 11, 13)
    assert late["holders"] == ["Ibu kepala-1"]
    assert late["working_days_late"] >= 5
    text = sopbot(data, "rekap", "--flow", "PK", "--year", "2026", "--now", NOW)
    assert text.returncode == 0, text.stderr
    out = text.stdout.splitlines()
    assert out[0].startswith("Recap PK 2026")
    assert out[1].startswith("1. Badan Kesatuan Bangsa") and "step 11 of 13" in out[1]
    assert f"late by {late['working_days_late']} working days" in out[1]
    assert out[4].startswith("4. Kecamatan Neglasari") and out[4].endswith("completed")


def test_rekap_of_a_per_official_procedure_counts_officials(trail) -> None:
    data, _plays = trail
    result = sopbot(data, "rekap", "--flow", "PDK", "--year", "2026", "--now", NOW, "--json")
    assert result.returncode == 0, result.stderr
    [line] = json.loads(result.stdout)
    assert (line["done"], line["in_progress"], line["late"]) == (1, 1, 1)
    assert line["holders"] == ["Ibu pegawai-2"] and line["per_official"] is True
    text = sopbot(data, "rekap", "--flow", "PDK", "--year", "2026", "--now", NOW, lang="id")
    assert "selesai 1, berjalan 1, terlambat 1 (Ibu pegawai-2)" in text.stdout


def test_rekap_merge_builds_a_province_wide_recap(trail, tmp_path) -> None:
    data, _plays = trail
    rows = json.loads(sopbot(data, "export", "--year", "2026", "--json").stdout)
    # Two deployments (one bot per Pemda), each exporting its own units.
    (tmp_path / "kota.json").write_text(json.dumps(
        [r for r in rows if r["unit"] == "kec-neglasari"]), encoding="utf-8")
    (tmp_path / "prov.json").write_text(json.dumps(
        [r for r in rows if r["unit"] != "kec-neglasari"]), encoding="utf-8")
    out = tmp_path / "rekap.xlsx"
    result = sopbot(data, "rekap", "merge", str(tmp_path / "kota.json"),
                    str(tmp_path / "prov.json"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    wb = load_workbook(out)
    assert wb.sheetnames == ["Recap", "Dispositions"]
    ws = wb["Recap"]
    assert ws.freeze_panes == "A2"
    head = [c.value for c in ws[1]]
    recap = [dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert [(r["Source"], r["Unit"]) for r in recap] == [
        ("prov", "setwan-nganjuk"), ("kota", "kec-neglasari"), ("prov", "kesbangpol-jateng")]
    ng = recap[1]
    assert (ng["Late steps"], ng["Revisions"], ng["Working time beyond mutu baku"]) == (
        1, 3, "30 min")
    assert ng["Last step"] == 9 and isinstance(ng["Last decision"], datetime)
    assert wb["Dispositions"].max_row == len(rows) + 1


def test_rekap_merge_refuses_a_file_that_is_not_an_export(trail, tmp_path) -> None:
    data, _plays = trail
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"unit": "x"}]), encoding="utf-8")
    result = sopbot(data, "rekap", "merge", str(bad), "--out", str(tmp_path / "r.xlsx"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"{bad.stem} is not the output of sopbot export --json."
    assert not (tmp_path / "r.xlsx").exists()


# --- pictures ----------------------------------------------------------------------------------


def assert_png(path: Path) -> None:
    blob = path.read_bytes()
    assert blob[:8] == PNG and len(blob) > 30_000


def test_chart_draws_the_timeline_of_an_instance(trail, tmp_path, monkeypatch,
                                                 capsys) -> None:
    data, _plays = trail
    out = tmp_path / "kesbangpol.png"
    result = sopbot(data, "chart", "--flow", "PK", "--unit", "kesbangpol-jateng", "--year",
                    "2026", "--now", NOW, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert_png(out)
    for flow, unit, extra in (("PK", "kec-neglasari", ()),
                              ("PDK", "setwan-nganjuk", ("--official", "pegawai-2"))):
        out = tmp_path / f"{unit}.png"
        code, err = run_main(monkeypatch, capsys, data, "chart", "--flow", flow, "--unit", unit,
                             "--year", "2026", "--now", NOW, "--out", str(out), *extra)
        assert code == 0, err
        assert_png(out)
    missing = sopbot(data, "chart", "--flow", "PK", "--unit", "kec-sooko", "--year", "2026",
                     "--out", str(tmp_path / "none.png"))
    assert missing.returncode == 1 and "Kecamatan Sooko" in missing.stderr


def test_flows_draw_every_flow_as_a_swimlane(trail, all_flows, tmp_path,
                                             monkeypatch, capsys) -> None:
    data, _plays = trail
    for flow in all_flows.values():
        out = tmp_path / f"{flow.id}.png"
        code, err = run_main(monkeypatch, capsys, data, "flows", "draw", flow.id, "--out",
                             str(out))
        assert code == 0, err
        assert_png(out)
    active = tmp_path / "active.png"
    result = sopbot(data, "flows", "draw", "PK", "--unit", "kesbangpol-jateng", "--year",
                    "2026", "--out", str(active))
    assert result.returncode == 0, result.stderr
    assert_png(active)
    assert active.read_bytes() != (tmp_path / "pk-kesbangpol-jateng.png").read_bytes()


# --- delegation (Plt/Plh) ----------------------------------------------------------------------


def test_a_delegated_decision_shows_who_was_acted_for(all_flows) -> None:
    flow = all_flows["pk-kec-neglasari"]
    played = play(flow, START, revise={4: 1})
    disps = list(played.dispositions)
    i = next(i for i, d in enumerate(disps) if d.step_no == 4 and d.action.value == "approve")
    d = disps[i]
    # the Sekcam approved as Plh. of the Camat (the engine records the acting capacity)
    disps[i] = dataclasses.replace(d, member="sekcam-1", acting_for="camat-1", acting_kind="plh")
    delegated = Trail(flow, played.instance, tuple(disps),
                      names={"camat-1": "Bapak Camat", "sekcam-1": "Ibu Sekcam"})
    rows = disposition_rows(delegated)
    row = rows[i]
    assert (row.official, row.acting_for, row.acting_kind) == ("Ibu Sekcam", "Bapak Camat",
                                                               "plh")
    assert row_to_json(row)["acting_for"] == "Bapak Camat"
    assert [s.delegated for s in step_stats(flow, rows) if s.step_no == 4] == [1]
    form = monev(flow, 2026, [delegated])
    line4 = form.lines[3]
    assert line4.delegated == 1 and line4.as_written is True
    assert "delegated (Plt/Plh) 1 time" in monev_notes(line4, Translator("en"))


def test_timeline_starts_come_from_the_sop_rules(all_flows) -> None:
    flow = all_flows["pk-kec-neglasari"]
    played = play(flow, datetime(2026, 1, 5, 8, 0, tzinfo=WIB), revise={4: 1},
                  per_role={"pejabat_unit_kerja": 3}, minutes={7: 100})
    rows = disposition_rows(Trail(flow, played.instance, tuple(played.dispositions)))
    by_step = {}
    for row in rows:
        by_step.setdefault((row.step, row.round), []).append(row)
    # Step 3 again after the revision starts when step 4 was sent back.
    revise = by_step[(4, 1)][0]
    assert revise.action == "revise" and by_step[(3, 2)][0].started == revise.decided
    # Step 8 starts when the last of the three officials finished fan-out step 7.
    assert len(by_step[(7, 1)]) == 3
    assert by_step[(8, 1)][0].started == max(r.decided for r in by_step[(7, 1)])
    assert all(r.started == by_step[(7, 1)][0].started for r in by_step[(7, 1)])


def test_rekap_order_late_due_soon_not_started_cancelled_done(all_flows) -> None:
    pk = [f for f in all_flows.values() if f.alias == "PK"]
    flows = {f.unit.id: f for f in pk}
    late = play(flows["kesbangpol-jateng"], START, stop_at=2, instance_id="a")
    soon = play(flows["kec-sooko"], START, stop_at=4, instance_id="b")
    done = play(flows["kec-neglasari"], START, instance_id="c")
    cancelled = play(flows["inspektorat-nganjuk"], START, stop_at=3, instance_id="d")
    engine = Engine(flows["inspektorat-nganjuk"])
    stop = engine.cancel(cancelled.instance, by=Actor.of("inspektur-1", "inspektur"),
                         now=START + timedelta(hours=1), reason="DPA belum disahkan")
    trails = [Trail(p.flow, p.instance, tuple(p.dispositions)) for p in (late, done)]
    trails.append(Trail(soon.flow, soon.instance, tuple(soon.dispositions),
                        names={"kasubag_program-1": "Bapak Kasubag"},
                        holders={"kasubag_program": ["kasubag_program-1"]}))
    trails.append(Trail(cancelled.flow, stop.instance,
                        (*cancelled.dispositions, stop.disposition)))
    # Monday 14:00: Kesbangpol's 2 Jam step (from 08:05) is late, not yet by a working day;
    # Sooko's 1 Hari step (from 08:15) falls due within a working day.
    now = datetime(2026, 1, 5, 14, 0, tzinfo=WIB)
    lines = rekap(pk, 2026, trails, now)
    assert [(x.unit, x.at_risk) for x in lines] == [
        ("kesbangpol-jateng", "late"), ("kec-sooko", "due_soon"),
        ("inspektorat-nganjuk", "cancelled"), ("kec-neglasari", "done")]
    assert lines[0].working_days_late == 0 and lines[0].step == 2
    assert lines[1].holders == ("Bapak Kasubag",)  # whoever holds the step's role
    assert rekap(pk, 2027, trails, now)[0].state == "not_started"
