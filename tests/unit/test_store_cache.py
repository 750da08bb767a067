"""The TinyDB store keeps the parsed working set between transactions (issue 15) without
weakening what a transaction promises: another process's writes are seen, a failed
transaction or a failed write leaves nothing behind, and archives are read only when the
instance looked up is in them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.engine.instance import Instance, Status
from bot.storage import journal as journal_module
from bot.storage import store as store_module
from bot.storage.records import Member, Membership
from bot.storage.store import Store

NOW = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def official(member_id: str, name: str, role: str = "camat") -> Member:
    return Member(member_id, int(member_id), name, NOW,
                  roles=[Membership("kec-neglasari", role, NOW)])


def test_a_transaction_reads_the_file_only_when_another_process_wrote_it(
        tmp_path: Path) -> None:
    bot, other = Store(tmp_path), Store(tmp_path)  # `other` stands for `sopbot invite`
    with bot.transaction() as repo:
        repo.save_member(official("1", "Pak Camat"))
    reads = bot.parsed.reads
    for _ in range(3):
        with bot.transaction() as repo:
            assert repo.member("1").name == "Pak Camat"
    assert bot.parsed.reads == reads  # served from memory
    with other.transaction() as repo:
        repo.save_member(official("2", "Bu Sekcam", "sekcam"))
    with bot.transaction() as repo:
        assert [m.name for m in repo.members()] == ["Pak Camat", "Bu Sekcam"]
        assert repo.holders("kec-neglasari") == {"camat": ["1"], "sekcam": ["2"]}
    assert bot.parsed.reads == reads + 1


def test_what_a_failed_transaction_changed_is_forgotten(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.transaction() as repo:
        repo.save_member(official("1", "Pak Camat"))
    with pytest.raises(RuntimeError), store.transaction() as repo:
        repo.save_member(official("1", "Someone Else"))
        raise RuntimeError("the use case refused after changing something")
    with store.transaction() as repo:
        assert repo.member("1").name == "Pak Camat"


def test_a_write_that_fails_leaves_nothing_in_memory(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path)
    with store.transaction() as repo:
        repo.save_member(official("1", "Pak Camat"))

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "atomic_write", disk_full)
    monkeypatch.setattr(journal_module, "append", lambda path, line, stamp: disk_full(path, line))
    with pytest.raises(OSError), store.transaction() as repo:
        repo.save_member(official("2", "Bu Sekcam", "sekcam"))
    monkeypatch.undo()
    with store.transaction() as repo:
        assert repo.member("2") is None
    assert store.read().member("1").name == "Pak Camat"


def test_looking_up_an_instance_reads_only_the_archive_holding_it(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for year in (2023, 2024):
        inst = Instance(id=f"old{year}", flow_id="pk", unit_id="kec-neglasari", year=year,
                        status=Status.COMPLETED, created_at=NOW, started_by="1",
                        finished_at=NOW)
        (tmp_path / f"archive-{year}.json").write_text(
            json.dumps({"instances": {"1": inst.to_dict()}}))
    with store.transaction() as repo:
        assert repo.instance("old2024").year == 2024
    reads = store.parsed.reads
    with store.transaction() as repo:
        assert repo.instance("nowhere") is None  # the ids of both archives are known
        assert repo.instance("old2023").year == 2023
        assert repo.instance("old2024").year == 2024
    assert store.parsed.reads == reads  # nothing read again
