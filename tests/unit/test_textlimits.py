"""Telegram's limits by its own count (UTF-16 code units): split and shorten."""

from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.textlimits import (
    CALLBACK_ANSWER_LIMIT,
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    fits,
    shorten,
    split_message,
    utf16_len,
)

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme, 11 UTF-16 units
FLAG = "🇮🇩"  # two regional indicators, one grapheme
THUMB = "👍🏽"  # emoji + skin tone


def graphemes(text: str) -> list[str]:
    return regex.findall(r"\X", text)


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("👍") == 2
    assert utf16_len(FAMILY) == 11
    assert utf16_len("é") == 1
    assert fits("👍" * 2048) and not fits("👍" * 2049)


def test_a_reason_of_4000_emoji_is_split_into_parts_telegram_accepts() -> None:
    header = "Langkah 9 dikembalikan kepada Kasubbag Program untuk revisi.\n\nAlasan:\n"
    text = header + "👍" * 4000
    parts = split_message(text)
    assert "".join(parts) == text
    assert all(utf16_len(p) <= MESSAGE_LIMIT for p in parts)
    assert len(parts) == 2
    assert parts[0].startswith(header)  # the header is not separated from its first emoji


def test_3990_plain_characters_plus_a_header_split_between_words() -> None:
    header = ("📄 Penyusunan Perjanjian Kinerja (PK 2026)\nLangkah 10 — Mengoreksi Konsep Dokumen\n"
              "Batas waktu: Selasa, 24 November 2026 pukul 15.00 WIB\n\n"
              "Catatan dari Kasubbag Program:\n\n")
    body = ("Target IKU disesuaikan dengan Renstra. " * 103)[:3990]
    text = header + body
    assert len(text) > MESSAGE_LIMIT
    assert utf16_len(text) > MESSAGE_LIMIT >= utf16_len(body)
    parts = split_message(text)
    assert "".join(parts) == text and len(parts) == 2
    assert all(utf16_len(p) <= MESSAGE_LIMIT for p in parts)
    assert parts[0].startswith(header) and parts[0].endswith(" ")  # after a whole word
    # with a paragraph break late enough, the part ends there
    late = "Catatan:\n" + "kata " * 700 + "\n\n" + "akhir " * 300
    assert split_message(late)[0].endswith("\n\n")


def test_lines_then_words_are_preferred_to_cutting_a_word() -> None:
    text = ("kata " * 1000).strip()  # no line breaks at all
    parts = split_message(text)
    assert all(utf16_len(p) <= MESSAGE_LIMIT for p in parts)
    assert all(p.endswith(" ") for p in parts[:-1])  # each part ends after a whole word
    lines = "\n".join(f"baris {i} " + "x" * 60 for i in range(200))
    for part in split_message(lines)[:-1]:
        assert part.endswith("\n")


def test_emoji_sequences_are_never_torn_apart() -> None:
    for unit in (FAMILY, FLAG, THUMB, "é"):
        text = unit * (3 * MESSAGE_LIMIT // utf16_len(unit))
        parts = split_message(text)
        assert "".join(parts) == text
        for part in parts:
            assert utf16_len(part) <= MESSAGE_LIMIT
            assert all(g == unit for g in graphemes(part)), unit


def test_a_short_text_is_one_part_and_whitespace_only_parts_are_left_out() -> None:
    assert split_message("Terima kasih, Bu.") == ["Terima kasih, Bu."]
    parts = split_message("a" * 10 + " " * 9000 + "b" * 10)
    assert all(p.strip() for p in parts)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["kata", " ", "\n", "\n\n", "👍", FAMILY, FLAG, "é", "x" * 50]),
                max_size=1500), st.integers(min_value=20, max_value=300))
def test_split_loses_nothing_and_respects_the_limit(pieces: list[str], limit: int) -> None:
    text = "".join(pieces)
    parts = split_message(text, limit)
    assert all(utf16_len(p) <= limit for p in parts)
    if "  " * limit not in text and text.strip():
        assert "".join(parts).strip() == text.strip()
    joined = graphemes("".join(parts))
    assert [g for g in joined if not g.isspace()] == [g for g in graphemes(text)
                                                      if not g.isspace()]


def test_shorten_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    toast = ("Terima kasih, Bu. Langkah 9 «Mengoreksi Konsep Dokumen Perjanjian Kinerja» telah "
             "disetujui dan diteruskan kepada Kasubbag Program untuk ditindaklanjuti sesuai "
             "batas waktu yang berlaku pada SOP Penyusunan Perjanjian Kinerja tahun 2026.")
    short = shorten(toast, CALLBACK_ANSWER_LIMIT)
    assert utf16_len(short) <= CALLBACK_ANSWER_LIMIT
    assert short.endswith("…")
    head = short[:-1]
    assert toast.startswith(head)
    assert toast[len(head)] == " "  # the next character starts a new word: none was cut
    assert shorten("Disetujui.", CALLBACK_ANSWER_LIMIT) == "Disetujui."


def test_shorten_counts_emoji_as_telegram_does() -> None:
    caption = "Lampiran " + "📎" * 600
    short = shorten(caption, CAPTION_LIMIT)
    assert utf16_len(short) <= CAPTION_LIMIT
    assert short == "Lampiran…"  # the emoji run is one word longer than the room left
    one_word = "x" * 300
    assert shorten(one_word, 200) == "x" * 199 + "…"  # a single word longer than the limit


@given(st.text(max_size=400), st.integers(min_value=1, max_value=250))
def test_shorten_always_fits(text: str, limit: int) -> None:
    short = shorten(text, limit)
    assert utf16_len(short) <= limit
    if utf16_len(text) <= limit:
        assert short == text
