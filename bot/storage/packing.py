"""The working set's running trail and undo points, kept packed in memory (issue 15).

Every running instance keeps its dispositions and step messages in the working set until it
finishes, and the instance as it was before its last decision (its undo point): data that
grows with each press and is read only a document or an instance at a time. Here it is
deflated against a dictionary of what every document repeats, laid end to end in one buffer
per table (:class:`Trail`) and found through compact indexes (:class:`MessageIndex`, arrays
of document ids). The packing exists only in the store's memory
(:mod:`bot.storage.store`): the file and the journal hold plain JSON, and snapshots and
archives parsed documents.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from bot.engine.events import Action
from bot.engine.instance import ActiveStep, Disposition, Instance, Status
from bot.storage.records import RECORD_SCHEMA, StepMessage

#: The working set's tables whose documents are kept in memory packed (bytes) rather than
#: parsed: every running instance's trail (dispositions, step messages), which grows with
#: each decision until the instance finishes and is read only a document or an instance at
#: a time, through the indexes. A parsed disposition is a dict of 13 keys and its values,
#: about 1.1 KB of objects; its compact JSON about 300 bytes; deflated against
#: :data:`_ZDICT` (the keys and the values every document repeats), about 100 bytes in one
#: object, which also spares the allocator thousands of small long-lived objects scattered
#: among the short-lived ones. The packing exists only in memory: the file and the journal
#: hold the JSON, and archives and snapshots (:meth:`Store.read`) parsed documents; the
#: repository reads both (:func:`unpack`).
PACKED = ("dispositions", "step_messages")

#: Raw deflate (no header or checksum: the bytes never leave the process) with a 4 KiB
#: window, enough for the dictionary and a document, and a small hash table: the state zlib
#: allocates for each document stays a few KB.
_WBITS, _MEMLEVEL = -12, 2


def _trail_dictionary() -> bytes:
    """Deflate's preset dictionary for packed documents: an instance's undo point and the
    trail's documents as their classes write them with empty values (what each one
    repeats), the commonest last."""
    at = datetime(2026, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=7)))
    before = Instance("", "", "", 2026, Status.ACTIVE, at, "", current=ActiveStep(1, at, at, []),
                      rounds={1: 1})
    docs: list[dict[str, Any]] = [
        {"by": "", "role": "", "at": "", "step_no": 1, "action": "complete", "round": 1,
         "activated": [], "before": before.to_dict()},
        StepMessage(0, 0, "", "", 1, 1, "").to_doc()]
    docs += [{"v": RECORD_SCHEMA, **Disposition("", 1, action, "", "", at).to_dict()}
             for action in (Action.REVISE, Action.APPROVE, Action.COMPLETE)]
    return b"".join(orjson.dumps(doc) for doc in docs)


_ZDICT = _trail_dictionary()


def pack(doc: Mapping[str, Any]) -> bytes:
    deflate = zlib.compressobj(6, zlib.DEFLATED, _WBITS, _MEMLEVEL, zlib.Z_DEFAULT_STRATEGY,
                               _ZDICT)
    packed = deflate.compress(orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS))
    # copied to its size: zlib's result (like orjson's) keeps the buffer it wrote into
    return bytes(memoryview(packed + deflate.flush()))


def inflate(packed: bytes) -> bytes:
    """The compact JSON of a packed document."""
    return zlib.decompressobj(_WBITS, _ZDICT).decompress(packed)


def unpack(doc: bytes | Mapping[str, Any]) -> dict[str, Any]:
    """A stored document as a dict of its own (packed or parsed)."""
    return orjson.loads(inflate(doc)) if isinstance(doc, bytes) else dict(doc)


class PackedView(Mapping[str, Any]):
    """A packed value read as the mapping it holds, parsed at each reading: an instance's
    undo point (the instance as it was before the last decision, a second copy of the
    instance, about 3.5 KB parsed: about 150 bytes packed), which is read only to offer,
    check or take back a withdrawal. It stays packed in the working set's tables; the
    :class:`Instance` a transaction reads holds this view of it."""

    __slots__ = ("packed",)

    def __init__(self, packed: bytes) -> None:
        self.packed = packed

    def __getitem__(self, key: str) -> Any:
        return unpack(self.packed)[key]

    def __iter__(self) -> Iterator[str]:
        return iter(unpack(self.packed))

    def __len__(self) -> int:
        return len(unpack(self.packed))

    def __deepcopy__(self, memo: dict[int, Any]) -> PackedView:
        return self  # (immutable)

    def __repr__(self) -> str:
        return f"PackedView({unpack(self.packed)!r})"


class Trail(MutableMapping[str, bytes]):
    """A :data:`PACKED` table of the working set: its packed documents laid end to end in
    one buffer and found by document id through an array of spans (8 bytes a document).
    The step messages' index by chat and message is as compact (:class:`MessageIndex`).

    A table of a dict holding a bytes object for each document cost about 200 bytes a
    document besides the packed bytes themselves: the bytes object's header, the document
    id's string and the dict's slot. Over 10,000 presses with 1,000 instances running
    (none finishing), that was about 3 MB of long-lived small objects scattered among the
    short-lived ones, which kept the allocator's pages from being reused or given back
    (issue 15). Here the table is two objects whatever its size.

    A mapping of TinyDB's document id strings to packed documents, as the repository reads
    a table; ints are taken as ids too. Documents are only appended to the buffer: a
    changed document is appended anew and a removed one leaves its bytes behind, until
    they outweigh the live ones and the buffer is rebuilt. A rebuild or a change of the
    first id replaces the buffer and the spans together (one attribute), so a copy taken
    in another thread (:meth:`copy`) sees one whole state. Written as JSON by
    :meth:`json` (the file and journal never hold the packing).
    """

    __slots__ = ("_dead", "_live", "_state")

    #: a span: (offset << _LEN_BITS) | length; 0 where the id holds no document
    _LEN_BITS = 24
    _LEN_MASK = (1 << _LEN_BITS) - 1
    #: removed documents' bytes kept before a rebuild is considered
    _SLACK = 1 << 16

    def __init__(self, docs: Iterable[tuple[str | int, bytes]] = ()) -> None:
        #: (the buffer, the spans, the document id of spans[0])
        self._state: tuple[bytearray, array[int], int] = (bytearray(), array("Q"), 1)
        self._live = 0  #: documents held
        self._dead = 0  #: bytes of the buffer no span points to
        for key, doc in docs:
            self[key] = doc

    @staticmethod
    def holds_key(key: str) -> bool:
        """Whether `key` is a document id as TinyDB writes it (what a trail can hold)."""
        return key.isdigit() and key.isascii() and str(int(key)) == key and int(key) > 0

    def _slot(self, key: str | int) -> tuple[bytearray, array[int], int]:
        """The buffer, the spans and the index in them of the document `key` held."""
        blob, spans, base = self._state
        try:
            i = int(key) - base
        except (TypeError, ValueError):
            raise KeyError(key) from None
        if not (0 <= i < len(spans) and spans[i]):
            raise KeyError(key)
        return blob, spans, i

    @classmethod
    def _read(cls, blob: bytearray, span: int) -> bytes:
        offset = span >> cls._LEN_BITS
        return bytes(blob[offset:offset + (span & cls._LEN_MASK)])

    def __getitem__(self, key: str | int) -> bytes:
        blob, spans, i = self._slot(key)
        return self._read(blob, spans[i])

    def __contains__(self, key: object) -> bool:
        try:
            self._slot(key)  # type: ignore[arg-type]
        except KeyError:
            return False
        return True

    def __setitem__(self, key: str | int, doc: bytes) -> None:
        if not isinstance(doc, bytes) or not 0 < len(doc) <= self._LEN_MASK:
            raise ValueError(f"a packed document of 1 to {self._LEN_MASK} bytes, not {doc!r:.40}")
        doc_id = int(key)
        if doc_id < 1:
            raise KeyError(key)
        if not self._live:  # (an emptied table starts afresh at its next id)
            self._state, self._dead = (bytearray(), array("Q"), doc_id), 0
        blob, spans, base = self._state
        if doc_id < base:  # an id before the first: the spans start earlier
            spans = array("Q", bytes(8 * (base - doc_id))) + spans
            base = doc_id
        i = doc_id - base
        if i >= len(spans):
            spans.frombytes(bytes(8 * (i + 1 - len(spans))))
        self._state = (blob, spans, base)
        old = spans[i]
        if old:
            self._dead += old & self._LEN_MASK
        else:
            self._live += 1
        offset = len(blob)
        blob += doc  # (the bytes first: a copy taken meanwhile sees them or not the span)
        spans[i] = (offset << self._LEN_BITS) | len(doc)
        if old:
            self._tidy()

    def __delitem__(self, key: str | int) -> None:
        _blob, spans, i = self._slot(key)
        self._dead += spans[i] & self._LEN_MASK
        spans[i] = 0
        self._live -= 1
        self._tidy()

    def _tidy(self) -> None:
        """Rebuild once removed and replaced documents take a quarter of the buffer (each
        rebuild copies the live ones: a byte is copied about four times over its life)."""
        if self._dead > self._SLACK and self._dead * 4 > len(self._state[0]):
            self._rebuild()

    def _rebuild(self) -> None:
        """The live documents in a new buffer, the spans from the first id held to the last."""
        blob, spans, base = self._state
        live = [i for i, span in enumerate(spans) if span]
        fresh, placed = bytearray(), array("Q")
        if live:
            placed.frombytes(bytes(8 * (live[-1] - live[0] + 1)))
            for i in live:
                doc = self._read(blob, spans[i])
                placed[i - live[0]] = (len(fresh) << self._LEN_BITS) | len(doc)
                fresh += doc
        self._state = (fresh, placed, base + live[0] if live else base)
        self._dead = 0

    def next_id(self) -> int:
        """The id after the last one held (TinyDB's next document id), without a pass over
        every id as ``max(map(int, table)) + 1`` makes (a transaction's first insert)."""
        _blob, spans, base = self._state
        last = len(spans)
        while last and not spans[last - 1]:
            last -= 1
        return base + last if last else 1

    def _ids(self) -> Iterator[int]:
        _blob, spans, base = self._state
        return (base + i for i, span in enumerate(spans) if span)

    def __iter__(self) -> Iterator[str]:
        return map(str, self._ids())

    def __len__(self) -> int:
        return self._live

    def copy(self) -> Trail:
        """A copy that later changes to this one never reach (taken in one whole state)."""
        blob, spans, base = self._state
        spans = array("Q", spans)  # (C copies, each atomic under the GIL)
        twin = Trail()
        twin._state = (bytearray(blob), spans, base)
        twin._live = len(spans) - spans.count(0)
        twin._dead = self._dead  # (only when to rebuild depends on it)
        return twin

    def json(self) -> bytes:
        """The table as TinyDB writes it ({"<doc id>": document}), its documents as JSON."""
        blob, spans, base = self._state
        parts = [b'"%d":%s' % (base + i, inflate(self._read(blob, span)))
                 for i, span in enumerate(spans) if span]
        return b"{" + b",".join(parts) + b"}"

    def __repr__(self) -> str:
        return f"Trail({len(self)} documents, {len(self._state[0])} bytes)"


def instance_doc(inst: Instance) -> dict[str, Any]:
    """An instance's document in the working set: its undo point packed."""
    doc = inst.to_dict()
    undo = doc["undo"]
    if isinstance(undo, PackedView):
        doc["undo"] = undo.packed
    elif undo:
        doc["undo"] = pack(undo)
    return doc


def instance_of(doc: Mapping[str, Any]) -> Instance:
    """The instance of a stored document (of the working set, or parsed)."""
    undo = doc.get("undo")
    if isinstance(undo, bytes):
        doc = {**doc, "undo": PackedView(undo)}
    return Instance.from_dict(doc)


def plain_doc(inst: Instance) -> dict[str, Any]:
    """An instance's document as the files hold it (its undo point parsed)."""
    doc = inst.to_dict()
    if isinstance(doc["undo"], PackedView):
        doc["undo"] = unpack(doc["undo"].packed)
    return doc


def pack_tables(data: dict[str, Any]) -> None:
    """Pack the documents of the working set's :data:`PACKED` tables (each into a
    :class:`Trail`, unless a document id is not TinyDB's own) and the instances' undo
    points, in place."""
    for name in PACKED:
        table = data.get(name)
        if isinstance(table, dict):
            packed = {key: doc if isinstance(doc, bytes) else pack(doc)
                      for key, doc in table.items()}
            data[name] = Trail(packed.items()) if all(map(Trail.holds_key, packed)) \
                else packed
    for doc in (data.get("instances") or {}).values():
        if isinstance(doc, dict) and isinstance(doc.get("undo"), dict):
            doc["undo"] = pack(doc["undo"])
    outbox = data.get("outbox")
    if isinstance(outbox, dict):
        for key, doc in outbox.items():
            if isinstance(doc, dict) and doc.get("status") == "sent" \
                    and isinstance(doc.get("payload"), dict):
                outbox[key] = outbox_stored(doc)


def outbox_stored(doc: dict[str, Any]) -> dict[str, Any]:
    """An outbox item's document as the working set keeps it: once sent, its payload packed.

    The working set keeps the newest 500 items sent (:data:`bot.storage.store.KEEP_SENT`),
    and a sent item's payload is read again only for the few acknowledgements a reply may
    answer: parsed, each was a small tree of objects that lived on for hundreds of presses
    among the short-lived ones (about 2.8 KB an item with 1,000 instances running), and a
    digest of the reminders missed during a downtime listed a series each (4 MB of
    payloads at the start of ``bench_startup_memory.py``)."""
    payload = doc.get("payload")
    if doc.get("status") == "sent" and isinstance(payload, dict):
        return {**doc, "payload": pack(payload)}
    return doc


def outbox_doc(doc: Mapping[str, Any]) -> dict[str, Any]:
    """An outbox item's stored document as a dict of its own, its payload parsed."""
    payload = doc.get("payload")
    return {**doc, "payload": unpack(payload)} if isinstance(payload, bytes) else dict(doc)




def message_at(chat_id: int, message_id: int) -> Any:
    """A step message's place in the index: one int for (chat, message) (Telegram's message
    ids are 32-bit), which takes a third of a tuple's memory."""
    return (chat_id << 32) | message_id if 0 <= message_id < 1 << 32 else (chat_id, message_id)


def id_array() -> array[int]:
    """An index's list of document ids (8 bytes an id, no int object each)."""
    return array("q")


class MessageIndex:
    """The step messages' document ids by chat and message (:func:`message_at`): the index
    a press or a reply finds its step message in.

    An open-addressing hash table in one array of 64-bit slots, each the 31 low bits of the
    place's hash (its top bit set) above the document id: 12–24 bytes a message, where a
    dict of int keys to int ids took about 98 (with 1,000 instances running, a message
    every press). Two places may share the 31 bits: the ids found are candidates, which the
    repository checks against the documents themselves (:meth:`Repository._messages_at`).
    """

    __slots__ = ("_filled", "_slots")

    _EMPTY, _GONE = 0, 1  #: a slot never used; a slot whose message was taken out
    _ID_MASK = (1 << 32) - 1

    def __init__(self) -> None:
        self._slots = array("Q", bytes(8 * 8))
        self._filled = 0  #: slots not empty (held or gone)

    @staticmethod
    def _tag(at: Any) -> int:
        # hashed as a tuple (xxHash's mixing): an int's own hash is the int, whose low bits
        # are the message id, the same in every chat (each counts its own messages)
        return (hash((at,)) & 0x7FFFFFFF) | 0x80000000

    def add(self, at: Any, doc_id: int) -> None:
        if not 0 < doc_id <= self._ID_MASK:
            raise ValueError(f"a step message's document id out of range: {doc_id}")
        if (self._filled + 1) * 3 > len(self._slots) * 2:
            self._grow()
        tag, slots = self._tag(at), self._slots
        mask = len(slots) - 1
        i = tag & mask
        while slots[i] > self._GONE:
            i = (i + 1) & mask
        if slots[i] == self._EMPTY:
            self._filled += 1
        slots[i] = (tag << 32) | doc_id

    def get(self, at: Any) -> list[int]:
        """The ids held at `at`, oldest first (and rarely another place's: check them)."""
        tag, slots = self._tag(at), self._slots
        mask = len(slots) - 1
        i, found = tag & mask, []
        while (slot := slots[i]) != self._EMPTY:
            if slot >> 32 == tag:
                found.append(slot & self._ID_MASK)
            i = (i + 1) & mask
        return sorted(found)

    def remove(self, at: Any, doc_id: int) -> None:
        tag, slots = self._tag(at), self._slots
        mask = len(slots) - 1
        i, wanted = tag & mask, (tag << 32) | doc_id
        while (slot := slots[i]) != self._EMPTY:
            if slot == wanted:
                slots[i] = self._GONE
                return
            i = (i + 1) & mask

    def __len__(self) -> int:
        return sum(1 for slot in self._slots if slot > self._GONE)

    def _grow(self) -> None:
        """Place the held ids anew in a table half full at most (the gone ones dropped)."""
        held = [slot for slot in self._slots if slot > self._GONE]
        size = 8
        while size < 2 * (len(held) + 1):
            size *= 2
        slots = array("Q", bytes(8 * size))
        mask = size - 1
        for slot in held:
            i = (slot >> 32) & mask
            while slots[i]:
                i = (i + 1) & mask
            slots[i] = slot
        self._slots, self._filled = slots, len(held)


def index_message(by_message: MessageIndex, by_instance: dict[str, array[int]],
                   key: int, doc: Mapping[str, Any]) -> None:
    """Add the step message `doc` (document id `key`) to the step messages' indexes."""
    by_message.add(message_at(doc["chat_id"], doc["message_id"]), key)
    by_instance.setdefault(doc["instance_id"], id_array()).append(key)
