"""A date as an official types it in reply to the target's question (bot/understanding/dates):
the forms offices write, and nothing taken as a date that is more than one."""

from __future__ import annotations

from datetime import date

import pytest

from bot.understanding.dates import read_date

TODAY = date(2026, 1, 5)  # a Monday in January: "28 des" is last December


@pytest.mark.parametrize(("text", "expected"), [
    ("15-01-2026", date(2026, 1, 15)),
    ("15/01/2026", date(2026, 1, 15)),
    ("15.01.2026", date(2026, 1, 15)),
    ("2/1/26", date(2026, 1, 2)),
    ("2 Januari 2026", date(2026, 1, 2)),
    ("02-Jan-2026", date(2026, 1, 2)),
    ("2jan2026", date(2026, 1, 2)),
    ("tgl 2 jan bu", date(2026, 1, 2)),
    ("Tanggal 02-01-2026 ya pak", date(2026, 1, 2)),
    ("pada tanggal 2 jan 2026", date(2026, 1, 2)),
    ("sdh disahkan tgl 2 jan", date(2026, 1, 2)),  # the answer to "approved on what date?"
    ("2 januari 2026, makasih bu 🙏", date(2026, 1, 2)),
    ("2 jan 2026 terimakasih", date(2026, 1, 2)),  # thanks as the lexicon knows them
    ("2 jan 2026, matur nuwun pak", date(2026, 1, 2)),
    ("2 jan 2026 tks", date(2026, 1, 2)),
    ("28 des", date(2025, 12, 28)),  # no year: the latest not after today
    ("28 Des.", date(2025, 12, 28)),
    ("5 jan", date(2026, 1, 5)),  # today itself
    ("6 jan", date(2025, 1, 6)),  # tomorrow's is in the future: last year's
    ("17 agt 2025", date(2025, 8, 17)),
    ("1 nop 2025", date(2025, 11, 1)),
    ("3 peb 2026", date(2026, 2, 3)),
])
def test_the_forms_offices_write(text: str, expected: date) -> None:
    assert read_date(text, TODAY) == expected


@pytest.mark.parametrize("text", [
    "kemarin", "", "2026",
    "kira-kira 2 jan", "kira2 tgl 5 jan", "sebelum 2 jan", "mungkin 2 jan",  # hedges
    "belum disahkan, rencana tgl 2 jan",
    "2 jan?", "2 jan atau 3 jan", "2 jan 2026 jam 10",  # a question, two dates, more
    "31-02-2027", "12-13-2026", "2 jx 2026", "2 jan 20266", "29 feb",  # not dates
    "tgl 2 jan (kalau tidak salah)",
])
def test_nothing_more_than_a_date_is_taken_as_one(text: str) -> None:
    assert read_date(text, TODAY) is None


def test_without_today_a_date_must_name_its_year() -> None:
    assert read_date("2 jan") is None
    assert read_date("2 jan 2026") == date(2026, 1, 2)
