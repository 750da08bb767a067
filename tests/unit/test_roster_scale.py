"""A kabupaten's roster: 1,000 officials across 30 units, imported in seconds; all of them
bind through their links in chat at once; the per-official procedure (DPRD PDK) then pairs
each official with the atasan the roster names.

Binding all 1,000 in chat takes about a minute (the store keeps the parsed data between
transactions: one /start is about 3 transactions and one rewrite); the PDK is started in three
of the 30 units (about a hundred officials), whose pairing is the same code for every unit.
``python bench/bench_roster_join.py`` prints the figures.
"""

from __future__ import annotations

import csv
import time
from datetime import datetime
from pathlib import Path

import pytest

from bot.engine.loader import load_flows
from bot.engine.model import Flow
from tests.support.kabupaten import HEAD, join_all, kabupaten, numbered, thirty_units
from tests.support.paths import WIB

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=WIB)


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


async def test_a_kabupaten_joins_in_chat_and_the_pdk_pairs_each_with_the_roster_atasan(
        tmp_path: Path, flows: list[Flow]) -> None:
    """All 1,000 officials open their links at once, each from their own chat; the Sekwan of
    three units starts PDK in chat; every instance pairs the official with the atasan the
    roster names."""
    from bot.demo.harness import live_bot

    rows = kabupaten()
    async with live_bot(flows, tmp_path / "data", flows_dir=tmp_path, language="en",
                        reminder_sync_interval=300.0, http_timeout=5.0) as h:
        report = h.services.import_roster(numbered(rows), h.clock())
        assert not report.problems and len(report.invitations) == 1000
        users = await join_all(h, report.invitations, timeout=600)
        assert len(users) == 1000
        listed = {r.nip: r.bound for r in h.services.member_rows(None, h.clock())}
        assert sum(listed.values()) == 1000 and len(listed) == 1000
        nip_of = {str(u.id): nip for nip, u in users.items()}
        for unit in ("unit-00", "unit-03", "unit-29"):
            mine = [e for e, _i in report.invitations if e.unit == unit]
            head = next(e.nip for e in mine if e.role == "sekwan")
            answer = await h.say(users[head], "mulai PDK 2026", expect="Started", timeout=60)
            assert f"for {len(mine) - 1} officials" in answer["text"]
            pairs = {(nip_of[i.subject], nip_of[i.bindings["atasan"]])
                     for i in h.services.store.read().instances(unit=unit)}
            assert pairs == {(r[0], r[5]) for r in rows if r[3] == unit and r[4] != "sekwan"}
