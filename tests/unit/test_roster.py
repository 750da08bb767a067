"""`sopbot roster import`, `members`, `delegate` and `invite --nip`, run as an admin runs them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from bot.cli import main
from bot.services.commands import Join
from tests.support.paths import FLOWS_DIR

HEAD = ["nip", "nama", "sapaan", "unit", "role", "atasan_nip", "telegram"]
GOOD = [
    ["196501011990031001", "Drs. Budi Santoso", "Bapak", "kec-neglasari", "Camat", "", ""],
    ["197002021995032002", "Sri Wahyuni, S.Sos", "Ibu", "kec-neglasari", "sekcam",
     "196501011990031001", "@sriwahyuni"],
    ["198003032005011003", "Ani Lestari", "Ibu", "kec-neglasari",
     "Kasubag Perencanaan dan Keuangan", "197002021995032002", ""],
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOPBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOPBOT_BOT_USERNAME", "sopbot_test_bot")
    monkeypatch.setenv("SOPBOT_LANGUAGE", "en")
    monkeypatch.setenv("SOPBOT_FLOWS_DIR", str(FLOWS_DIR))
    return tmp_path
OTHER = [["196601011990031009", "Hadi Purnomo", "Bapak", "kec-sooko", "camat", "", ""]]


def xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEAD, *rows]:
        sheet.append(row)
    book.save(path)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_bad_roster_names_file_row_and_column_and_changes_nothing(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = env / "roster.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(HEAD)
        writer.writerows([*GOOD, ["196501011990031001", "Lagi", "Bapak", "kec-neglasari",
                                  "lurah", "", ""],
                          ["199", "Dua Camat", "Bapak", "kec-neglasari", "camat", "555", ""]])
    code, _out, err = run(capsys, "roster", "import", str(path))
    assert code == 2
    assert f"{path}:5: nip: NIP 196501011990031001 is already on row 2" in err
    assert f"{path}:5: role: unknown role 'lurah' in kec-neglasari" in err
    assert f"{path}:6: role: Camat has one holder; row 2 already holds it" in err
    assert f"{path}:6: atasan_nip: atasan 555 is not in the roster" in err
    assert "4 problems; nothing was changed." in err
    code, out, _err = run(capsys, "members", "list", "--json")
    assert code == 0 and json.loads(out) == []


def test_import_writes_invitations_slips_and_json_then_reimport_reports_changes(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster = xlsx(env / "roster.xlsx", GOOD)
    out_xlsx, pdf, pngs = env / "invitations.xlsx", env / "slips.pdf", env / "slips"
    code, out, err = run(capsys, "roster", "import", str(roster), "--out", str(out_xlsx),
                         "--slips", str(pdf), "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert [i["nip"] for i in listed] == [r[0] for r in GOOD]
    assert listed[2]["role"] == "kasubag_perenkeu"
    assert listed[0]["link"] == f"https://t.me/sopbot_test_bot?start={listed[0]['code']}"
    assert set(listed[0]) == {"nip", "name", "unit", "role", "code", "link", "expires"}
    sheet = load_workbook(out_xlsx).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "NIP" and values[1][:3] == (GOOD[0][0], GOOD[0][1], "Camat")
    assert str(values[1][5]).endswith("WIB")
    assert pdf.read_bytes().startswith(b"%PDF")
    # PNG slips, one per official, named by NIP (another office's roster)
    other = xlsx(env / "sooko.xlsx", OTHER)
    code, _out, err = run(capsys, "roster", "import", str(other), "--slips", str(pngs))
    assert code == 0, err
    assert sorted(p.name for p in pngs.iterdir()) == [f"{OTHER[0][0]}.png"]
    assert (pngs / f"{OTHER[0][0]}.png").read_bytes().startswith(b"\x89PNG")
    # importing the first roster again: the still-valid invitations stand (their codes are
    # stored only as hashes, so nothing is printed again and no new code is issued)
    code, out, _err = run(capsys, "roster", "import", str(roster))
    assert code == 0 and "3 unchanged; 0 invitations" in out, out
    changed = [list(r) for r in GOOD]
    changed[1][1] = "Sri Wahyuni, S.Sos., M.Si."
    xlsx(roster, changed)
    code, out, _err = run(capsys, "roster", "import", str(roster))
    assert "0 added, 1 changed, 2 unchanged; 0 invitations" in out
    assert f"changed {GOOD[1][0]}: name" in out
    code, out, _err = run(capsys, "members", "list", "--unit", "kec-neglasari", "--json")
    rows = json.loads(out)
    assert {r["nip"]: r["bound"] for r in rows} == {r[0]: False for r in GOOD}
    assert set(rows[0]) == {"member_id", "nip", "name", "salutation", "unit", "roles",
                            "atasan_nip", "bound", "delegations"}
    code, out, _err = run(capsys, "members", "remove", "--nip", GOOD[2][0])
    assert code == 0 and "Ani Lestari was removed" in out
    code, _out, err = run(capsys, "members", "remove", "--nip", "42")
    assert code == 2 and err.strip() == "No official with NIP 42."


def test_invite_by_nip_warns_of_a_second_camat_and_an_unknown_atasan(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.bootstrap import build_services, open_store, utc_now
    from bot.engine.loader import load_flows
    from bot.services import TelegramUser

    code, _out, _err = run(capsys, "invite", "--unit", "kec-neglasari", "--role", "camat",
                           "--name", "Budi", "--nip", "1001")
    assert code == 0
    services = build_services(load_flows(FLOWS_DIR), open_store(env / "data"))
    code_line = next(line for line in _out.splitlines() if line.startswith("link:"))
    services.redeem(Join(code_line.rsplit("=", 1)[1], TelegramUser(5, 5, "Budi", None, "id"),
                    utc_now()))
    code, _out, err = run(capsys, "invite", "--unit", "kec-neglasari", "--role", "camat",
                          "--nip", "1009", "--atasan-nip", "777")
    assert code == 0
    assert "Warning: Camat already has a holder (Budi)" in err
    assert "Warning: No official with NIP 777 is known yet" in err


def test_delegate_from_the_command_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.bootstrap import build_services, open_store, utc_now
    from bot.engine.loader import load_flows
    from bot.services import TelegramUser

    roster = xlsx(env / "roster.xlsx", GOOD[:2])
    code, out, _err = run(capsys, "roster", "import", str(roster), "--json")
    services = build_services(load_flows(FLOWS_DIR), open_store(env / "data"))
    for i, inv in enumerate(json.loads(out)):
        services.redeem(Join(inv["code"], TelegramUser(10 + i, 10 + i, "x", None, "id"), utc_now()))
    code, _out, err = run(capsys, "delegate", "--unit", "kec-neglasari", "--role", "camat",
                          "--to", GOOD[1][0], "--from", "2026-01-05", "--until", "bad")
    assert code == 2 and "YYYY-MM-DD" in err
    code, out, err = run(capsys, "delegate", "--unit", "kec-neglasari", "--role", "camat",
                         "--to", GOOD[1][0], "--from", "2026-01-05", "--until", "2099-01-09")
    assert code == 0, err
    assert "Plh. Camat: Sri Wahyuni, S.Sos acts for Drs. Budi Santoso" in out
    code, out, _err = run(capsys, "delegate", "--list", "--json")
    (d,) = json.loads(out)
    assert d["state"] == "active" and d["kind"] == "plh"
    code, out, _err = run(capsys, "members", "list", "--json")
    sek = next(r for r in json.loads(out) if r["nip"] == GOOD[1][0])
    assert sek["bound"] and sek["delegations"][0]["as"] == "delegate"
    code, out, _err = run(capsys, "delegate", "--end", d["id"])
    assert code == 0 and "ended" in out
    code, out, _err = run(capsys, "delegate", "--list")
    assert "No current delegations." in out


def test_members_replace_hands_over_and_hints_at_the_mutasi_event_step(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.bootstrap import build_services, open_store, utc_now
    from bot.engine.loader import load_flows
    from bot.services import TelegramUser

    unit = "inspektorat-nganjuk"
    rows = [["1001", "Inspektur", "Bapak", unit, "inspektur", "", ""],
            ["1002", "Eselon Lama", "Ibu", unit, "pejabat_eselon", "1001", ""],
            ["1003", "Eselon Baru", "Bapak", unit, "fungsional", "1001", ""]]
    code, out, _err = run(capsys, "roster", "import", str(xlsx(env / "r.xlsx", rows)), "--json")
    services = build_services(load_flows(FLOWS_DIR), open_store(env / "data"))
    for i, inv in enumerate(json.loads(out)):
        services.redeem(Join(inv["code"], TelegramUser(20 + i, 20 + i, "x", None, "id"), utc_now()))
    code, out, err = run(capsys, "members", "replace", "--nip", "1002", "--by", "1003")
    assert code == 0, err
    assert "Eselon Baru takes over from Eselon Lama: 0 open steps handed over" in out
    assert "Hint: PK Inspektorat Kabupaten Nganjuk has a step for a change of official " \
           "(step 16: Mutasi/pergantian pejabat" in out
    code, out, _err = run(capsys, "members", "list", "--json")
    listed = {r["nip"]: r for r in json.loads(out)}
    assert "1002" not in listed and set(listed["1003"]["roles"]) == {"fungsional",
                                                                    "pejabat_eselon"}
    code, _out, err = run(capsys, "members", "replace", "--nip", "1002", "--by", "1003")
    assert code == 2 and err.strip() == "No bound official with NIP 1002."


PDK_ROWS = [["2001", "Djoko Sekwan", "Bapak", "setwan-nganjuk", "sekwan", "", ""],
            ["2002", "Kabag Umum", "Ibu", "setwan-nganjuk", "kabag", "2001", ""],
            ["2003", "Kasubag Satu", "Bapak", "setwan-nganjuk", "kasubag", "2002", ""],
            ["2004", "Kasubag Dua", "Bapak", "setwan-nganjuk", "kasubag", "2002", ""],
            ["2005", "Staf Satu", "Ibu", "setwan-nganjuk", "staf", "2003", ""]]


def test_delegate_an_atasan_by_nip_from_the_command_line(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`sopbot delegate --nip ATASAN --to NIP --from --until`: no unit or role to name."""
    from bot.bootstrap import build_services, open_store, utc_now
    from bot.engine.loader import load_flows
    from bot.services import TelegramUser

    code, out, _err = run(capsys, "roster", "import", str(xlsx(env / "r.xlsx", PDK_ROWS)),
                          "--json")
    services = build_services(load_flows(FLOWS_DIR), open_store(env / "data"))
    for i, inv in enumerate(json.loads(out)):
        services.redeem(Join(inv["code"], TelegramUser(10 + i, 10 + i, "x", None, "id"), utc_now()))
    code, _out, err = run(capsys, "delegate", "--nip", "2003", "--from", "2026-01-05",
                          "--until", "2099-01-09")
    assert code == 2 and "--to" in err and "--unit" not in err
    code, _out, err = run(capsys, "delegate", "--nip", "2005", "--to", "2004",
                          "--from", "2026-01-05", "--until", "2099-01-09")
    assert code == 2 and "Staf Satu is nobody's atasan in setwan-nganjuk." in err
    code, out, err = run(capsys, "delegate", "--nip", "2003", "--to", "2004",
                         "--from", "2026-01-05", "--until", "2099-01-09")
    assert code == 0, err
    assert "Plh. Atasan langsung: Kasubag Dua acts for Kasubag Satu" in out
    code, out, _err = run(capsys, "delegate", "--list", "--json")
    (d,) = json.loads(out)
    assert (d["role"], d["holder"], d["delegate"], d["state"]) == (
        "atasan", "Kasubag Satu", "Kasubag Dua", "active")


