"""The working set's journal: what each transaction changed, appended to ``sopbot.journal``.

Rewriting the whole working set (``sopbot.json``) for every transaction made the cost of a
decision follow the size of the working set: with 1,000 instances running it was a 1 MB
file, written, fsynced, renamed and the directory fsynced three times per button press
(issue 15). A transaction now appends one line holding the documents it changed (and the
tables it replaced whole) and fsyncs that: a few kilobytes, whatever the working set's size.
Once the journal outgrows the file it extends (:data:`MIN_BYTES`, or the file's own size),
the store writes the whole file afresh the old way and empties the journal; it does so too
when a store is opened and when the running bot stops, so that ``sopbot.json`` is whole
whenever no bot runs.

The journal belongs to one version of ``sopbot.json``: its first line is the *stamp* of the
file it extends (length and CRC-32 of its bytes). A journal whose stamp is not the file's
(the file was written afresh by a compaction that a crash cut short before it emptied the
journal, restored from a backup, or moved away by hand) is stale and ignored: replaying it
would undo what the newer file holds. Each later line is one transaction's JSON object::

    {"base": "1048576:8f3a09c1"}
    {"d": {"instances": {"17": {...}}, "outbox": {"120": {...}, "98": null}}}
    {"t": {"invites": {"1": {...}}}}

``"d"`` sets (or, with ``null``, removes) documents by table and document id; ``"t"`` replaces
tables whole. A line is committed once it ends with a newline and the journal was fsynced; a
line a crash cut short is the journal's last, and is dropped (with what follows it) the next
time the journal is read under the lock.
"""

from __future__ import annotations

import contextlib
import os
import time
import zlib
from pathlib import Path
from typing import Any

import orjson

from bot.ops import metrics

#: fdatasync where there is one (Linux), else fsync (macOS has none)
_datasync = getattr(os, "fdatasync", os.fsync)

#: The journal is compacted into ``sopbot.json`` once it would grow beyond this many bytes,
#: or beyond the file's own size if that is larger.
MIN_BYTES = 256 << 10


class JournalError(OSError):
    """The journal cannot be read (other than being absent)."""


def stamp(raw: bytes) -> str:
    """What identifies one version of ``sopbot.json``: its length and CRC-32."""
    return f"{len(raw)}:{zlib.crc32(raw):08x}"


def header(base_stamp: str) -> bytes:
    return orjson.dumps({"base": base_stamp}) + b"\n"


def read(path: Path, base_stamp: str | None) -> tuple[list[dict[str, Any]], int, int]:
    """The journal's committed records for the file stamped `base_stamp` (None: there is no
    file), the length of the journal's part that is valid for it (0 for a stale one), and
    the journal's size."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], 0, 0
    except OSError as exc:
        raise JournalError(exc.errno, f"cannot read {path}: {exc.strerror}") from exc
    if base_stamp is None:
        return [], 0, len(raw)  # no file to extend
    records: list[dict[str, Any]] = []
    good = 0
    offset = 0
    for line in raw.split(b"\n")[:-1]:  # (after the last newline: a cut line, or nothing)
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            break
        if not isinstance(record, dict):
            break
        if offset == 0:
            if record.get("base") != base_stamp:
                return [], 0, len(raw)  # stale: not this file's
        else:
            records.append(record)
        offset += len(line) + 1
        good = offset
    return records, good, len(raw)


def apply(data: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Replay `records` onto the tables `data` (in place)."""
    for record in records:
        for name, table in (record.get("t") or {}).items():
            if table is None:
                data.pop(name, None)
            else:
                data[name] = table
        for name, docs in (record.get("d") or {}).items():
            target = data.setdefault(name, {})
            for key, doc in docs.items():
                if doc is None:
                    target.pop(key, None)
                else:
                    target[key] = doc


def append(path: Path, line: bytes, base_stamp: str) -> int:
    """Append one transaction's line (after the stamp, if the journal is empty) and fsync it;
    returns the journal's new size. A failed append is cut off again, so that no later
    line follows a torn one; if even that fails, the next read drops it."""
    started = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        data = line if size else header(base_stamp) + line
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            _datasync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)
    if not size:  # a new file (or one emptied): its directory entry must be durable too
        _fsync_dir(path.parent)
    metrics.store_write(time.perf_counter() - started)
    return size + len(data)


def truncate(path: Path, length: int = 0) -> None:
    """Cut the journal to `length` bytes (0: empty it) and fsync it."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return
    try:
        os.ftruncate(fd, length)
        os.fsync(fd)
    finally:
        os.close(fd)


def size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
