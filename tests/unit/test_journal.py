"""The working set's journal (issue 15): a transaction appends what it changed; the file is
written afresh only now and then. Every crash the journal can see is staged here on real
files: a line cut short, a compaction cut short before it emptied the journal, a journal
that cannot be emptied, a file restored or moved away under its journal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage import journal
from bot.storage.records import Member, Membership
from bot.storage.store import Store

NOW = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def official(i: int, name: str | None = None) -> Member:
    return Member(str(i), i, name or f"Pejabat {i}", NOW,
                  roles=[Membership("kec-neglasari", "pejabat_unit_kerja", NOW)])


def journaled(data_dir: Path) -> Store:
    """A store with Pejabat 1 in its file (the first write) and Pejabat 2 in its journal."""
    store = Store(data_dir)
    with store.transaction(record_update=False) as repo:
        repo.save_member(official(1))
    with store.transaction(record_update=False) as repo:
        repo.save_member(official(2))
    return store


def names(store: Store) -> dict[str, str]:
    return {m.id: m.name for m in store.read().members()}


def test_a_transaction_appends_one_line_and_a_fresh_reader_replays_it(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.transaction(record_update=False) as repo:  # no file yet: written whole
        repo.save_member(official(1))
    assert not store.journal.exists() or store.journal.stat().st_size == 0
    with store.transaction(record_update=False) as repo:
        repo.save_member(official(2, "Bu Sekcam"))
    lines = store.journal.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3  # the stamp of the file, one transaction
    assert json.loads(lines[0]) == {"base": journal.stamp(store.path.read_bytes())}
    on_file = json.loads(store.path.read_bytes())["members"].values()
    assert [d["id"] for d in on_file] == ["1"]  # the file itself was not rewritten
    assert names(store) == {"1": "Pejabat 1", "2": "Bu Sekcam"}


def test_a_line_cut_short_by_a_crash_is_dropped_and_later_lines_count(tmp_path: Path) -> None:
    store = journaled(tmp_path)
    with store.journal.open("ab") as fh:  # a writer killed in the middle of its line
        fh.write(b'{"d":{"members":{"9":{"id":"9","na')
    assert names(store) == {"1": "Pejabat 1", "2": "Pejabat 2"}
    with store.transaction(record_update=False) as repo:  # reads again: cuts the torn line
        repo.save_member(official(3))
    assert b'"id":"9"' not in store.journal.read_bytes()
    assert names(store) == {"1": "Pejabat 1", "2": "Pejabat 2", "3": "Pejabat 3"}
    assert names(Store(tmp_path)) == names(store)


def test_a_stale_journal_never_undoes_the_file_written_after_it(tmp_path: Path) -> None:
    """A compaction writes the file afresh and then empties the journal; a crash in between
    leaves the journal of the older file. Replayed, it would set Pejabat 1's old name back."""
    store = Store(tmp_path)
    with store.transaction(record_update=False) as repo:
        repo.save_member(official(1))
    with store.transaction(record_update=False) as repo:
        repo.save_member(official(1, "Pak Camat"))
    stale = store.journal.read_bytes()
    with store.transaction(record_update=False) as repo:
        repo.save_member(official(1, "Bu Camat"))
    store.compact()
    store.journal.write_bytes(stale)  # as if the crash came before the journal was emptied
    assert names(store) == {"1": "Bu Camat"}
    assert names(Store(tmp_path)) == {"1": "Bu Camat"}
    assert store.journal.stat().st_size == 0  # (the opening store emptied it)


