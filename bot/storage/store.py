"""TinyDB behind a small repository interface, safe for several processes.

Every use of the data is a *transaction*: take an exclusive lock on the data directory (so
the running bot and ``sopbot invite`` never lose each other's writes), work on the database
in memory through TinyDB, and — only if something changed and no exception escaped — make
it durable before the transaction ends: the documents it changed are appended to the
working set's journal and fsynced (:mod:`bot.storage.journal`); now and then, and whenever
a store opens or the running bot stops, the whole file is written afresh atomically
(temporary file, fsync, rename, fsync of the directory) and the journal emptied. A crash
therefore leaves the old or the new state, never a torn one. The parsed file is kept
between transactions and read again only when another process wrote it since (see
:class:`_ParsedFiles`): a transaction costs no file read.

This module is about 1,200 lines because it is the whole TinyDB side of the storage protocol
(every table, the lock, the atomic write, the archives and their id index, the read cache);
splitting it would spread one file format and its one lock over several modules. The protocol
itself, the in-memory twin and the running trail's packing (:mod:`bot.storage.packing`)
live beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
from tinydb import Query, TinyDB
from tinydb.storages import MemoryStorage

from bot.engine.instance import Disposition, Instance, Status
from bot.ops import gcpace, metrics
from bot.storage import journal
from bot.storage.columns import COLUMNS, Columns, keys_where, pack_columns, smallest, values_of
from bot.storage.migrations import SchemaError, upgrade_file
from bot.storage.packing import (
    PACKED,
    MessageIndex,
    Trail,
    id_array,
    index_message,
    inflate,
    instance_doc,
    instance_of,
    message_at,
    outbox_doc,
    outbox_stored,
    pack,
    pack_tables,
    plain_doc,
    unpack,
)
from bot.storage.protocol import CURRENT_UPDATE
from bot.storage.records import (
    CycleTask,
    Delegation,
    Invite,
    Member,
    OutboxItem,
    PendingReason,
    RosterEntry,
    StepMessage,
    invite_key,
)

DB_FILE = "sopbot.json"
JOURNAL_FILE = "sopbot.journal"  #: the working set's journal (bot.storage.journal)
ARCHIVE_PATTERN = "archive-{year}.json"
LOCK_FILE = ".lock"
RUNNING_FILE = ".running"
TMP_PREFIX = ".tmp-"

#: How many processed update ids and sent outbox items the working set keeps: Telegram
#: redelivers only unconfirmed updates, so the newest ones are all that matter.
KEEP_UPDATES = 2000
KEEP_SENT = 500

log = logging.getLogger(__name__)

# CURRENT_UPDATE (the update being handled) is the protocol's: every backend records it.


class StoreError(Exception):
    """The data directory cannot be used (unreadable file, permissions …)."""


class BotRunning(StoreError):
    """The operation needs the bot to be stopped."""


class _CountingMemory(MemoryStorage):
    """TinyDB's memory storage that notes whether anything was written."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.writes += 1
        super().write(data)


def _counting(db: TinyDB) -> _CountingMemory:
    storage = db.storage
    assert isinstance(storage, _CountingMemory)
    return storage


def _memory_db(data: dict[str, Any]) -> tuple[TinyDB, _CountingMemory]:
    db = TinyDB(storage=_CountingMemory)
    storage = db.storage
    assert isinstance(storage, _CountingMemory)
    storage.memory = data
    return db, storage


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new file whole."""
    started = time.perf_counter()
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    metrics.store_write(time.perf_counter() - started)


def read_json_file(path: Path) -> dict[str, Any]:
    """A database file's tables, upgraded to the current schema ({} when absent)."""
    return _read_json_file(path)[0]


def _read_json_file(path: Path) -> tuple[dict[str, Any], bytes | None]:
    """(:func:`read_json_file`, the file's bytes: None when absent)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc
    return _parse_json(path, raw), raw


def _parse_json(path: Path, raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    with gcpace.collector_paused():  # the whole file's objects, built at once
        return _parsed(path, raw)


def _parsed(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        try:  # orjson: twice as fast, and the parse holds the GIL throughout
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:  # what it refuses and json takes (NaN, big ints), or
            data = json.loads(raw)  # json's own words for what is wrong
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path} is not valid JSON ({exc}); restore a backup") from exc
    if not isinstance(data, dict):
        raise StoreError(f"{path} does not hold a sopbot database")
    try:
        upgrade_file(data)
    except SchemaError as exc:
        raise StoreError(f"{path}: {exc}") from exc
    except (AttributeError, TypeError, ValueError, KeyError) as exc:  # records of wrong types
        raise StoreError(f"{path}: a record cannot be read ({type(exc).__name__})") from exc
    return data


def _dump(data: Any) -> bytes:
    """Compact UTF-8 JSON (what ``json.dumps(ensure_ascii=False, separators=(",", ":"))``
    writes, several times faster); a packed document (:data:`PACKED`) is written as the
    JSON it holds."""
    return orjson.dumps(data, default=_fragment, option=orjson.OPT_NON_STR_KEYS)


def _fragment(obj: Any) -> orjson.Fragment:
    if isinstance(obj, bytes):
        return orjson.Fragment(inflate(obj))
    if isinstance(obj, Trail | Columns):
        return orjson.Fragment(obj.json())
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _file_key(path: Path) -> tuple[int, int, int, int] | None:
    """What tells one version of a data file from another (every write is a rename of a
    new file, so the inode and the times change); None when it is absent."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class _DetachedTables(dict[str, Any]):
    """The tables of a transaction that is over, each copied when first read.

    The store keeps the parsed tables between transactions and changes the busy ones in
    place; a repository used after its transaction (the reminder planning reads its snapshot
    outside the lock) would iterate a table while another transaction inserts into it
    ("dictionary changed size during iteration"). Copying a dict is one C call, atomic under
    the GIL: the copy is whole, and later transactions never change it. The documents are
    shared (the store replaces a changed document, it does not edit it).
    """

    def __init__(self, tables: Mapping[str, Any]) -> None:
        super().__init__(tables)
        self._copied: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        table = super().__getitem__(name)
        if name not in self._copied:
            self._copied.add(name)
            if isinstance(table, dict | Trail | Columns):
                table = table.copy()
                super().__setitem__(name, table)
        return table

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default  # noqa: SIM401 (self.get: recursion)


