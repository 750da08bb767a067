"""The command line, run the way an admin runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from bot.cli import main
from tests.support.cli import run_sopbot
from tests.support.paths import DATA_DIR, FLOWS_DIR

MINI = (DATA_DIR / "mini.yaml").read_text(encoding="utf-8")


def sopbot(*args: str, lang: str = "id") -> subprocess.CompletedProcess[str]:
    return run_sopbot(*args, env={**os.environ, "SOPBOT_LANGUAGE": lang})


def test_flows_check_passes_on_the_shipped_flows() -> None:
    result = sopbot("flows", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("5 alur valid.")


def test_flows_check_lists_every_problem_and_fails(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(MINI, encoding="utf-8")
    bad = MINI.replace("id: mini", "id: bad").replace("alias: MINI", "alias: BAD")
    bad = bad.replace("actor: staf, waktu: 2 Jam", "actor: nobody, waktu: 2 Jam")
    bad = bad.replace("waktu: 1 Hari", "waktu: lama")
    (tmp_path / "bad.yaml").write_text(bad, encoding="utf-8")
    result = sopbot("flows", "check", str(tmp_path), lang="en")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "2 problems found:"
    assert f"{tmp_path}/bad.yaml:" in lines[1] and "steps[1] (no 2).actor" in lines[1]
    assert "steps[2] (no 3).waktu" in lines[2]


def test_flows_show_neglasari_matches_the_sop_total() -> None:
    result = sopbot("flows", "show", "pk-kec-neglasari")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Jumlah waktu: 5 Hari 6 Jam 35 Menit" in out
    assert "Nomor SOP" in out and "003/000.9.3.3/I/2024" in out
    assert "Melakukan persetujuan Perjanjian Kinerja" in out
    for header in ("No", "Uraian prosedur", "Pelaksana", "Waktu", "Output"):
        assert header in out


def test_flows_show_in_english() -> None:
    result = sopbot("flows", "show", "PK", "--unit", "kec-neglasari", lang="en")
    assert "Total time: 5 Hari 6 Jam 35 Menit" in result.stdout


def test_flows_show_json_contract() -> None:
    result = sopbot("flows", "show", "pk-kesbangpol-jateng", "--json")
    data = json.loads(result.stdout)
    assert data["id"] == "pk-kesbangpol-jateng" and data["alias"] == "PK"
    assert data["name"] == "Penyusunan Perjanjian Kinerja"
    assert data["unit"]["id"] == "kesbangpol-jateng"
    assert data["unit"]["name"] == "Badan Kesatuan Bangsa dan Politik Provinsi Jawa Tengah"
    assert {"id": "kepala", "title": "Kepala Badan"}.items() <= data["roles"][0].items()
    step9 = next(s for s in data["steps"] if s["no"] == 9)
    assert {k: step9[k] for k in ("no", "actor", "kind", "waktu", "on_revise")} == {
        "no": 9, "actor": "sekretaris", "kind": "decision", "waktu": "1 Hari", "on_revise": 8}
    step1 = data["steps"][0]
    assert set(step1) >= {"no", "title", "actor", "kind", "waktu", "output"}
    assert step1["kind"] == "task" and "on_revise" not in step1


def test_flows_list_json_has_every_flow() -> None:
    data = json.loads(sopbot("flows", "list", "--json").stdout)
    assert sorted(f["id"] for f in data) == sorted(p.stem for p in FLOWS_DIR.glob("*.yaml"))
    assert all({"id", "alias", "name", "unit", "roles", "steps"} <= set(f) for f in data)


def test_flows_list_human(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flows", "list", "--dir", str(FLOWS_DIR)]) == 0
    out = capsys.readouterr().out
    assert "pengumpulan-data-kinerja-dprd-nganjuk  PDK" in out


def test_ambiguous_alias_and_unknown_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flows", "show", "PK", "--dir", str(FLOWS_DIR)]) == 2
    err = capsys.readouterr().err
    assert "--unit kec-sooko" in err and "--unit kesbangpol-jateng" in err
    assert main(["flows", "show", "XYZ", "--dir", str(FLOWS_DIR)]) == 2
    assert "pk-kec-sooko" in capsys.readouterr().err
    assert main(["flows", "show", "pdk", "--dir", str(FLOWS_DIR), "--json"]) == 0


def test_console_script_and_module_agree() -> None:
    assert sopbot("--help").returncode == 0
    assert sopbot("flows", "check", "/nonexistent").returncode == 1
