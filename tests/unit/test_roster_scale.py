"""A kabupaten's roster: 1,000 officials across 30 units, imported in seconds; each bound
through their invitation; the per-official procedure (DPRD PDK) then pairs each official
with the atasan the roster names.

Binding all 1,000 through the chat takes minutes on this storage (each /start is a rewrite
of the data file); the chat test binds 18 officials of one unit of the 1,000.
The five shipped flows have five units, so the 30 units are generated: 30 copies of the PDK
flow, each its own unit (unit-00 … unit-29).
"""

from __future__ import annotations

import csv
import time
from datetime import datetime
from pathlib import Path

import pytest

from bot.engine.loader import load_flows
from bot.engine.model import Flow
from tests.support.paths import FLOWS_DIR, WIB

PDK = FLOWS_DIR / "pengumpulan-data-kinerja-dprd-nganjuk.yaml"
HEAD = ("nip", "nama", "sapaan", "unit", "role", "atasan_nip", "telegram")
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=WIB)


def thirty_units(directory: Path) -> Path:
    src = PDK.read_text(encoding="utf-8")
    directory.mkdir()
    for i in range(30):
        (directory / f"pdk-{i:02d}.yaml").write_text(
            src.replace("id: pengumpulan-data-kinerja-dprd-nganjuk", f"id: pdk-{i:02d}")
            .replace("id: setwan-nganjuk", f"id: unit-{i:02d}"), encoding="utf-8")
    return directory


def kabupaten() -> list[tuple[str, ...]]:
    """1,000 officials: per unit a Sekwan, 3 Kabag, 9 Kasubag and 20-21 Staf."""
    rows: list[tuple[str, ...]] = []
    for u in range(30):
        unit, head = f"unit-{u:02d}", f"19700{u:02d}0000"
        rows.append((head, f"Sekwan {u}", "Bapak", unit, "sekwan", "", ""))
        kabag = [f"19701{u:02d}{k:04d}" for k in range(3)]
        kasubag = [f"19702{u:02d}{k:04d}" for k in range(9)]
        rows += [(k, f"Kabag {k}", "Ibu", unit, "Kepala Bagian (Kabag)", head, "")
                 for k in kabag]
        rows += [(k, f"Kasubag {k}", "Bapak", unit, "kasubag", kabag[j % 3], "")
                 for j, k in enumerate(kasubag)]
        staf = 21 if u < 10 else 20
        rows += [(f"19703{u:02d}{j:04d}", f"Staf {u}-{j}", "Ibu", unit, "staf",
                  kasubag[j % 9], f"@staf_{u}_{j}") for j in range(staf)]
    assert len(rows) == 1000
    return rows


@pytest.fixture(scope="module")
def flows(tmp_path_factory: pytest.TempPathFactory) -> list[Flow]:
    return load_flows(thirty_units(tmp_path_factory.mktemp("kab") / "flows"))


def test_sopbot_roster_import_takes_1000_officials_in_seconds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    flows_dir = thirty_units(tmp_path / "flows")
    roster = tmp_path / "pegawai.csv"
    with roster.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([HEAD, *kabupaten()])
    monkeypatch.setenv("SOPBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOPBOT_BOT_USERNAME", "sopbot_test_bot")
    monkeypatch.setenv("SOPBOT_LANGUAGE", "en")
    started = time.perf_counter()
    code = main(["roster", "import", str(roster), "--dir", str(flows_dir),
                 "--out", str(tmp_path / "undangan.xlsx")])
    elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert code == 0 and "1000 added, 0 changed, 0 unchanged; 1000 invitations" in out
    assert elapsed < 15, f"importing 1,000 officials took {elapsed:.1f} s"


async def test_a_whole_unit_joins_in_chat_and_the_pdk_pairs_each_with_the_roster_atasan(
        tmp_path: Path, flows: list[Flow]) -> None:
    """Officials of one unit of the 1,000 (its Sekwan, Kabag, Kasubag and five Staf) open
    their links in chat (the fake Bot API), subordinates first; the Sekwan starts PDK in
    chat; every instance pairs the official with the atasan the roster names."""
    from bot.demo.harness import live_bot

    rows = kabupaten()
    unit = "unit-03"
    async with live_bot(flows, tmp_path / "data", flows_dir=tmp_path, language="en",
                        reminder_sync_interval=0.5, http_timeout=2.0) as h:
        report = h.services.import_roster([(i + 2, dict(zip(HEAD, r, strict=True)))
                                           for i, r in enumerate(rows)], h.clock())
        assert not report.problems and len(report.invitations) == 1000
        mine = [(e, i) for e, i in report.invitations if e.unit == unit][:18]
        users = {}
        for entry, invite in reversed(mine):
            user = h.new_user(entry.name, language="en")
            await h.say(user, f"/start {invite.code}", expect="Welcome", timeout=10)
            users[entry.nip] = user
        head = next(e.nip for e, _i in mine if e.role == "sekwan")
        answer = await h.say(users[head], "mulai PDK 2026", expect="Started", timeout=20)
        assert "for 17 officials" in answer["text"]
        nip_of = {str(u.id): nip for nip, u in users.items()}
        pairs = {(nip_of[i.subject], nip_of[i.bindings["atasan"]])
                 for i in h.services.store.read().instances(unit=unit)}
        assert pairs == {(r[0], r[5]) for r in rows if r[0] in users and r[4] != "sekwan"}
        listed = {r.nip: r.bound for r in h.services.member_rows(None, h.clock())}
        assert sum(listed.values()) == 18 and len(listed) == 1000