class _ParsedFiles:
    """The parsed contents of data files, kept between transactions (the read cache).

    A transaction works on the cached tables in place, so a file is read and parsed only
    when it changed since this process last read or wrote it (another process — ``sopbot
    invite`` — took the lock and wrote it). Whatever may have changed the tables without
    reaching the file (an exception in the transaction, a failed write) drops the copy.
    Archives are kept only while small: the working set is what every update touches.
    The working set is ``sopbot.json`` with its journal replayed (:mod:`bot.storage.journal`).
    """

    MAX_ARCHIVE_BYTES = 2 << 20
    MAX_ARCHIVES = 2

    def __init__(self, journal_path: Path | None = None) -> None:
        self.journal_path = journal_path
        self._files: dict[Path, tuple[Any, dict[str, Any]]] = {}
        #: the instance ids each archive holds (small, kept for every archive): a look-up
        #: of an id that is in no archive reads none of them
        self._ids: dict[Path, tuple[tuple[int, int, int, int] | None, frozenset[str]]] = {}
        self.reads = 0  #: files read and parsed (for the benchmarks)
        #: the working set's tables as last read or written (name -> the table object): a
        #: table that is another object now was replaced by a TinyDB write
        self._seen: dict[Path, dict[str, Any]] = {}
        #: the stamp of the working set's file as last read or written (None: no file)
        self._stamps: dict[Path, str | None] = {}
        self.journal_docs = 0  #: documents journaled (for the benchmarks)
        self.journal_tables = 0  #: tables journaled whole (for the benchmarks)
        self.compactions = 0  #: the working set written whole (for the benchmarks)
        #: each file's table indexes, kept by the repositories (Repository._index)
        self._shared: dict[Path, dict[str, tuple[Any, Any]]] = {}

    def shared(self, path: Path) -> dict[str, tuple[Any, Any]]:
        """The table indexes the transactions on `path` share."""
        return self._shared.setdefault(path, {})

    def _key(self, path: Path, working_set: bool) -> Any:
        if working_set and self.journal_path is not None:
            return (_file_key(path), _file_key(self.journal_path))
        return _file_key(path)

    def stamp(self, path: Path) -> str | None:
        """The stamp of the working set's file as this process last read or wrote it."""
        return self._stamps.get(path)

    def journal_line(self, path: Path, data: dict[str, Any], changed: set[str],
                     changed_docs: Mapping[str, set[str]]) -> bytes | None:
        """The journal line of a transaction that changed `data` (None: nothing changed).

        A table changed in place document by document (`changed_docs`: table -> document
        ids, the repository's own operations) is journaled by those documents only. A table
        changed in place as a whole (`changed`), new, or another object than when last read
        or written (every TinyDB write replaces the table it changes) is journaled whole.
        """
        seen = self._seen.get(path, {})
        tables: dict[str, Any] = {}
        docs: dict[str, Any] = {}
        for name, table in data.items():
            if seen.get(name) is not table or name in changed:
                tables[name] = table
            elif changed_docs.get(name):
                stored = data[name]
                # (a table of columns writes its documents' JSON itself, one at a time)
                docs[name] = orjson.Fragment(stored.json(changed_docs[name])) \
                    if isinstance(stored, Columns) \
                    else {key: stored.get(key) for key in changed_docs[name]}
        for gone in seen.keys() - data.keys():
            tables[gone] = None
        if not tables and not docs:
            return None
        self.journal_tables += len(tables)
        self.journal_docs += sum(len(changed_docs[name]) for name in docs)
        record: dict[str, Any] = {}
        if docs:
            record["d"] = docs
        if tables:
            record["t"] = tables
        return _dump(record) + b"\n"

    def instance_ids(self, path: Path) -> frozenset[str]:
        """The ids of the instances in the archive `path`."""
        key = _file_key(path)
        known = self._ids.get(path)
        if known is None or known[0] != key:
            data = self.load(path, working_set=False)
            known = (key, frozenset(d["id"] for d in (data.get("instances") or {}).values()))
            self._ids[path] = known
        return known[1]

    def load(self, path: Path, *, working_set: bool) -> dict[str, Any]:
        """`path`'s tables (the working set: with its journal replayed; a torn or stale
        part of the journal is cut off, so call this under the store's lock)."""
        key = self._key(path, working_set)
        cached = self._files.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        self.reads += 1
        self.drop(path)
        if working_set and self.journal_path is not None:
            data, base_stamp, records, good, size = read_working_set(path, self.journal_path)
            if good < size:  # a line a crash cut short, or a stale journal: never extended
                journal.truncate(self.journal_path, good)
                key = self._key(path, working_set)
            journal.apply(data, records)
            pack_tables(data)
            pack_columns(data)
            self._stamps[path] = base_stamp
            self._seen[path] = dict(data)
        else:
            data = read_json_file(path)
        if working_set or (key is not None and _size(key) <= self.MAX_ARCHIVE_BYTES):
            if not working_set:
                archives = [p for p in self._files if p.name != DB_FILE]
                for old in archives[:max(0, len(archives) - self.MAX_ARCHIVES + 1)]:
                    del self._files[old]
            self._files[path] = (key, data)
        return data

    def written(self, path: Path, data: dict[str, Any], *, working_set: bool = False,
                base_stamp: str | None = None) -> None:
        """`data` is now what `path` holds (this process just wrote it, or its journal;
        `base_stamp`: the file itself was written afresh)."""
        key = self._key(path, working_set)
        if path in self._files:
            self._files[path] = (key, data)
        if working_set:
            self._seen[path] = dict(data)
            if base_stamp is not None:
                self._stamps[path] = base_stamp
        if path in self._ids:
            self._ids[path] = (_file_key(path), frozenset(
                d["id"] for d in (data.get("instances") or {}).values()))

    def drop(self, *paths: Path) -> None:
        for path in paths:
            self._shared.pop(path, None)
            self._files.pop(path, None)
            self._ids.pop(path, None)
            self._seen.pop(path, None)
            self._stamps.pop(path, None)


