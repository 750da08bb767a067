"""Small pieces of the chat layer: callback data, message splitting, typed decisions, config."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ConfigError, settings_from_env
from bot.tg.callbacks import (
    ADVANCE,
    MAX_BYTES,
    REVISE,
    StepButton,
    decode_language,
    language_button,
)
from bot.tg.render import split_message
from bot.tg.steps import caption_decision
from tests.support.paths import FLOWS_DIR


@given(st.text(alphabet="0123456789abcdef", min_size=4, max_size=16),
       st.integers(1, 9999), st.integers(1, 9999), st.sampled_from(["d", "r"]))
def test_step_button_round_trips_within_64_bytes(inst: str, no: int, rnd: int,
                                                 action: str) -> None:
    button = StepButton(inst, no, rnd, action)
    data = button.encode()
    assert len(data.encode()) <= MAX_BYTES
    assert StepButton.decode(data) == button


@pytest.mark.parametrize("data", ["", "s:", "s:XYZ:1:1:d", "s:abcd:1:1:x", "s:abcd:1:d",
                                  "l:en", "s:abcd:1:1:d:extra", "s:abcd:-1:1:d"])
def test_foreign_callback_data_is_not_a_step_button(data: str) -> None:
    assert StepButton.decode(data) is None


def test_language_buttons() -> None:
    assert decode_language(language_button("en")) == "en"
    assert decode_language("l:english") is None


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12000))
def test_split_message_keeps_everything_within_the_limit(text: str) -> None:
    parts = split_message(text)
    assert all(len(p) <= 4096 for p in parts)
    assert "".join(parts) == text
    assert len(parts) == 1 or all(len(p) > 2048 or p.endswith("\n") for p in parts[:-1])


@pytest.mark.parametrize(("caption", "expected"), [
    ("selesai", (ADVANCE, None)),
    ("Sudah selesai pak 🙏", (ADVANCE, None)),
    ("setuju", (ADVANCE, None)),
    ("revisi: angka IKU salah", (REVISE, "angka IKU salah")),
    ("revisi", None),  # no reason: the file is only attached
    ("Ok, nanti saya pelajari dulu", None),
    ("selesai tapi lampiran menyusul besok", None),
    ("Sudah saya baca, tapi belum setuju", None),
    ("draf revisi kedua", None),
    ("", None),
])
def test_a_caption_decides_only_when_unmistakable(caption: str,
                                                   expected: tuple[str, str | None] | None
                                                   ) -> None:
    assert caption_decision(caption) == expected


def test_settings_from_env(tmp_path: Path) -> None:
    s = settings_from_env({"TELEGRAM_BOT_TOKEN": "123:abc_DEF-9",
                           "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
                           "SOPBOT_DATA_DIR": str(tmp_path),
                           "SOPBOT_FLOWS_DIR": str(FLOWS_DIR)})
    assert s.base_url == "http://127.0.0.1:8081/bot"
    assert s.base_file_url == "http://127.0.0.1:8081/file/bot"
    assert s.data_dir == tmp_path and s.language == "id"
    default = settings_from_env({"TELEGRAM_BOT_TOKEN": "1:x",
                                 "SOPBOT_FLOWS_DIR": str(FLOWS_DIR)})
    assert default.api_url == "https://api.telegram.org"
    assert str(default.data_dir) == "data"


def test_settings_report_all_problems() -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_env({"SOPBOT_INVITE_TTL_DAYS": "-1", "SOPBOT_FLOWS_DIR": "/nonexistent"})
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) == 3
    assert "TELEGRAM_BOT_TOKEN" in text and "SOPBOT_FLOWS_DIR" in text
    assert "SOPBOT_INVITE_TTL_DAYS" in text
