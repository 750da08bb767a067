"""The working set's tables of many small documents of one shape, kept as columns (issue 15).

The reminders recorded as sent (``{"v": 1, "id": point_id, "at": iso, "skipped": bool}``):
after a downtime the bot records every missed reminder of a series but the newest as skipped,
21,000 documents with 1,000 instances running. As TinyDB's tables hold them — a dict of four
keys each, under a document id string, in the table's dict — they took about 400 bytes a
document parsed from the file (21,000: 8.3 MB, traced), 330 as the bot made them. The
processed updates (``{"v": 1, "update_id": n}``, the newest 2,000): one added and the oldest
removed with every press, each a dict living for 2,000 presses among the short-lived objects.

Here a table is one list per key, the document id its place: 8 bytes a key and document,
the values shared where they repeat (a mark's time is the same string for every point marked
at once, the version the same int); 21,000 marks loaded take 2.3 MB, most of it their ids'
strings. A document is a dict again only while it is read. Like
:class:`bot.storage.packing.Trail` this exists only in the store's memory: the file and the
journal hold plain JSON (:meth:`Columns.json`), and snapshots and archives parsed documents.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

import orjson

#: The working set's tables kept as :class:`Columns`: name -> the keys of every document
#: (in the order the repository writes them). A table holding a document of another shape
#: stays a dict.
COLUMNS: dict[str, tuple[str, ...]] = {
    "reminders_sent": ("v", "id", "at", "skipped"),
    "processed_updates": ("v", "update_id"),
}

#: Values worth sharing between documents when a table is built from parsed documents:
#: those that repeat (a string per document otherwise, a few dozen bytes each).
_SHARED = {"reminders_sent": ("v", "at"), "processed_updates": ("v",)}

#: What a place without a document holds, in every list.
_HOLE: Any = object()


class Columns(MutableMapping[str, dict[str, Any]]):
    """A table of documents with the keys `fields`, one list per key, by document id.

    A mapping of TinyDB's document id strings to documents, as the repository reads a
    table (ints are taken as ids too); each document read is a new dict. The lists run
    from the first document id held to the last; a removed document leaves a hole until
    the holes outnumber the documents and the lists are rebuilt (:meth:`_rebuild`). A copy
    taken in another thread (:meth:`copy`: a planning snapshot, outside the store's lock,
    while a transaction changes the table) waits for a change under way, so that it sees
    every document whole.
    """

    __slots__ = ("_fields", "_live", "_lock", "_state", "_stuck")

    def __init__(self, fields: tuple[str, ...],
                 docs: Iterable[tuple[str | int, Mapping[str, Any]]] = ()) -> None:
        self._fields = fields
        #: (the document id of place 0, one list per field)
        self._state: tuple[int, tuple[list[Any], ...]] = (1, tuple([] for _ in fields))
        self._live = 0
        self._stuck = 0  #: holes between documents left by the last rebuild
        self._lock = threading.Lock()
        for key, doc in docs:
            self[key] = doc

    @classmethod
    def of_table(cls, name: str, table: Mapping[str, Any]) -> Columns | None:
        """`table` (parsed documents by id string) as columns, its repeated values shared;
        None if a document or an id is not of the shape the columns hold."""
        fields = COLUMNS[name]
        keys = set(fields)
        if not all(_holds_key(k) and isinstance(d, dict) and d.keys() == keys
                   for k, d in table.items()):
            return None
        pools: dict[str, dict[Any, Any]] = {f: {} for f in _SHARED.get(name, ())}
        columns = cls(fields)
        for key, doc in sorted(table.items(), key=lambda kv: int(kv[0])):
            columns[key] = {f: pools[f].setdefault(v, v) if f in pools and type(v) in (str, int)
                            else v for f, v in ((f, doc[f]) for f in fields)}
        return columns

    def fits(self, doc: Any) -> bool:
        return isinstance(doc, Mapping) and doc.keys() == set(self._fields)

    def _place(self, key: str | int) -> int:
        base, cols = self._state
        try:
            i = int(key) - base
        except (TypeError, ValueError):
            raise KeyError(key) from None
        if not (0 <= i < len(cols[0]) and cols[0][i] is not _HOLE):
            raise KeyError(key)
        return i

    def __getitem__(self, key: str | int) -> dict[str, Any]:
        i = self._place(key)
        return {f: col[i] for f, col in zip(self._fields, self._state[1], strict=True)}

    def __contains__(self, key: object) -> bool:
        try:
            self._place(key)  # type: ignore[arg-type]
        except KeyError:
            return False
        return True

    def __setitem__(self, key: str | int, doc: Mapping[str, Any]) -> None:
        if not self.fits(doc):
            raise ValueError(f"a document with the keys {self._fields}, not {doc!r:.60}")
        doc_id = int(key)
        if doc_id < 1:
            raise KeyError(key)
        with self._lock:
            self._set(doc_id, doc)

    def _set(self, doc_id: int, doc: Mapping[str, Any]) -> None:
        if not self._live:  # (an emptied table starts afresh at its next id)
            self._state, self._stuck = (doc_id, tuple([] for _ in self._fields)), 0
        base, cols = self._state
        if doc_id < base:  # an id before the first: the lists start earlier
            cols = tuple([_HOLE] * (base - doc_id) + col for col in cols)
            base = doc_id
            self._state = (base, cols)
        i = doc_id - base
        if i >= len(cols[0]):
            for col in cols:
                col.extend([_HOLE] * (i + 1 - len(col)))
        if cols[0][i] is _HOLE:
            self._live += 1
        for f, col in zip(self._fields, cols, strict=True):
            col[i] = doc[f]

    def __delitem__(self, key: str | int) -> None:
        with self._lock:
            i = self._place(key)
            for col in self._state[1]:
                col[i] = _HOLE
            self._live -= 1
            holes = len(self._state[1][0]) - self._live
            if holes > max(64, self._live, 2 * self._stuck):
                self._rebuild()

    def _rebuild(self) -> None:
        """The lists from the first document held to the last. The holes between stay (the
        ids are the documents'): the next rebuild waits until there are twice as many, so
        that each costs no more than the removals since the last one."""
        base, cols = self._state
        first = cols[0]
        held = [i for i, v in enumerate(first) if v is not _HOLE]
        if not held:
            self._state, self._stuck = (base, tuple([] for _ in self._fields)), 0
            return
        lo, hi = held[0], held[-1] + 1
        self._state = (base + lo, tuple(col[lo:hi] for col in cols))
        self._stuck = hi - lo - len(held)

    def _places(self) -> Iterator[int]:
        return (i for i, v in enumerate(self._state[1][0]) if v is not _HOLE)

    def __iter__(self) -> Iterator[str]:
        base = self._state[0]
        return (str(base + i) for i in self._places())

    def __len__(self) -> int:
        return self._live

    def next_id(self) -> int:
        """The id after the last one held (TinyDB's next document id)."""
        base, cols = self._state
        first = cols[0]
        last = len(first)
        while last and first[last - 1] is _HOLE:
            last -= 1
        return base + last if last else 1

    def column(self, field: str) -> Iterator[Any]:
        """Every document's value of `field`, in the order of the document ids."""
        col = self._state[1][self._fields.index(field)]
        return (col[i] for i in self._places())

    def keys_where(self, field: str, test: Any) -> list[str]:
        """The ids of the documents whose `field` passes `test` (no dict built)."""
        base, cols = self._state
        col = cols[self._fields.index(field)]
        return [str(base + i) for i in self._places() if test(col[i])]

    def smallest(self, field: str, count: int) -> list[str]:
        """The ids of the `count` documents whose `field` is the smallest, smallest first
        (no dict built, no list of them all)."""
        base, cols = self._state
        col = cols[self._fields.index(field)]
        return [str(base + i)
                for i in heapq.nsmallest(count, self._places(), key=col.__getitem__)]

    def copy(self) -> Columns:
        """A copy that later changes to this one never reach (taken in one whole state)."""
        twin = Columns(self._fields)
        with self._lock:
            base, cols = self._state
            twin._state = (base, tuple(list(col) for col in cols))  # (C copies)
            twin._live, twin._stuck = self._live, self._stuck
        return twin

    def json(self, keys: Iterable[str] | None = None) -> bytes:
        """The table as TinyDB writes it ({"<doc id>": document}), or only the documents
        `keys` (``null`` for one not held: the journal's removal); one document's JSON at
        a time, into one buffer."""
        base, cols = self._state
        places: Iterable[int] = self._places() if keys is None else (
            int(k) - base for k in keys)
        out = bytearray(b"{")
        fields = self._fields
        for i in places:
            if len(out) > 1:
                out += b","
            out += b'"%d":' % (base + i)
            if 0 <= i < len(cols[0]) and cols[0][i] is not _HOLE:
                out += orjson.dumps({f: col[i] for f, col in zip(fields, cols, strict=True)})
            else:
                out += b"null"
        out += b"}"
        return bytes(out)

    def __repr__(self) -> str:
        return f"Columns({len(self)} documents of {self._fields})"


def _holds_key(key: str) -> bool:
    """Whether `key` is a document id as TinyDB writes it."""
    return key.isdigit() and key.isascii() and str(int(key)) == key and int(key) > 0


def pack_columns(data: dict[str, Any]) -> None:
    """The working set's :data:`COLUMNS` tables as :class:`Columns`, where every document
    is of the shape (in place)."""
    for name in COLUMNS:
        table = data.get(name)
        if isinstance(table, dict):
            columns = Columns.of_table(name, table)
            if columns is not None:
                data[name] = columns


def values_of(table: Mapping[str, Any], field: str) -> Iterable[Any]:
    """Every document's `field`, whether `table` is :class:`Columns` or a plain dict of
    documents (one that held a document of another shape)."""
    if isinstance(table, Columns):
        return table.column(field)
    return (doc[field] for doc in table.values())


def keys_where(table: Mapping[str, Any], field: str, test: Any) -> list[str]:
    """The ids of the documents whose `field` passes `test` (either kind of table)."""
    if isinstance(table, Columns):
        return table.keys_where(field, test)
    return [key for key, doc in table.items() if test(doc[field])]


def smallest(table: Mapping[str, Any], field: str, count: int) -> list[str]:
    """The ids of the `count` documents whose `field` is the smallest, smallest first
    (either kind of table)."""
    if isinstance(table, Columns):
        return table.smallest(field, count)
    return heapq.nsmallest(count, table, key=lambda key: table[key][field])