def test_a_journal_that_cannot_be_emptied_is_never_appended_to(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = journaled(tmp_path)

    def broken(path: Path, length: int = 0) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(journal, "truncate", broken)
    monkeypatch.setattr(journal, "MIN_BYTES", 0)  # every commit compacts
    with store.transaction(record_update=False) as repo:  # committed by the file's rename
        repo.save_member(official(3))
    monkeypatch.setattr(journal, "MIN_BYTES", 1 << 20)
    with store.transaction(record_update=False) as repo:  # the file again, not the journal
        repo.save_member(official(4))
    monkeypatch.undo()
    assert names(store) == {str(i): f"Pejabat {i}" for i in range(1, 5)}
    assert names(Store(tmp_path)) == names(store)


def test_the_journal_is_folded_in_when_it_outgrows_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal, "MIN_BYTES", 4096)
    store = Store(tmp_path)
    for i in range(60):
        with store.transaction(record_update=False) as repo:
            repo.save_member(official(i))
        assert journal.size(store.journal) <= max(4096, store.path.stat().st_size)
    assert store.parsed.compactions >= 2
    assert len(names(store)) == 60


def test_a_failed_append_keeps_nothing_and_the_next_one_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = journaled(tmp_path)
    real_write = journal.os.write

    def half_then_full(fd: int, data: bytes) -> int:  # part of the line, then a full disk
        if len(data) > 20:
            real_write(fd, data[:20])
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(journal.os, "write", half_then_full)
    with pytest.raises(OSError), store.transaction(record_update=False) as repo:
        repo.save_member(official(3))
    monkeypatch.undo()
    with store.transaction(record_update=False) as repo:
        assert repo.member("3") is None
        repo.save_member(official(4))
    assert names(Store(tmp_path)) == {"1": "Pejabat 1", "2": "Pejabat 2", "4": "Pejabat 4"}


def test_stop_backup_and_restore_see_the_journal(tmp_path: Path) -> None:
    data, backup = tmp_path / "data", tmp_path / "backup"
    store = Store(data)
    store.claim_running()
    with store.transaction(record_update=False) as repo:
        repo.save_member(official(1))
    with store.transaction(record_update=False) as repo:
        repo.save_member(official(2, "Bu Sekcam"))
    store.backup(backup)  # the working set with its journal, as one file
    assert json.loads((backup / "sopbot.json").read_bytes())["members"]["2"]["name"] \
        == "Bu Sekcam"
    with store.transaction(record_update=False) as repo:
        repo.save_member(official(3))
    store.release_running()  # the bot stops: the file alone holds everything
    assert store.journal.stat().st_size == 0
    assert len(json.loads(store.path.read_bytes())["members"]) == 3
    with store.transaction(record_update=False) as repo:
        repo.save_member(official(4))
    assert store.journal.stat().st_size > 0
    store.restore(backup)  # the journal extended the data replaced: it goes
    assert not store.journal.exists()
    assert names(store) == {"1": "Pejabat 1", "2": "Bu Sekcam"}
    assert names(Store(data)) == names(store)


def test_a_file_moved_away_takes_its_journal_out_of_play(tmp_path: Path) -> None:
    """The start-up message says: move the damaged file away to start with no data. Its
    journal alone must not bring back half of it."""
    store = journaled(tmp_path)
    store.path.rename(tmp_path / "moved-away.json")
    fresh = Store(tmp_path)
    assert names(fresh) == {}
    with fresh.transaction(record_update=False) as repo:
        repo.save_member(official(7))
    assert names(Store(tmp_path)) == {"7": "Pejabat 7"}


def test_another_process_sees_each_commit(tmp_path: Path) -> None:
    """Two stores on one directory (the bot and ``sopbot invite``): each reads the other's
    journal lines, never a stale copy of its own cache."""
    bot, cli = Store(tmp_path), Store(tmp_path)
    with bot.transaction(record_update=False) as repo:
        repo.save_member(official(1))
    with bot.transaction(record_update=False) as repo:
        repo.save_member(official(2))
    with cli.transaction(record_update=False) as repo:
        assert {m.id for m in repo.members()} == {"1", "2"}
        repo.save_member(official(3, "dari CLI"))
    with bot.transaction(record_update=False) as repo:
        assert repo.member("3").name == "dari CLI"
        repo.save_member(official(4))
    with cli.transaction(record_update=False) as repo:
        assert {m.id for m in repo.members()} == {"1", "2", "3", "4"}
