"""Fixtures of the unit tests: a stored trail the report tests read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.reportkit import START, Played, play, store_played


@pytest.fixture(scope="module")
def trail(all_flows, tmp_path_factory) -> tuple[Path, list[Played]]:
    """Neglasari's PK done (step 2 late, step 4 revised twice, fan-out step 7 revised once),
    Kesbangpol's PK waiting late at step 11, two officials' PDK (one done, one late)."""
    flows = all_flows
    plays = [
        play(flows["pk-kec-neglasari"], START, minutes={2: 150, 3: 45, 7: 600},
             revise={4: 2, 8: 1}, per_role={"pejabat_unit_kerja": 2}, instance_id="ng"),
        play(flows["pk-kesbangpol-jateng"], START, minutes={7: 400, 8: 700}, revise={9: 1},
             stop_at=11, instance_id="kb"),
        play(flows["pengumpulan-data-kinerja-dprd-nganjuk"], START, revise={2: 1},
             instance_id="pdk1", subject="pegawai-1", atasan="atasan-1"),
        play(flows["pengumpulan-data-kinerja-dprd-nganjuk"], START, minutes={4: 900},
             stop_at=5, instance_id="pdk2", subject="pegawai-2", atasan="atasan-1"),
    ]
    data = tmp_path_factory.mktemp("data")
    store_played(data, plays)
    return data, plays
