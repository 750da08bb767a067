"""Totals of standard times are shown normalised to the office's working day (issue 12)."""

from __future__ import annotations

from bot.engine.calendar import OfficeHours
from bot.engine.waktu import WaktuTotal, parse_total
from bot.formatting import day_minutes, normalised_total


def test_minutes_become_hours_and_hours_working_days() -> None:
    day = day_minutes(OfficeHours.default())  # Mon 07:30-16:00
    assert day == 510
    assert str(normalised_total(parse_total("3 Bulan 4 Hari 345 Menit"), day)) == \
        "3 Bulan 4 Hari 5 Jam 45 Menit"
    assert str(normalised_total(parse_total("9 Jam 30 Menit"), day)) == "1 Hari 1 Jam"
    assert str(normalised_total(parse_total("2 Hari 190 Menit"), 480)) == "2 Hari 3 Jam 10 Menit"
    assert normalised_total(WaktuTotal(), day) == WaktuTotal()
