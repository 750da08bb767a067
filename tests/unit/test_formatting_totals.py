"""Totals of standard times are shown normalised to the office's working day (issue 12);
the time left to a deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.engine.calendar import OfficeHours
from bot.engine.waktu import WaktuTotal, parse_total
from bot.formatting import day_minutes, format_until, normalised_total
from bot.i18n import Translator
from tests.support.paths import WIB


def test_minutes_become_hours_and_hours_working_days() -> None:
    day = day_minutes(OfficeHours.default())  # Mon 07:30-16:00
    assert day == 510
    assert str(normalised_total(parse_total("3 Bulan 4 Hari 345 Menit"), day)) == \
        "3 Bulan 4 Hari 5 Jam 45 Menit"
    assert str(normalised_total(parse_total("9 Jam 30 Menit"), day)) == "1 Hari 1 Jam"
    assert str(normalised_total(parse_total("2 Hari 190 Menit"), 480)) == "2 Hari 3 Jam 10 Menit"
    assert normalised_total(WaktuTotal(), day) == WaktuTotal()


def test_a_deadline_within_the_minute_reads_now_not_zero_seconds() -> None:
    """Seen in the demo: `status` asked at the deadline's minute said "0 detik lagi"."""
    id_, en = Translator("id"), Translator("en")
    deadline = datetime(2026, 1, 5, 9, 15, tzinfo=WIB)
    for now in (deadline, deadline - timedelta(seconds=59), deadline + timedelta(seconds=30)):
        assert format_until(deadline, now, id_) == "sekarang"
        assert format_until(deadline, now, en) == "now"
    assert format_until(deadline, deadline - timedelta(minutes=5), id_) == "5 menit lagi"
    assert format_until(deadline, deadline + timedelta(hours=2), id_) == "terlambat 2 jam"