def _size(key: Any) -> int:
    """A file's size from its key (0 when absent)."""
    return 0 if key is None else int(key[1])


def read_working_set(path: Path, journal_path: Path,
                     ) -> tuple[dict[str, Any], str | None, list[dict[str, Any]], int, int]:
    """The working set file's tables, its stamp (None when absent), the journal's records
    for it (not yet applied), the length of the journal's valid part and its size."""
    data, raw = _read_json_file(path)
    base_stamp = None if raw is None else journal.stamp(raw)
    try:
        records, good, size = journal.read(journal_path, base_stamp)
    except journal.JournalError as exc:
        raise StoreError(str(exc)) from exc
    if size and not good:
        log.warning("the journal %s does not extend %s as it is now: ignored", journal_path,
                    path)
    return data, base_stamp, records, good, size


class Store:
    """The bot's state in a data directory. Use :meth:`transaction` for every access.

    The working set (people, invitations, running instances and what they owe) lives in
    ``sopbot.json``; finished instances with their dispositions move to ``archive-YYYY.json``
    so that the cost of a write does not grow with history.
    """

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreError(f"cannot create data directory {self.data_dir}: {exc}") from exc
        self.path = self.data_dir / DB_FILE
        self.journal = self.data_dir / JOURNAL_FILE
        self._thread_lock = threading.Lock()
        self._running_fd: int | None = None
        self.parsed = _ParsedFiles(self.journal)
        #: the journal could not be emptied after the file was written afresh: the next
        #: commit writes the file afresh again rather than append to a stale journal
        self._journal_stale = False
        with self._locked():
            self._clean_leftovers()
            self._compact_journal()
            self._persist_upgrades()

    def _persist_upgrades(self) -> None:
        """Write back a file whose documents the migrations changed (invitation codes become
        hashes), so that the file and its later backups hold the current shapes only."""
        try:
            raw = json.loads(self.path.read_bytes() or b"{}")
        except (OSError, ValueError):
            return  # absent or unreadable: reading it says why, where it matters
        if not isinstance(raw, dict):
            return
        try:
            changed = upgrade_file(raw)
        except (SchemaError, AttributeError, TypeError, ValueError, KeyError):
            return
        if changed:
            atomic_write(self.path, _dump(raw))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # A threading lock as well: flock is per open file, and threads of one process
        # must queue too.
        with self._thread_lock:
            fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the lock

    def _clean_leftovers(self) -> None:
        """Remove temporary files of writes that a crash interrupted."""
        for leftover in self.data_dir.glob(f"{TMP_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()

    def archive_path(self, year: int) -> Path:
        return self.data_dir / ARCHIVE_PATTERN.format(year=year)

    def archive_years(self) -> list[int]:
        years = []
        for path in self.data_dir.glob("archive-*.json"):
            with contextlib.suppress(ValueError):
                years.append(int(path.stem.split("-", 1)[1]))
        return sorted(years)

    @contextlib.contextmanager
    def transaction(self, *, record_update: bool = True) -> Iterator[Repository]:
        """Lock, load, yield a repository; write back atomically what changed.

        Archives are written before the working set: a crash in between leaves a finished
        instance in both, which the next archiving pass settles (moves are idempotent).
        """
        with self._locked():
            db, storage = _memory_db(self.parsed.load(self.path, working_set=True))
            repo = Repository(db, self, self.parsed.shared(self.path))
            try:
                yield repo
                repo.trim()
                update_id = CURRENT_UPDATE.get() if record_update else None
                if storage.writes and update_id is not None:
                    repo.mark_update(update_id)
                for year, (_adb, astorage) in repo.archives.items():
                    if astorage.writes:
                        path = self.archive_path(year)
                        atomic_write(path, _dump(astorage.memory or {}))
                        self.parsed.written(path, astorage.memory or {})
                if storage.writes:
                    self._commit(storage.memory or {}, repo)
            except BaseException:
                # The tables may hold changes that never reached the files: read them again.
                self.parsed.drop(self.path, *(self.archive_path(y) for y in repo.archives))
                raise
            finally:
                repo.detach()

    def _commit(self, data: dict[str, Any], repo: Repository) -> None:
        """Make the working set's changes durable: one journal line, or the whole file
        afresh when there is none yet or the journal has outgrown it."""
        line = self.parsed.journal_line(self.path, data, repo.changed_tables,
                                        repo.changed_docs)
        if line is None:
            return
        base_stamp = self.parsed.stamp(self.path)
        size = journal.size(self.journal)
        if base_stamp is None or self._journal_stale \
                or size + len(line) > max(journal.MIN_BYTES, _size(_file_key(self.path))):
            del line  # (megabytes after a round of marks: not held while the whole is encoded)
            self._write_whole(data)
        else:
            journal.append(self.journal, line, base_stamp)
            self.parsed.written(self.path, data, working_set=True)

    def _write_whole(self, data: dict[str, Any]) -> None:
        """Write the working set's file afresh and empty its journal (under the lock).

        The file's rename commits; a journal left behind is stale from then on (its stamp
        is the old file's) and is emptied here or by the next reader."""
        raw = _dump(data)
        atomic_write(self.path, raw)
        self.parsed.compactions += 1
        try:
            journal.truncate(self.journal)
            self._journal_stale = False
        except OSError as exc:
            self._journal_stale = True
            log.warning("could not empty the journal %s (%s): the next write rewrites %s",
                        self.journal, exc, self.path)
        self.parsed.written(self.path, data, working_set=True, base_stamp=journal.stamp(raw))

    def _compact_journal(self) -> None:
        """Fold the journal into the file (under the lock), if it holds anything."""
        if not journal.size(self.journal):
            return
        data = self.parsed.load(self.path, working_set=True)
        if journal.size(self.journal):
            self._write_whole(data)

    def compact(self) -> None:
        """Fold the journal into ``sopbot.json``, so that the file alone holds the whole
        working set (the running bot does it when it stops)."""
        with self._locked():
            self._compact_journal()

    def read(self) -> Repository:
        """A snapshot to read from (changes to it are never written)."""
        with self._locked():
            db, _ = _memory_db(self._working_set())
            repo = Repository(db, self)
            for year in self.archive_years():  # loaded now, under the lock (not cached:
                # the snapshot's tables must not change with later transactions)
                repo.archives[year] = _memory_db(read_json_file(self.archive_path(year)))
        return repo

    # -- the running bot -------------------------------------------------------------

    def claim_running(self) -> None:
        """Mark the data directory as used by a running bot (until the process ends)."""
        fd = os.open(self.data_dir / RUNNING_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise BotRunning(f"another sopbot is already running on {self.data_dir}") from exc
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._running_fd = fd

    @property
    def running_claimed(self) -> bool:
        """Whether this process holds the data directory as a running bot."""
        return self._running_fd is not None

    def release_running(self) -> None:
        if self._running_fd is not None:
            try:
                self.compact()
            except (OSError, StoreError) as exc:  # the journal stays, whole: read next time
                log.warning("could not fold the journal into %s at stop: %s", self.path, exc)
            os.close(self._running_fd)
            self._running_fd = None

    def bot_running(self) -> bool:
        """Whether a bot process holds this data directory."""
        path = self.data_dir / RUNNING_FILE
        if not path.exists():
            return False
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    # -- backup and restore --------------------------------------------------------------

    def data_files(self) -> list[Path]:
        return ([self.path] if self.path.exists() else []) + [
            self.archive_path(y) for y in self.archive_years()]

    def backup(self, dest: str | Path) -> list[Path]:
        """A consistent copy of every data file into directory `dest` (taken under the lock)."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True, mode=0o700)
        written = []
        with self._locked():
            for path in self.data_files():
                target = dest / path.name
                # the working set with its journal: the copy is one whole file
                atomic_write(target, _dump(self._working_set()) if path == self.path
                             else path.read_bytes())
                written.append(target)
        return written

    def _working_set(self) -> dict[str, Any]:
        """The working set's tables, its journal replayed (read afresh, under the lock)."""
        data, _stamp, records, _good, _size = read_working_set(self.path, self.journal)
        journal.apply(data, records)
        return data

    def restore(self, src: str | Path) -> list[Path]:
        """Replace the data with a backup; refused while a bot runs, validated first."""
        src = Path(src)
        files = sorted(p for p in src.glob("*.json")
                       if p.name == DB_FILE or p.name.startswith("archive-"))
        if not files:
            raise StoreError(f"{src} holds no sopbot data files ({DB_FILE}, archive-*.json)")
        if self.bot_running():
            raise BotRunning(f"a sopbot is running on {self.data_dir}: stop it before restoring")
        for path in files:
            validate_file(path)
        with self._locked():
            if self.bot_running():
                raise BotRunning(f"a sopbot is running on {self.data_dir}")
            self.journal.unlink(missing_ok=True)  # it extends the data being replaced
            self._journal_stale = False
            for old in self.data_files():
                if not (src / old.name).exists():
                    old.unlink()
            for path in files:
                atomic_write(self.data_dir / path.name, path.read_bytes())
        return [self.data_dir / p.name for p in files]


def validate_file(path: Path) -> None:
    """Raise StoreError unless every record of the file can be read by this sopbot."""
    data = read_json_file(path)
    db, _ = _memory_db(data)
    repo = Repository(db, None)
    try:
        repo.members()
        for doc in db.table("instances").all():
            Instance.from_dict(dict(doc))
        for doc in db.table("dispositions").all():
            Disposition.from_dict(doc)
        for doc in db.table("invites").all():
            Invite.from_doc(dict(doc))
        repo.outbox("pending")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StoreError(f"{path}: a record cannot be read ({exc!r})") from exc


q = Query()


class _Docs(Protocol):
    """Documents to insert: a list, or made one at a time as they are stored."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


class _LazyDocs:
    """The documents `make` makes of `items`, made one at a time as they are stored: a round
    of 21,000 reminder marks is not a list of 21,000 dicts at once (issue 15)."""

    def __init__(self, items: Sequence[Any], make: Callable[[Any], Any]) -> None:
        self._items = items
        self._make = make

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return map(self._make, self._items)


class Repository:
    """The bot's records, inside one transaction (TinyDB; see :mod:`bot.storage.protocol`)."""

    def __init__(self, db: TinyDB, store: Store | None,
                 shared: dict[str, tuple[Any, Any]] | None = None) -> None:
        self.db = db
        self.store = store
        self.archives: dict[int, tuple[TinyDB, _CountingMemory]] = {}
        self._members = db.table("members")
        self._invites = db.table("invites")
        self._instances = db.table("instances")
        self._pending = db.table("pending_reasons")
        self._cycle_tasks = db.table("cycle_tasks")
        self._roster = db.table("roster")
        self._delegations = db.table("delegations")
        self._storage = _counting(db)
        #: tables changed in place by this repository (see _changing), re-encoded at commit:
        #: whole, or only the documents named here (table -> document ids)
        self.changed_tables: set[str] = set()
        self.changed_docs: dict[str, set[str]] = {}
        self._next_ids: dict[str, tuple[dict[str, Any], int]] = {}
        self._outbox_ids: dict[str, int] | None = None
        self._reminder_ids: set[str] | None = None
        self._update_ids: set[int] | None = None
        #: indexes of tables (officials by id, role holders, instances' document ids),
        #: shared by this process's transactions on the working set (see _index)
        self._shared: dict[str, tuple[Any, Any]] = {} if shared is None else shared
        self._trim_outbox = False
        self._failed = db.table("failed_updates")

    # -- tables changed in place ------------------------------------------------------
    # TinyDB's insert/update/remove copy the whole table on every call (Table._update_table),
    # so that queueing or marking N items one by one costs O(N²). The busy tables (outbox,
    # reminders sent, step messages, processed updates) are changed here directly, by
    # document id, in TinyDB's own layout ({"<doc id>": document}).

    def _docs(self, name: str) -> dict[str, Any]:
        """A table's stored documents by document id (to read: see :meth:`_changing`)."""
        table: dict[str, Any] = (self._storage.memory or {}).get(name) or {}
        return table

    def _changing(self, name: str, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """A table's stored documents, to change in place: the transaction will write the
        file (the documents `keys` encoded anew, or the whole table when None) and
        TinyDB's caches of the table are dropped."""
        storage = self._storage
        if storage.memory is None:
            storage.memory = {}
        table: dict[str, Any] = storage.memory.get(name)  # type: ignore[assignment]
        if table is None:
            table = storage.memory[name] = Trail() if name in PACKED else \
                Columns(COLUMNS[name]) if name in COLUMNS else {}
        storage.writes += 1
        if keys is None:
            self.changed_tables.add(name)
        else:
            self.changed_docs.setdefault(name, set()).update(keys)
        tinydb_table = self.db.table(name)
        tinydb_table.clear_cache()
        tinydb_table._next_id = None  # TinyDB finds the next id anew if it inserts here
        return table

    def _insert(self, name: str, docs: _Docs) -> list[int]:
        """Add documents to a table under new document ids (one pass, no table copy)."""
        table = self._docs(name)
        known = self._next_ids.get(name)
        if known is not None and known[0] is table:
            next_id = known[1]
        else:  # first insert here, or TinyDB replaced the table since
            next_id = table.next_id() if isinstance(table, Trail | Columns) \
                else max(map(int, table), default=0) + 1
        keys = [str(doc_id) for doc_id in range(next_id, next_id + len(docs))]
        table = self._changing(name, keys)
        for key, doc in zip(keys, docs, strict=True):
            table[key] = doc
        self._next_ids[name] = (table, next_id + len(docs))
        return list(range(next_id, next_id + len(docs)))

    def _remove_ids(self, name: str, doc_ids: list[str]) -> None:
        if doc_ids:
            table = self._changing(name, doc_ids)
            for doc_id in doc_ids:
                del table[doc_id]

    # -- members -------------------------------------------------------------------

    def _index(self, table: str, kind: str, build: Callable[[dict[str, Any]], Any]) -> Any:
        """An index of `table`, built once and kept while the table is the same object.

        Kept across the transactions of this process (the store keeps the parsed tables
        between them): the repository's in-place operations keep each index up to date as
        they change its table, and a TinyDB write replaces the table, and so the index.
        With 1,000 instances running, building the officials' role holders and the
        instances' document ids anew cost a decision about 7 ms. A transaction that fails
        drops them with the tables; a repository used after its transaction (a planning
        snapshot) builds its own (:meth:`detach`).
        """
        docs = self._docs(table)
        hit = self._shared.get(kind)
        if hit is not None and hit[0] is docs:
            return hit[1]
        value = build(docs)
        self._shared[kind] = (docs, value)
        return value

    def detach(self) -> None:
        """The transaction is over: later reads (a planning snapshot, outside the lock) use
        their own copy of each table and build their own indexes, so that they never
        iterate a table that another transaction is changing in place."""
        self._shared = {}
        storage = self._storage
        if storage.memory is not None and not isinstance(storage.memory, _DetachedTables):
            storage.memory = _DetachedTables(storage.memory)

    def _member_docs(self) -> dict[str, Mapping[str, Any]]:
        """The stored officials by id (no Document built per official)."""
        index: dict[str, Mapping[str, Any]] = self._index(
            "members", "members", lambda docs: {d["id"]: d for d in docs.values()})
        return index

    def _member_keys(self) -> dict[str, str]:
        """Officials' document ids by member id."""
        keys: dict[str, str] = self._index(
            "members", "member_keys", lambda docs: {d["id"]: k for k, d in docs.items()})
        return keys

    def _holders(self) -> dict[str, dict[str, list[str]]]:
        """Role holders by unit, as far as asked (see :meth:`holders`)."""
        by_unit: dict[str, dict[str, list[str]]] = self._index(
            "members", "holders", lambda docs: {})
        return by_unit

    def member(self, member_id: str) -> Member | None:
        doc = self._member_docs().get(member_id)
        return Member.from_doc(dict(doc)) if doc else None

    def save_member(self, member: Member) -> None:
        # In place, by the member's document id: TinyDB's upsert would search and then
        # copy the whole table (joining 5,000 officials one by one would be O(N²)).
        keys, index = self._member_keys(), self._member_docs()
        doc = member.to_doc()
        key = keys.get(member.id)
        if key is None:
            keys[member.id] = str(self._insert("members", [doc])[0])
        else:
            self._changing("members", (key,))[key] = doc
        index[member.id] = doc
        self._holders().clear()  # (the roles may have changed)

    def members(self) -> list[Member]:
        return [Member.from_doc(dict(d)) for d in self._member_docs().values()]

    def holders(self, unit: str) -> dict[str, list[str]]:
        """Who holds each role in a unit: role -> member ids (in the order they joined)."""
        by_unit = self._holders()
        if unit not in by_unit:
            result: dict[str, list[str]] = {}
            for doc in self._member_docs().values():  # from the raw documents: no parsing
                held = [r for r in doc.get("roles") or () if r["unit"] == unit]
                for r in sorted(held, key=lambda r: datetime.fromisoformat(r["since"])):
                    result.setdefault(r["role"], []).append(doc["id"])
            by_unit[unit] = result
        return {role: list(ids) for role, ids in by_unit[unit].items()}

    # -- invitations ---------------------------------------------------------------

    def add_invite(self, invite: Invite) -> None:
        self._invites.insert(invite.to_doc())

    def invite(self, code: str) -> Invite | None:
        doc = self._invites.get(q.code_hash == invite_key(code))
        return Invite.from_doc(dict(doc)) if doc else None

    def save_invite(self, invite: Invite) -> None:
        self._invites.upsert(invite.to_doc(), q.code_hash == invite.code_hash)

    def invites(self) -> list[Invite]:
        return [Invite.from_doc(dict(d)) for d in self._invites.all()]

    def remove_member(self, member_id: str) -> None:
        self._members.remove(q.id == member_id)  # (a new table: its indexes go with it)

    def member_by_nip(self, nip: str) -> Member | None:
        doc = self._members.get(q.nip == nip)
        return Member.from_doc(dict(doc)) if doc else None

    # -- roster and delegations ----------------------------------------------------

    def roster(self) -> list[RosterEntry]:
        return [RosterEntry.from_doc(dict(d)) for d in self._roster.all()]

    def roster_entry(self, nip: str) -> RosterEntry | None:
        doc = self._roster.get(q.nip == nip)
        return RosterEntry.from_doc(dict(doc)) if doc else None

    def save_roster_entry(self, entry: RosterEntry) -> None:
        self._roster.upsert(entry.to_doc(), q.nip == entry.nip)

    def save_roster_entries(self, entries: list[RosterEntry]) -> None:
        """Add or replace many entries in one pass (a roster import)."""
        new = {e.nip: e.to_doc() for e in entries}
        kept = [dict(d) for d in self._roster.all() if d["nip"] not in new]
        self._roster.truncate()
        self._roster.insert_multiple([*kept, *new.values()])

    def remove_roster_entry(self, nip: str) -> None:
        self._roster.remove(q.nip == nip)

    def roster_reports(self, atasan_nip: str) -> list[RosterEntry]:
        """The roster entries whose atasan is `atasan_nip` (one query, no full conversion)."""
        return [RosterEntry.from_doc(dict(d)) for d in self._roster.search(
            q.atasan_nip == atasan_nip)]

    def delegations(self) -> list[Delegation]:
        return [Delegation.from_doc(dict(d)) for d in self._delegations.all()]

    def save_delegation(self, delegation: Delegation) -> None:
        self._delegations.upsert(delegation.to_doc(), q.id == delegation.id)

    # -- archives ------------------------------------------------------------------

    def archive(self, year: int) -> TinyDB:
        """The archive of finished instances of `year` (loaded on first use)."""
        if year not in self.archives:
            data = (self.store.parsed.load(self.store.archive_path(year), working_set=False)
                    if self.store else {})
            self.archives[year] = _memory_db(data)
        return self.archives[year][0]

    def archive_instance(self, inst: Instance) -> None:
        """Move a finished instance with its dispositions and messages to its year's archive.

        Removed from the working set in place, by document id: TinyDB's remove would
        replace each table (and journal it whole) and drop its indexes."""
        arch = self.archive(inst.year)
        arch.table("instances").upsert(plain_doc(inst), q.id == inst.id)
        disp_keys = self._disposition_keys().pop(inst.id, id_array())
        msg_keys = self._message_index()[1].pop(inst.id, id_array())
        trail = {table: [(k, unpack(self._docs(table)[str(k)])) for k in keys]
                 for table, keys in (("dispositions", disp_keys), ("step_messages", msg_keys))}
        for table, held in trail.items():
            if held:
                arch.table(table).insert_multiple(doc for _k, doc in held)
        by_message = self._message_index()[0]
        for key, doc in trail["step_messages"]:
            by_message.remove(message_at(doc["chat_id"], doc["message_id"]), key)
        self._remove_ids("dispositions", list(map(str, disp_keys)))
        self._remove_ids("step_messages", list(map(str, msg_keys)))
        doc_id = self._instance_ids().pop(inst.id, None)
        if doc_id is not None:
            self._remove_ids("instances", [str(doc_id)])

    def settle_archives(self) -> int:
        """Finish moves that a crash interrupted: finished instances still in the working set."""
        moved = 0
        for doc in self._instances.all():
            if doc["status"] != Status.ACTIVE.value and not doc.get("side"):
                self.archive_instance(instance_of(doc))
                moved += 1
        return moved

    # -- instances -----------------------------------------------------------------

    def _instance_ids(self) -> dict[str, int]:
        """Running instances' document ids by instance id."""
        index: dict[str, int] = self._index(
            "instances", "instances", lambda docs: {d["id"]: int(k) for k, d in docs.items()})
        return index

    def instance(self, instance_id: str, year: int | None = None) -> Instance | None:
        """An instance from the working set, else from the archive of `year` (or any year)."""
        doc_id = self._instance_ids().get(instance_id)
        doc = None if doc_id is None else self._instances.get(doc_id=doc_id)
        if doc is None:
            years = [year] if year is not None else (
                self.store.archive_years() if self.store else list(self.archives))
            for y in years:
                if self.store is not None and y not in self.archives and instance_id not in \
                        self.store.parsed.instance_ids(self.store.archive_path(y)):
                    continue  # not in that archive: not loaded
                doc = self.archive(y).table("instances").get(q.id == instance_id)
                if doc is not None:
                    break
        return instance_of(doc) if doc else None

    def save_instance(self, inst: Instance) -> None:
        doc_id = self._instance_ids().get(inst.id)
        if doc_id is None:  # in place: TinyDB's insert/update copy the whole table
            self._instance_ids()[inst.id] = self._insert("instances", [instance_doc(inst)])[0]
        else:
            self._changing("instances", (str(doc_id),))[str(doc_id)] = instance_doc(inst)

    def instances(
        self,
        *,
        unit: str | None = None,
        flow_id: str | None = None,
        year: int | None = None,
        status: Status | None = None,
    ) -> list[Instance]:
        """Matching instances; with a year, that year's archive is searched too."""

        def match(doc: dict[str, Any]) -> bool:
            return ((unit is None or doc["unit_id"] == unit)
                    and (flow_id is None or doc["flow_id"] == flow_id)
                    and (year is None or doc["year"] == year)
                    and (status is None or doc["status"] == status.value))

        docs = [d for d in self._instances.all() if match(d)]
        if year is not None and status is not Status.ACTIVE:
            live = {d["id"] for d in docs}
            docs += [d for d in self.archive(year).table("instances").all()
                     if match(d) and d["id"] not in live]
        return [instance_of(d) for d in docs]

    # -- dispositions --------------------------------------------------------------

    def _disposition_keys(self) -> dict[str, array[int]]:
        """The working set's dispositions' document ids by instance id, oldest first."""

        def build(docs: dict[str, Any]) -> dict[str, array[int]]:
            index: dict[str, array[int]] = {}
            for key, doc in docs.items():
                index.setdefault(unpack(doc)["instance_id"], id_array()).append(int(key))
            return index

        keys: dict[str, array[int]] = self._index("dispositions", "dispositions", build)
        return keys

    def add_disposition(self, disp: Disposition) -> None:
        index = self._disposition_keys()
        [key] = self._insert("dispositions", [pack({"v": 1, **disp.to_dict()})])
        index.setdefault(disp.instance_id, id_array()).append(key)

    def dispositions(self, instance_id: str, year: int | None = None) -> list[Disposition]:
        """Every disposition of an instance, oldest first (from its archive if finished)."""
        stored = self._docs("dispositions")
        docs: Sequence[Mapping[str, Any]] = [
            unpack(stored[str(k)]) for k in self._disposition_keys().get(instance_id, ())]
        if not docs and year is not None:
            docs = self.archive(year).table("dispositions").search(q.instance_id == instance_id)
        return [Disposition.from_dict(d) for d in docs]

    # -- step messages -------------------------------------------------------------
    # Looked up by index (a reply or a press names its message; a decision names its step):
    # the table holds every running instance's messages, and a query scans them all.

    def _message_index(self) -> tuple[MessageIndex, dict[str, array[int]]]:
        """The step messages' document ids by chat and message (:func:`message_at`) and by
        instance (oldest first)."""

        def build(docs: dict[str, Any]) -> tuple[MessageIndex, dict[str, array[int]]]:
            by_message = MessageIndex()
            by_instance: dict[str, array[int]] = {}
            for key, doc in docs.items():
                index_message(by_message, by_instance, int(key), unpack(doc))
            return by_message, by_instance

        index: tuple[MessageIndex, dict[str, array[int]]] = self._index(
            "step_messages", "step_messages", build)
        return index

    def add_step_message(self, msg: StepMessage) -> None:
        index = self._message_index()
        doc = msg.to_doc()
        [key] = self._insert("step_messages", [pack(doc)])
        index_message(*index, key, doc)

    def _messages_at(self, chat_id: int, message_id: int) -> list[tuple[int, dict[str, Any]]]:
        """The step messages (document id, document) of a chat's message, oldest first."""
        docs = self._docs("step_messages")
        found = ((k, unpack(docs[str(k)]))
                 for k in self._message_index()[0].get(message_at(chat_id, message_id)))
        return [(k, doc) for k, doc in found
                if doc["chat_id"] == chat_id and doc["message_id"] == message_id]

    def step_message(self, chat_id: int, message_id: int) -> StepMessage | None:
        held = self._messages_at(chat_id, message_id)
        return StepMessage.from_doc(held[0][1]) if held else None

    def step_messages(self, instance_id: str, step_no: int, round_no: int) -> list[StepMessage]:
        # from the instance's messages (a few dozen at most), each unpacked: an index by
        # step and round cost as much memory as the messages themselves
        docs = self._docs("step_messages")
        found = (unpack(docs[str(k)]) for k in self._message_index()[1].get(instance_id, ()))
        return [StepMessage.from_doc(d) for d in found
                if d["step_no"] == step_no and d["round"] == round_no]

    def settle_step_message(self, chat_id: int, message_id: int, *,
                            keep_text: bool = False) -> None:
        # In place, by document id: TinyDB's update would copy and re-encode the whole
        # table, which holds every running instance's messages.
        held = self._messages_at(chat_id, message_id)
        if held:
            table = self._changing("step_messages", [str(k) for k, _doc in held])
            for k, doc in held:
                table[str(k)] = pack({**doc, "settled": True,
                                       **({} if keep_text else {"text": ""})})

    # -- revision reasons being asked for ------------------------------------------

    def pending_reason(self, member_id: str) -> PendingReason | None:
        doc = self._pending.get(q.member_id == member_id)
        return PendingReason.from_doc(dict(doc)) if doc else None

    def set_pending_reason(self, pending: PendingReason) -> None:
        self._pending.upsert(pending.to_doc(), q.member_id == pending.member_id)

    def clear_pending_reason(self, member_id: str) -> bool:
        return bool(self._pending.remove(q.member_id == member_id))

    # -- outbox --------------------------------------------------------------------

    def enqueue(self, item: OutboxItem) -> None:
        self.enqueue_many([item])

    def enqueue_many(self, items: list[OutboxItem]) -> None:
        """Queue several items at once (a round of reminders): one pass, in their order."""
        if not items:
            return
        ids = self._insert("outbox", [outbox_stored(item.to_doc()) for item in items])
        if self._outbox_ids is not None:
            self._outbox_ids.update((item.id, doc_id)
                                    for item, doc_id in zip(items, ids, strict=True))

    def outbox(self, status: str = "pending", *,
               kind: Callable[[str], bool] | None = None) -> list[OutboxItem]:
        """The items of a status (of the kinds `kind` accepts), in the order they were owed;
        only those are read (a press does not parse a round of 5,000 reminders)."""
        docs = sorted((int(k), d) for k, d in self._docs("outbox").items()
                      if d["status"] == status and (kind is None or kind(d["kind"])))
        return [OutboxItem.from_doc(outbox_doc(d)) for _k, d in docs]

    def outbox_count(self, status: str = "pending") -> int:
        return sum(1 for d in self._docs("outbox").values() if d["status"] == status)

    def save_outbox(self, item: OutboxItem) -> None:
        # By the item's document id (an index built once per transaction), not a query
        # over the whole outbox: a batch of results is then O(batch), not O(batch × outbox).
        if self._outbox_ids is None:
            self._outbox_ids = {d["id"]: int(k) for k, d in self._docs("outbox").items()}
        doc_id = self._outbox_ids.get(item.id)
        if doc_id is None:
            self.enqueue_many([item])
        else:
            self._changing("outbox", (str(doc_id),))[str(doc_id)] = outbox_stored(item.to_doc())
        if item.status != "pending":
            self._trim_outbox = True  # once, when the transaction ends (see trim())

    def trim(self) -> None:
        """The working set keeps only the newest finished outbox items (at commit)."""
        if not self._trim_outbox:
            return
        self._trim_outbox = False
        done = sorted((k for k, d in self._docs("outbox").items() if d["status"] != "pending"),
                      key=int)
        if len(done) > KEEP_SENT:
            old = done[:-KEEP_SENT]
            self._remove_ids("outbox", old)
            if self._outbox_ids is not None:
                gone = {int(k) for k in old}
                self._outbox_ids = {k: v for k, v in self._outbox_ids.items()
                                    if v not in gone}

    def retry_undeliverable(self, member_id: str) -> int:
        """Queue again what could not reach an official while their chat was blocked."""
        ids = [k for k, d in self._docs("outbox").items()
               if d["member_id"] == member_id and d["status"] == "undeliverable"]
        if ids:
            table = self._changing("outbox", ids)
            for k in ids:
                table[k] = {**table[k], "status": "pending"}
        return len(ids)

    # -- reminders -----------------------------------------------------------------

    def _reminders_index(self) -> set[str]:
        if self._reminder_ids is None:
            self._reminder_ids = set(values_of(self._docs("reminders_sent"), "id"))
        return self._reminder_ids

    def reminder_sent(self, point_id: str) -> bool:
        return point_id in self._reminders_index()

    def sent_reminders(self) -> set[str]:
        return set(self._reminders_index())

    def mark_reminder(self, point_id: str, at: datetime, *, skipped: bool = False) -> None:
        """Record a reminder as sent (or as skipped: an older one of a series missed)."""
        self.mark_reminders([point_id], at, skipped=skipped)

    def mark_reminders(self, point_ids: list[str], at: datetime, *,
                       skipped: bool = False) -> None:
        """Record several reminders as sent (or skipped) at `at`, in one pass."""
        known = self._reminders_index()
        new = [p for p in dict.fromkeys(point_ids) if p not in known]
        if new:
            when = at.isoformat()  # (one string, shared by the documents)
            self._insert("reminders_sent", _LazyDocs(
                new, lambda p: {"v": 1, "id": p, "at": when, "skipped": skipped}))
            known.update(new)

    def prune_reminders(self, before: datetime) -> int:
        """Forget reminders sent before `before` (their steps and periods are long past)."""
        cutoff = before.isoformat()
        old = keys_where(self._docs("reminders_sent"), "at", lambda at: at < cutoff)
        if old:
            self._remove_ids("reminders_sent", old)
            self._reminder_ids = None
        return len(old)

    def cycle_task(self, task_id: str) -> CycleTask | None:
        doc = self._cycle_tasks.get(q.id == task_id)
        return CycleTask.from_doc(dict(doc)) if doc else None

    def cycle_tasks_done(self) -> set[str]:
        return {d["id"] for d in self._cycle_tasks.all()}

    def save_cycle_task(self, task: CycleTask) -> None:
        self._cycle_tasks.upsert(task.to_doc(), q.id == task.id)

    # -- processed updates ---------------------------------------------------------

    def _updates_index(self) -> set[int]:
        if self._update_ids is None:
            self._update_ids = set(values_of(self._docs("processed_updates"), "update_id"))
        return self._update_ids

    def update_seen(self, update_id: int) -> bool:
        return update_id in self._updates_index()

    def newest_update(self) -> int | None:
        """The newest update id recorded as processed (None when there is none)."""
        return max(self._updates_index(), default=None)

    def mark_update(self, update_id: int) -> None:
        """Record that an update's effects are stored (done by the transaction itself)."""
        seen = self._updates_index()
        if update_id in seen:
            return
        self._insert("processed_updates", [{"v": 1, "update_id": update_id}])
        seen.add(update_id)
        docs = self._docs("processed_updates")
        if len(docs) > KEEP_UPDATES:
            oldest = smallest(docs, "update_id", len(docs) - KEEP_UPDATES)
            seen.difference_update(docs[k]["update_id"] for k in oldest)
            self._remove_ids("processed_updates", oldest)

    def record_failed_update(self, update_id: int, reason: str, at: datetime) -> None:
        """An update given up on (it can never succeed): kept for the operator, and marked
        as processed so that a redelivery is skipped."""
        self._failed.insert({"v": 1, "update_id": update_id, "reason": reason,
                             "at": at.isoformat()})
        self.mark_update(update_id)

    def failed_updates(self) -> list[dict[str, Any]]:
        return [dict(d) for d in self._failed.all()]
