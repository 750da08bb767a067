"""Invitation codes are stored as hashes: the data file and its backups hold no usable code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.engine.loader import load_flows
from bot.services.commands import Join
from bot.services.results import TelegramUser
from bot.storage import MemoryStore, Store
from bot.storage.records import invite_key
from tests.support.paths import FLOWS_DIR

NOW = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("backend", ["tinydb", "memory"])
def test_a_new_code_is_stored_as_its_hash_and_still_redeems(backend: str,
                                                            tmp_path: Path) -> None:
    store = Store(tmp_path / "data") if backend == "tinydb" else MemoryStore()
    services = build_services(load_flows(FLOWS_DIR), store)
    code = services.create_invite(unit="kec-sooko", role="camat", now=NOW).code
    assert len(code) >= 16
    (stored,) = [d for d in _invite_docs(store)]
    assert "code" not in stored and stored["code_hash"] == invite_key(code)
    if backend == "tinydb":
        assert code not in (tmp_path / "data" / "sopbot.json").read_text()
    joined = services.redeem(Join(code, TelegramUser(id=7, chat_id=7, name="Pak Camat"), NOW))
    assert joined is not None and services.member_count() == 1
    with pytest.raises(Exception):  # noqa: B017 (the services' own refusal of a used code)
        services.redeem(Join(code, TelegramUser(id=8, chat_id=8, name="Lain"), NOW))


def _invite_docs(store: Store | MemoryStore) -> list[dict]:
    if isinstance(store, MemoryStore):
        return list(store._state.tables["invites"])
    return list(json.loads(store.path.read_text())["invites"].values())


def test_plain_codes_of_an_old_file_are_migrated_and_backups_hold_none(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    old_code = "PlainOldCode-12345678"
    old = {"v": 1, "code": old_code, "unit": "kec-sooko", "role": "camat",
           "created_at": NOW.isoformat(), "expires_at": (NOW + timedelta(days=7)).isoformat(),
           "name": None, "atasan": None, "used_by": None, "used_at": None}
    (data / "sopbot.json").write_text(json.dumps({"invites": {"1": old}}))
    store = Store(data)  # opening the data directory upgrades the file on disk
    text = (data / "sopbot.json").read_text()
    assert old_code not in text and invite_key(old_code) in text
    store.backup(tmp_path / "backup")
    assert old_code not in (tmp_path / "backup" / "sopbot.json").read_text()
    services = build_services(load_flows(FLOWS_DIR), store)
    services.redeem(Join(old_code, TelegramUser(id=9, chat_id=9, name="Pak Camat"), NOW))
    assert services.member_count() == 1
