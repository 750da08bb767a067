"""``sopbot flows show`` reads like the SOP with the issue-13 fields: who is outside the office,
who starts and cancels, the wait after a step, the parts of a fan-out, where an event step
resumes, viewpoint titles; ``--json`` only gains fields."""

from __future__ import annotations

import json

import pytest

from bot.cli import main


def show(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str,
         lang: str = "en") -> str:
    monkeypatch.setenv("SOPBOT_LANGUAGE", lang)
    assert main(["flows", "show", *args, "--dir", "flows"]) == 0
    return capsys.readouterr().out


def uraian(out: str) -> str:
    """The Uraian column of the step table, its wrapped lines joined."""
    cells = [line.split("|")[1] for line in out.splitlines() if line.count("|") >= 3]
    return " ".join(" ".join(cells).split())


def test_show_inspektorat_reads_like_the_sop(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    out = show(capsys, monkeypatch, "pk-inspektorat-nganjuk")
    flat = " ".join(out.split())
    assert "bupati Bupati (outside the office: not invited, never acts here)" in flat
    assert "sekretaris Sekretaris (the unit's secretary: may cancel; may start the flow)" in flat
    steps = uraian(out)
    assert ("then outside the office with Bagian Organisasi Setda, Bupati until Pejabat "
            "Fungsional/Pejabat Pelaksana records its return") in steps
    assert "afterwards the flow runs again from step 9" in steps
    assert "to the holder: Mengonsep nota dinas" in steps
    out_id = uraian(show(capsys, monkeypatch, "pk-inspektorat-nganjuk", lang="id"))
    assert "sesudahnya alur berjalan lagi mulai langkah 9" in out_id


def test_show_neglasari_names_the_parts(capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    flat = uraian(show(capsys, monkeypatch, "pk-kec-neglasari"))
    assert "every holder does their own part" in flat
    assert "a revision may name only some parts of step 7" in flat


def test_json_only_gains_fields(capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.loads(show(capsys, monkeypatch, "pk-inspektorat-nganjuk", "--json"))
    bupati = next(r for r in data["roles"] if r["id"] == "bupati")
    assert bupati == {"id": "bupati", "title": "Bupati", "title_en": "Regent",
                      "relation": None, "external": True, "secretary": False}
    steps = {s["no"]: s for s in data["steps"]}
    assert steps[13]["wait"] == {"for": ["bagian_organisasi", "bupati"],
                                 "recorded_by": "fungsional", "waktu": "-",
                                 "label": steps[13]["wait"]["label"], "label_en": None}
    assert steps[16]["continue_at"] == 9 and steps[16]["trigger"] == "event"
    assert steps[3]["holder_title"].startswith("Mengonsep nota dinas")
    assert data["starters"] == ["inspektur", "sekretaris"]
    assert set(steps[1]) >= {"no", "title", "title_en", "actor", "kind", "waktu", "output",
                             "output_en", "kelengkapan", "keterangan", "fan_out", "trigger",
                             "when", "next"}
    dprd = json.loads(show(capsys, monkeypatch, "pengumpulan-data-kinerja-dprd-nganjuk",
                           "--json"))
    triwulan = next(c for c in dprd["cycles"] if c["id"] == "triwulan")
    assert triwulan["collector"] == "kasubag_tu" and triwulan["steps"] == [8, 13]


def test_show_dprd_lists_its_recurring_duties(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    out = show(capsys, monkeypatch, "pengumpulan-data-kinerja-dprd-nganjuk")
    steps = uraian(out)
    assert ("Meneliti dan mengevaluasi kinerja [◇ decision; revise → step 9; only in the "
            "recurring duty: Pengukuran Kinerja Semesteran; a revision stays in the same period: "
            "the official reports again and is evaluated again]") in steps
    duties = " ".join(out.split("Recurring duties:")[1].split())
    assert ("- Pengukuran Kinerja Triwulan: steps 8, 13; due 10 working days after the period "
            "ends; collected by Kasubag TU dan Kepegawaian") in duties
    assert ("- Pengukuran Kinerja Semesteran: steps 9, 10, 11, 12; due 10 working days after "
            "the period ends -") in duties
    out_id = " ".join(show(capsys, monkeypatch, "pengumpulan-data-kinerja-dprd-nganjuk",
                           lang="id").split())
    assert ("Tugas berkala: - Pengukuran Kinerja Triwulan: langkah 8, 13; batas 10 hari kerja "
            "setelah akhir periode; dihimpun oleh Kasubag TU dan Kepegawaian") in out_id


def test_show_kesbangpol_and_neglasari_name_who_acts(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = show(capsys, monkeypatch, "pk-kesbangpol-jateng")
    first = next(line for line in out.splitlines() if line.startswith("1 "))
    assert "Memerintahkan penyusunan Perjanjian Kinerja" in first and "| sekretaris" in first
    neglasari = uraian(show(capsys, monkeypatch, "pk-kec-neglasari"))
    assert "to the holder: Menyusun Perjanjian Kinerja Bapak/Ibu sendiri" in neglasari
