"""The holiday tables of a long-running bot: from a child process and the data directory's
cache, the same days as the library, and never the library's 300 modules in `sopbot run`."""

from __future__ import annotations

import json
import logging
import re
import signal
import stat
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from bot.engine.calendar import WorkCalendar, library_table, use_holiday_source
from bot.holiday_tables import FILE_NAME, HolidayTables, library_version
from fakeapi import FakeBotApi
from tests.support.cli import env_for, run_sopbot
from tests.support.paths import ROOT

NOWHERE = "/nonexistent/python3"  # a child that cannot start


def stored(directory: Path) -> dict:
    return json.loads((directory / FILE_NAME).read_text(encoding="utf-8"))


def test_a_year_is_asked_of_a_child_with_its_neighbours_and_kept(tmp_path: Path,
                                                                   caplog) -> None:
    tables = HolidayTables(tmp_path / "cache")
    with caplog.at_level(logging.WARNING):
        public = tables(2026, "public", "id")
        cuti = tables(2026, "government", "id")
    assert not caplog.records  # the child answered
    assert dict(public) == library_table(2026, "public", "id")
    assert dict(cuti) == library_table(2026, "government", "id")
    assert public[date(2026, 8, 17)] == "Hari Kemerdekaan Republik Indonesia"
    assert date(2026, 3, 18) in cuti  # cuti bersama of Idul Fitri 2026
    document = stored(tmp_path / "cache")
    assert document["library"] == library_version()
    assert sorted(document["tables"]) == sorted(
        f"id/{category}/{year}" for year in (2025, 2026, 2027, 2028)
        for category in ("public", "government"))
    # private, as the rest of the data directory
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "cache" / FILE_NAME).stat().st_mode) == 0o600


def test_a_restart_reads_the_file_and_starts_no_child(tmp_path: Path, caplog) -> None:
    HolidayTables(tmp_path).prefetch(2026)
    restarted = HolidayTables(tmp_path, python=NOWHERE)  # a child would fail, and say so
    with caplog.at_level(logging.WARNING):
        assert dict(restarted(2027, "government", "id")) == library_table(
            2027, "government", "id")
        assert dict(restarted(2025, "public", "id")) == library_table(2025, "public", "id")
    assert not caplog.records


def test_an_upgraded_library_is_asked_again(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text(json.dumps({"library": "0.1", "tables": {
        "id/public/2026": [["2026-05-05", "Hari Libur Lama"]]}}))
    tables = HolidayTables(tmp_path)
    assert dict(tables(2026, "public", "id")) == library_table(2026, "public", "id")
    document = stored(tmp_path)
    assert document["library"] == library_version()
    assert ["2026-05-05", "Hari Libur Lama"] not in document["tables"]["id/public/2026"]


@pytest.mark.parametrize("content", [b"{not json", b'{"library": "x"}', b"[1, 2]",
                                     b'{"tables": {"id/public/2026": [["kemarin", 1]]}}'])
def test_a_damaged_file_is_set_aside_and_made_again(tmp_path: Path, caplog,
                                                    content: bytes) -> None:
    (tmp_path / FILE_NAME).write_bytes(content)
    with caplog.at_level(logging.WARNING):
        table = HolidayTables(tmp_path)(2026, "public", "id")
    assert dict(table) == library_table(2026, "public", "id")
    assert stored(tmp_path)["library"] == library_version()
    assert all("child" not in r.getMessage() for r in caplog.records)


def test_without_a_child_the_library_answers_in_this_process(tmp_path: Path,
                                                             caplog) -> None:
    tables = HolidayTables(tmp_path, python=NOWHERE)
    with caplog.at_level(logging.WARNING):
        assert dict(tables(2026, "public", "id")) == library_table(2026, "public", "id")
        assert dict(tables(2030, "government", "id")) == library_table(
            2030, "government", "id")
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "could not answer" in warnings[0]  # tried once, not per year
    assert not (tmp_path / FILE_NAME).exists()


def test_an_unwritable_cache_keeps_the_tables_in_memory(tmp_path: Path, caplog) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the directory should be")
    tables = HolidayTables(blocker, python=sys.executable)
    with caplog.at_level(logging.WARNING):
        assert dict(tables(2026, "public", "id")) == library_table(2026, "public", "id")
        assert dict(tables(2027, "public", "id")) == library_table(2027, "public", "id")
        assert dict(tables(2031, "public", "id")) == library_table(2031, "public", "id")
    assert sum("cannot write" in r.getMessage() for r in caplog.records) == 1


def test_calendars_take_their_holidays_from_the_installed_source(tmp_path: Path) -> None:
    asked: list[tuple[int, str, str]] = []
    tables = HolidayTables(tmp_path)

    def source(year: int, category: str, language: str):
        asked.append((year, category, language))
        return tables(year, category, language)

    previous = use_holiday_source(source)
    try:
        calendar = WorkCalendar("WIB")
        assert calendar.holiday_name(date(2026, 8, 17)) == "Hari Kemerdekaan Republik Indonesia"
        assert calendar.is_holiday(date(2026, 3, 18))  # cuti bersama
        assert not calendar.is_holiday(date(2026, 3, 25))
    finally:
        use_holiday_source(previous)
    assert asked == [(2026, "public", "id"), (2026, "government", "id")]


#: `sopbot run` in a process that says, once it has stopped, which holiday modules it loaded
RUN_AND_TELL = """
import sys
from pathlib import Path
from bot.cli import main
status = main(["run"])
loaded = sorted(m for m in sys.modules if m == "holidays" or m.startswith("holidays."))
Path(sys.argv[1]).write_text(" ".join(loaded) or "none")
sys.exit(status)
"""


def test_a_running_bot_never_loads_the_holidays_library(tmp_path: Path) -> None:
    """The deadline of a started step is computed on the working calendar, in `sopbot run`,
    from the child's tables: the library's modules stay out of the bot's memory."""
    told = tmp_path / "loaded.txt"
    with FakeBotApi() as api:
        env = env_for(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.api_root,
                      SOPBOT_DATA_DIR=str(tmp_path / "data"))
        bot = subprocess.Popen([sys.executable, "-c", RUN_AND_TELL, str(told)], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
        try:
            api.wait_for(lambda: api.commands("default"), timeout=30, what="setMyCommands")
            invite = run_sopbot("invite", "--unit", "kec-sooko", "--role", "staf", "--name",
                                "Bu Staf", env=env)
            code = re.search(r"start=(\S+)", invite.stdout)
            assert code, invite.stdout + invite.stderr
            staf = api.user(8100, "Bu Staf", language_code="en")
            staf.send_text(f"/start {code.group(1)}")
            staf.wait_for_message("Welcome", timeout=15)
            staf.send_text("mulai PK 2025")
            step = staf.wait_for_message(lambda m: FakeBotApi.buttons(m), timeout=15)
            assert "Step 1 of 8" in step["text"]
            assert re.search(r"\d{1,2}:\d{2} WIB", step["text"]), step["text"]  # its deadline
            bot.send_signal(signal.SIGTERM)
            output, _ = bot.communicate(timeout=30)
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
    assert bot.returncode == 0, output
    assert "Traceback" not in output and "holiday tables" not in output, output
    assert told.read_text() == "none"
    this_year = datetime.now().year
    document = stored(tmp_path / "data" / "cache")
    assert f"id/government/{this_year + 1}" in document["tables"]
