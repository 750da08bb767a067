"""Tests for bot.engine.waktu: parsing and summing the SOPs' standard times."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engine.waktu import (
    TimeUnit,
    Waktu,
    WaktuError,
    WaktuTotal,
    parse_total,
    parse_waktu,
)


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("10 Menit", 10, TimeUnit.MINUTE),
        ("2 Jam", 2, TimeUnit.HOUR),
        ("1 hari", 1, TimeUnit.DAY),
        ("4 Hari", 4, TimeUnit.DAY),
        ("3 Bulan", 3, TimeUnit.MONTH),
        ("180 menit", 180, TimeUnit.MINUTE),
        ("30menit", 30, TimeUnit.MINUTE),
        ("  2  JAM ", 2, TimeUnit.HOUR),
        ("10\u00a0Menit", 10, TimeUnit.MINUTE),  # non-breaking space from a pasted table
        ("5 minutes", 5, TimeUnit.MINUTE),
        ("1 minute", 1, TimeUnit.MINUTE),
        ("15 min", 15, TimeUnit.MINUTE),
        ("15 mnt", 15, TimeUnit.MINUTE),
        ("1 hour", 1, TimeUnit.HOUR),
        ("3 Hours", 3, TimeUnit.HOUR),
        ("1 day", 1, TimeUnit.DAY),
        ("2 DAYS", 2, TimeUnit.DAY),
        ("1 month", 1, TimeUnit.MONTH),
        ("6 months", 6, TimeUnit.MONTH),
        ("2 bln", 2, TimeUnit.MONTH),
    ],
)
def test_parse_waktu_accepts(text: str, amount: int, unit: TimeUnit) -> None:
    waktu = parse_waktu(text)
    assert (waktu.amount, waktu.unit) == (amount, unit)
    assert waktu.raw == text
    assert not waktu.is_none


@pytest.mark.parametrize("text", [None, "", "   ", "-", " - ", "–", "—"])
def test_parse_waktu_none(text: str | None) -> None:
    waktu = parse_waktu(text)
    assert waktu.is_none
    assert waktu.unit is None
    assert waktu.amount == 0
    assert str(waktu) == "-"


@pytest.mark.parametrize(
    "text",
    [
        "2 minggu",
        "1 week",
        "0 Menit",
        "-2 Jam",
        "1,5 Jam",
        "1.5 jam",
        "Jam",
        "10",
        "2 jam kerja",
        "sepuluh menit",
        "2 m",
        "1 Jam 30 Menit",
    ],
)
def test_parse_waktu_rejects(text: str) -> None:
    with pytest.raises(WaktuError):
        parse_waktu(text)


def test_parse_waktu_error_lists_accepted_forms() -> None:
    with pytest.raises(WaktuError, match="minggu") as info:
        parse_waktu("2 minggu")
    message = str(info.value)
    for word in ("Menit", "Jam", "Hari", "Bulan"):
        assert word in message


def test_parse_waktu_decimal_message() -> None:
    with pytest.raises(WaktuError, match="whole"):
        parse_waktu("1,5 Jam")


def test_parse_waktu_refuses_non_text() -> None:
    with pytest.raises(WaktuError):
        parse_waktu(10)  # type: ignore[arg-type]  # YAML's unquoted `waktu: 10`


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("10 menit", "10 Menit"),
        ("2 JAM", "2 Jam"),
        ("4 hari", "4 Hari"),
        ("3 bulan", "3 Bulan"),
        ("5 minutes", "5 Menit"),
        ("-", "-"),
    ],
)
def test_waktu_str(text: str, rendered: str) -> None:
    assert str(parse_waktu(text)) == rendered


def test_waktu_equality_ignores_raw() -> None:
    assert parse_waktu("2 jam") == parse_waktu(" 2 JAM ") == Waktu(2, TimeUnit.HOUR)
    assert parse_waktu("-") == parse_waktu(None) == Waktu.none()
    assert hash(parse_waktu("2 jam")) == hash(Waktu(2, TimeUnit.HOUR))


def test_waktu_invariants() -> None:
    with pytest.raises(WaktuError):
        Waktu(0, TimeUnit.HOUR)
    with pytest.raises(WaktuError):
        Waktu(3, None)


def test_time_unit_is_str_enum() -> None:
    assert TimeUnit.MINUTE == "menit"
    assert TimeUnit("bulan") is TimeUnit.MONTH
    assert TimeUnit.DAY.label == "Hari"


# --- totals --------------------------------------------------------------------------------


NEGLASARI = ["10 Menit", "2 Jam", "1 Jam", "2 Jam", "15 Menit", "10 Menit", "5 Hari", "1 Jam", "-"]


def test_neglasari_total() -> None:
    total = WaktuTotal.of(parse_waktu(t) for t in NEGLASARI)
    assert total == WaktuTotal(days=5, hours=6, minutes=35)
    assert str(total) == "5 Hari 6 Jam 35 Menit"
    assert parse_total("5 Hari 6 Jam 35 Menit") == total


def test_total_is_not_normalised() -> None:
    total = WaktuTotal.of([parse_waktu("180 menit"), parse_waktu("10 menit")])
    assert str(total) == "190 Menit"
    assert str(WaktuTotal.of([parse_waktu("30 Hari"), parse_waktu("25 Jam")])) == "30 Hari 25 Jam"


def test_total_order_and_zero_parts() -> None:
    total = WaktuTotal.of(parse_waktu(t) for t in ["5 Menit", "1 Bulan", "2 Hari"])
    assert str(total) == "1 Bulan 2 Hari 5 Menit"
    assert str(WaktuTotal()) == "-"
    assert str(WaktuTotal.of([Waktu.none(), parse_waktu(None)])) == "-"
    assert WaktuTotal().is_zero


def test_total_addition() -> None:
    total = WaktuTotal(hours=1) + parse_waktu("30 Menit") + WaktuTotal(days=2)
    assert total == WaktuTotal(days=2, hours=1, minutes=30)
    assert total.get(TimeUnit.MINUTE) == 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 hari 6 jam 35 menit", WaktuTotal(days=5, hours=6, minutes=35)),
        ("  5 HARI  6 JAM 35 MENIT ", WaktuTotal(days=5, hours=6, minutes=35)),
        ("35 Menit 5 Hari", WaktuTotal(days=5, minutes=35)),
        ("5 Hari, 6 Jam dan 35 Menit", WaktuTotal(days=5, hours=6, minutes=35)),
        ("190 Menit", WaktuTotal(minutes=190)),
        ("3 Bulan 1 Hari", WaktuTotal(months=3, days=1)),
        ("5Hari6Jam", WaktuTotal(days=5, hours=6)),
        ("-", WaktuTotal()),
        ("", WaktuTotal()),
        (None, WaktuTotal()),
    ],
)
def test_parse_total(text: str | None, expected: WaktuTotal) -> None:
    assert parse_total(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "5 Hari 2 Hari",
        "5 Hari kurang",
        "kira-kira 5 Hari",
        "5 Hari 2 minggu",
        "5",
        "Hari",
        "1,5 Jam",
    ],
)
def test_parse_total_rejects(text: str) -> None:
    with pytest.raises(WaktuError):
        parse_total(text)


waktus = st.one_of(
    st.just(Waktu.none()),
    st.builds(Waktu, st.integers(1, 10_000), st.sampled_from(list(TimeUnit))),
)


@given(st.lists(waktus, max_size=20))
def test_total_round_trips(items: list[Waktu]) -> None:
    total = WaktuTotal.of(items)
    assert parse_total(str(total)) == total
    for unit in TimeUnit:
        assert total.get(unit) == sum(w.amount for w in items if w.unit is unit)


@given(waktus)
def test_waktu_round_trips(waktu: Waktu) -> None:
    assert parse_waktu(str(waktu)) == waktu
