"""The holiday tables of a long-running bot: asked of a child process, kept in the data dir.

Importing the ``holidays`` library's Indonesian calendar registers every country the library
knows: about 300 modules and 17–20 MB of resident memory that stay for the life of the
process, a fifth of what ``sopbot run`` holds with 1,000 instances running (issue 15), for
some thirty days a year. ``sopbot run`` and ``sopbot web`` therefore install
:class:`HolidayTables` as the calendars' source (:func:`bot.engine.calendar.use_holiday_source`):

- a year looked up is answered from ``<data dir>/cache/holidays.json``, read once;
- a year not there is asked of a child process (this module's :func:`main`, about
  0.15 s), together with the year before it and the two after, and written back;
- the file is kept per version of the library: after an upgrade (a new SKB of cuti bersama)
  the tables are asked again;
- if the child cannot answer, the table comes from the library in this process, as in every
  other command (the bot is then as it was before, never wrong).

The file is a cache: a damaged or unreadable one is set aside and made again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.engine.calendar import library_table, use_holiday_source

__all__ = ["CATEGORIES", "FILE_NAME", "HolidayTables", "install_holiday_tables",
           "library_version"]

log = logging.getLogger(__name__)

FILE_NAME = "holidays.json"
#: the categories the calendars ask for: public holidays, and "government" for cuti bersama
CATEGORIES = ("public", "government")
#: one child answers the year looked up, the year before it and the two after
_BEFORE, _AFTER = 1, 2
_CHILD_TIMEOUT = 60.0
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # where `bot` is imported from
#: the child: this module's main(), `bot` imported from where this process has it
_CHILD = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
          "from bot.holiday_tables import main; sys.exit(main(sys.argv[1:]))")


def library_version() -> str | None:
    """The installed ``holidays`` version, read from its metadata (without importing it)."""
    try:
        return metadata.version("holidays")
    except metadata.PackageNotFoundError:
        return None


def _key(language: str, category: str, year: int) -> str:
    return f"{language}/{category}/{year}"


def _rows(table: Mapping[date, str]) -> list[list[str]]:
    """One table as the file (and the child's answer) keeps it: [day, name] in day order."""
    return [[d.isoformat(), name] for d, name in sorted(table.items())]


def _tables(language: str, years: Iterable[int]) -> dict[str, list[list[str]]]:
    """The library's tables of `years`, every category, as the file keeps them."""
    return {_key(language, category, year): _rows(library_table(year, category, language))
            for year in years for category in CATEGORIES}


def _parse(tables: Any) -> dict[str, dict[date, str]]:
    """The file's (or the child's) tables; ValueError/TypeError/KeyError when malformed."""
    if not isinstance(tables, dict):
        raise TypeError("tables is not an object")
    return {str(key): {date.fromisoformat(day): str(name) for day, name in rows}
            for key, rows in tables.items()}


class HolidayTables:
    """The calendars' holiday source for a long-running bot (see the module's docstring).

    Safe to call from several threads: one lock guards the tables and the file.
    """

    def __init__(self, directory: Path, *, python: str | None = None) -> None:
        self._path = directory / FILE_NAME
        self._python = python or sys.executable
        self._version = library_version()
        self._lock = threading.Lock()
        self._known: dict[str, dict[date, str]] | None = None  # read at the first look-up
        self._child_failed = False
        self._unwritable = False

    def __call__(self, year: int, category: str, language: str) -> Mapping[date, str]:
        """The days of `year` in `category`, named in `language` (a
        :data:`~bot.engine.calendar.HolidaySource`)."""
        key = _key(language, category, year)
        with self._lock:
            known = self._read_once()
            table = known.get(key)
            if table is None and category in CATEGORIES and not self._child_failed:
                self._ask_child(language, range(year - _BEFORE, year + _AFTER + 1))
                table = known.get(key)
        if table is None:  # the child could not answer: the library, in this process
            return library_table(year, category, language)
        return table

    def prefetch(self, year: int, language: str = "id") -> None:
        """Make sure the years around `year` are known (at start-up, before any look-up on
        the event loop)."""
        self(year, CATEGORIES[0], language)

    # -- the file ----------------------------------------------------------------------------

    def _read_once(self) -> dict[str, dict[date, str]]:
        if self._known is not None:
            return self._known
        self._known = {}
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return self._known
        except OSError as exc:
            log.warning("holiday tables: cannot read %s (%s); asking the library again",
                        self._path, exc)
            return self._known
        try:
            document = json.loads(raw)
            stored = document.get("library")
            tables = _parse(document["tables"])
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("holiday tables: %s is damaged (%s); asking the library again",
                        self._path, exc)
            return self._known
        if stored != self._version or self._version is None:
            log.info("holiday tables: %s was made by holidays %s, %s is installed; asking "
                     "the library again", self._path, stored, self._version)
            return self._known
        self._known.update(tables)
        return self._known

    def _write(self) -> None:
        assert self._known is not None
        if self._unwritable:
            return
        document = {"library": self._version,
                    "tables": {key: _rows(table) for key, table in sorted(self._known.items())}}
        temporary = self._path.with_name(f".{self._path.name}.{os.getpid()}.tmp")
        try:  # private, as the rest of the data directory
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(document, fh, ensure_ascii=False)
            os.replace(temporary, self._path)
        except OSError as exc:  # a cache: the tables stay in memory for this run
            self._unwritable = True
            log.warning("holiday tables: cannot write %s (%s); they are kept in memory "
                        "until the bot stops", self._path, exc)
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)

    # -- the child ---------------------------------------------------------------------------

    def _ask_child(self, language: str, years: Sequence[int]) -> None:
        assert self._known is not None
        command = [self._python, "-c", _CHILD, str(_PACKAGE_ROOT), "--language", language,
                   "--years", *map(str, years)]
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=_CHILD_TIMEOUT, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"exit status {done.returncode}: "
                                   f"{done.stderr.strip()[-500:]}")
            answer = json.loads(done.stdout)
            if answer.get("library") != self._version:
                raise RuntimeError(f"the child has holidays {answer.get('library')}, "
                                   f"this process {self._version}")
            tables = _parse(answer["tables"])
        except (OSError, subprocess.SubprocessError, RuntimeError, ValueError, TypeError,
                KeyError, AttributeError) as exc:
            self._child_failed = True
            log.warning("holiday tables: the child process could not answer (%s); the "
                        "holidays library is loaded in this process instead", exc)
            return
        self._known.update(tables)
        self._write()


def install_holiday_tables(data_dir: Path, year: int) -> HolidayTables:
    """Make this process's calendars take their holidays from `data_dir`'s cache (asked of a
    child process), the years around `year` asked now, before any look-up on the event
    loop (``sopbot run`` and ``sopbot web``)."""
    tables = HolidayTables(data_dir / "cache")
    use_holiday_source(tables)
    tables.prefetch(year)
    return tables


def main(argv: Sequence[str] | None = None) -> int:
    """The child: print the tables of the years asked, as JSON, on stdout."""
    parser = argparse.ArgumentParser(prog="python -m bot.holiday_tables")
    parser.add_argument("--language", default="id")
    parser.add_argument("--years", type=int, nargs="+", required=True)
    args = parser.parse_args(argv)
    json.dump({"library": library_version(), "tables": _tables(args.language, args.years)},
              sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