def test_a_reimport_reports_who_replaces_whom(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.bootstrap import build_services, open_store, utc_now
    from bot.engine.loader import load_flows
    from bot.services import TelegramUser

    code, out, _err = run(capsys, "roster", "import", str(xlsx(env / "r.xlsx", GOOD)),
                          "--json")
    services = build_services(load_flows(FLOWS_DIR), open_store(env / "data"))
    sri = next(i for i in json.loads(out) if i["nip"] == GOOD[1][0])
    services.redeem(Join(sri["code"], TelegramUser(11, 11, "x", None, "id"), utc_now()))
    new_sekcam = ["198505052010012005", "Rina Sekcam", "Ibu", "kec-neglasari", "sekcam",
                  GOOD[0][0], ""]
    new_kasubag = ["199001012015011006", "Bayu Kasubag", "Bapak", "kec-neglasari",
                   "Kasubag Perencanaan dan Keuangan", new_sekcam[0], ""]
    code, out, err = run(capsys, "roster", "import",
                         str(xlsx(env / "r2.xlsx", [GOOD[0], new_sekcam, new_kasubag])))
    assert code == 0, err
    assert ("Rina Sekcam (198505052010012005) replaces Sri Wahyuni, S.Sos "
            "(197002021995032002): everything is handed over when Rina Sekcam opens the "
            "invitation; until then Sri Wahyuni, S.Sos stays on.") in out
    assert ("Bayu Kasubag (199001012015011006) replaces Ani Lestari (198003032005011003), "
            "who had not joined: Ani Lestari's invitation no longer works.") in out
    code, out, _err = run(capsys, "members", "list", "--json")
    listed = {r["nip"]: r["bound"] for r in json.loads(out)}
    assert listed == {GOOD[0][0]: False, GOOD[1][0]: True, new_sekcam[0]: False,
                      new_kasubag[0]: False}


def test_the_readme_admin_path_roster_slips_join_members_list(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's admin path, as written there: the roster file (its two rows) → the
    invitations and QR slips → the Camat opens his link → `members list` prints the README's
    lines."""
    from bot.bootstrap import build_services, open_store, utc_now
    from bot.engine.loader import load_flows
    from bot.services import TelegramUser

    readme = (FLOWS_DIR.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**The admin's path.**"):readme.index("**Plt/Plh.**")]
    table = [line.strip("|").split("|") for line in section.splitlines()
             if line.startswith("| 19")]
    rows = [[cell.strip() for cell in cells] for cells in table]
    assert len(rows) == 2
    code, out, err = run(capsys, "roster", "import", str(xlsx(env / "pegawai.xlsx", rows)),
                         "--out", str(env / "undangan.xlsx"), "--slips",
                         str(env / "undangan.pdf"), "--json")
    assert code == 0, err
    assert (env / "undangan.pdf").read_bytes().startswith(b"%PDF")
    sheet = load_workbook(env / "undangan.xlsx").active
    assert sheet is not None and sheet.max_row == 3
    camat = next(i for i in json.loads(out) if i["nip"] == rows[0][0])
    services = build_services(load_flows(FLOWS_DIR), open_store(env / "data"))
    services.redeem(Join(camat["code"], TelegramUser(7, 7, "Budi", None, "id"), utc_now()))
    block = section[section.index("$ sopbot members list"):]
    expected = block.split("```")[0].strip().splitlines()[1:]
    code, out, _err = run(capsys, "members", "list", "--unit", "kec-neglasari")
    assert code == 0 and out.strip().splitlines() == [line.strip() for line in expected]
