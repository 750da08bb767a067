"""SIGKILL the bot 20 times while officials work: nothing lost, nothing applied twice."""

from __future__ import annotations

from pathlib import Path

from tests.support.crashkit import CrashRun


def test_twenty_kills_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    report = CrashRun(tmp_path, kills=20, years=2, seed=20261123).run(time_limit=300)
    log = (tmp_path / "bot.log").read_text(errors="replace")[-3000:]
    assert not report.problems, "\n".join(report.problems) + "\n--- bot log ---\n" + log
    assert report.kills == 20
    assert len(report.confirmed) >= 20  # decisions were confirmed between the kills
