"""The TinyDB store changes its busy tables in place and journals only what changed
(issue 15), and the file, once the journal is folded into it, stays what TinyDB itself
reads: every operation below is checked against the data read back from the file and its
journal, by stock TinyDB after folding, and by a fresh store."""

from __future__ import annotations

import json
import random
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from tinydb import TinyDB

from bot.engine.instance import Action, Disposition, Engine, Instance, Status
from bot.engine.loader import parse_flow
from bot.storage.columns import COLUMNS, Columns, keys_where, smallest, values_of
from bot.storage.memory import MemoryStore
from bot.storage.packing import MessageIndex, Trail, inflate, message_at, pack
from bot.storage.protocol import Storage
from bot.storage.records import Member, Membership, OutboxItem, StepMessage
from bot.storage.store import (
    KEEP_SENT,
    KEEP_UPDATES,
    Store,
    _dump,
    _ParsedFiles,
)
from tests.unit.test_engine_office import HOLDERS, OFFICE, SEK, WINDOW, at, at_decision

NOW = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def official(i: int, name: str | None = None) -> Member:
    return Member(str(i), i, name or f"Pejabat {i}", NOW,
                  roles=[Membership("kec-neglasari", "pejabat_unit_kerja", NOW)])


def item(i: int, status: str = "pending") -> OutboxItem:
    return OutboxItem(id=f"item-{i}", member_id=str(i), chat_id=i, kind="reminder",
                      payload={"n": i}, created_at=NOW, status=status)


def on_disk(store: Store) -> dict[str, dict[str, dict[str, object]]]:
    """The working set as stock TinyDB reads the file."""
    db = TinyDB(store.path, access_mode="r")
    try:
        return {name: {str(d.doc_id): dict(d) for d in db.table(name).all()}
                for name in db.tables()}
    finally:
        db.close()


def loaded_and_parsed(store: Store) -> tuple[dict[str, Any], int, dict[str, Any], int]:
    """The working set as the store loads it (packed) and as plain JSON parses it, each with
    the memory it took (traced)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        packed = _ParsedFiles(store.journal).load(store.path, working_set=True)
        packed_size = tracemalloc.get_traced_memory()[0] - before
        before = tracemalloc.get_traced_memory()[0]
        parsed = json.loads(store.path.read_bytes())
        parsed_size = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return packed, packed_size, parsed, parsed_size


@pytest.fixture(params=["memory", "tinydb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    return MemoryStore() if request.param == "memory" else Store(tmp_path)


def test_a_round_is_queued_and_marked_in_one_pass_in_order(store: Storage) -> None:
    with store.transaction(record_update=False) as repo:
        repo.enqueue(item(0))
        repo.enqueue_many([item(i) for i in range(1, 300)])
        repo.enqueue_many([])
        repo.mark_reminders([f"p{i}" for i in range(200)] + ["p3"], NOW)
        repo.mark_reminder("p7", NOW)  # already sent: not recorded twice
        repo.mark_reminders(["old"], NOW - timedelta(days=400), skipped=True)
    with store.transaction(record_update=False) as repo:
        assert [i.id for i in repo.outbox()] == [f"item-{i}" for i in range(300)]
        assert repo.sent_reminders() == {f"p{i}" for i in range(200)} | {"old"}
        assert repo.reminder_sent("p199") and not repo.reminder_sent("p200")
        assert repo.prune_reminders(NOW - timedelta(days=30)) == 1
        assert not repo.reminder_sent("old")
        repo.mark_reminders(["p200"], NOW)
    with store.transaction(record_update=False) as repo:
        assert len(repo.sent_reminders()) == 201


def test_sent_items_are_saved_by_id_and_only_the_newest_kept(store: Storage) -> None:
    with store.transaction(record_update=False) as repo:
        repo.enqueue_many([item(i) for i in range(KEEP_SENT + 40)])
    with store.transaction(record_update=False) as repo:
        for it in repo.outbox()[:KEEP_SENT + 20]:
            it.status, it.message_ids = "sent", [it.chat_id]
            repo.save_outbox(it)
        repo.enqueue(item(9999))  # queued after a trim in the same transaction
    with store.transaction(record_update=False) as repo:
        sent = repo.outbox("sent")
        assert len(sent) == KEEP_SENT and sent[-1].id == f"item-{KEEP_SENT + 19}"
        assert [i.id for i in repo.outbox()] == [
            f"item-{i}" for i in range(KEEP_SENT + 20, KEEP_SENT + 40)] + ["item-9999"]


def test_undeliverable_items_are_queued_again(store: Storage) -> None:
    with store.transaction(record_update=False) as repo:
        repo.enqueue_many([item(1, "undeliverable"), item(2, "undeliverable"), item(1)])
    with store.transaction(record_update=False) as repo:
        assert repo.retry_undeliverable("1") == 1
    with store.transaction(record_update=False) as repo:
        assert [i.id for i in repo.outbox()] == ["item-1", "item-1"]
        assert [i.id for i in repo.outbox("undeliverable")] == ["item-2"]


def test_processed_updates_keep_the_newest(store: Storage) -> None:
    with store.transaction(record_update=False) as repo:
        repo.enqueue(item(1))  # (the in-memory twin records updates only with a change)
        for update_id in range(KEEP_UPDATES + 10):
            repo.mark_update(update_id)
        repo.mark_update(5)
    with store.transaction(record_update=False) as repo:
        assert repo.newest_update() == KEEP_UPDATES + 9
        assert repo.update_seen(KEEP_UPDATES + 9) and repo.update_seen(10)
        assert not repo.update_seen(9)


def seeded(store: Store, n: int) -> Store:
    """`store` with officials 1…n and an outbox item for each."""
    with store.transaction(record_update=False) as repo:
        for i in range(1, n + 1):
            repo.save_member(official(i))
        repo.enqueue_many([item(i) for i in range(1, n + 1)])
    return store


def test_the_file_is_what_tinydb_reads_and_equals_a_whole_encode(tmp_path: Path) -> None:
    store = seeded(Store(tmp_path), 5)
    with store.transaction(record_update=False) as repo:
        repo.save_instance(Instance(id="pk-1", flow_id="pk", unit_id="kec-neglasari",
                                    year=2026, status=Status.ACTIVE, created_at=NOW,
                                    started_by="1"))
    with store.transaction(record_update=False) as repo:
        # Mixed in one transaction: TinyDB's own calls (which replace the table they
        # change) and the in-place ones; document ids never collide.
        repo.remove_member("2")
        repo.save_member(official(6))
        repo.save_member(official(1, "Pak Camat"))
        first = repo.outbox()[0]
        first.status = "sent"
        repo.save_outbox(first)
        repo.enqueue(item(7))
        repo.add_disposition(Disposition("pk-1", 1, Action.APPROVE, "1", "camat", NOW))
    assert store.journal.stat().st_size > 0  # the changes are in the journal
    replayed = store.read()  # the file and its journal, read afresh
    assert sorted(m.id for m in replayed.members()) == ["1", "3", "4", "5", "6"]
    assert len(replayed.dispositions("pk-1")) == 1
    store.compact()
    assert store.journal.stat().st_size == 0
    disk = on_disk(store)
    assert json.loads(store.path.read_bytes()) == disk
    assert store.path.read_bytes() == _dump(json.loads(store.path.read_bytes()))
    assert sorted(d["id"] for d in disk["members"].values()) == ["1", "3", "4", "5", "6"]
    assert len(disk["outbox"]) == 6 and len(set(disk["outbox"])) == 6
    assert {d["name"] for d in disk["members"].values()} >= {"Pak Camat", "Pejabat 6"}
    fresh = Store(tmp_path)  # another process reads exactly what this one holds
    with fresh.transaction() as a:
        theirs = ([m.to_doc() for m in a.members()], [i.to_doc() for i in a.outbox("sent")],
                  len(a.dispositions("pk-1")))
    with store.transaction() as b:
        ours = ([m.to_doc() for m in b.members()], [i.to_doc() for i in b.outbox("sent")],
                len(b.dispositions("pk-1")))
    assert theirs == ours and ours[2] == 1


def test_a_write_journals_only_the_documents_that_changed(tmp_path: Path) -> None:
    store = seeded(Store(tmp_path), 49)
    file_before = store.path.read_bytes()
    tables, docs = store.parsed.journal_tables, store.parsed.journal_docs
    with store.transaction(record_update=False) as repo:
        it = repo.outbox()[0]
        it.inflight_at = NOW
        repo.save_outbox(it)
    # that one outbox item: neither the other 48 nor the 49 officials
    assert (store.parsed.journal_tables, store.parsed.journal_docs) == (tables, docs + 1)
    size = store.journal.stat().st_size
    with store.transaction(record_update=False) as repo:
        assert repo.outbox()[0].inflight_at == NOW
        repo.save_member(official(1, "Pak Camat"))
    assert (store.parsed.journal_tables, store.parsed.journal_docs) == (tables, docs + 2)
    line = store.journal.read_bytes()[size:]
    assert line.endswith(b"\n") and line.count(b"\n") == 1 and len(line) < 600
    assert store.path.read_bytes() == file_before  # the file itself is not rewritten
    assert Store(tmp_path).read().member("1").name == "Pak Camat"  # (folded at open)
    assert json.loads(store.path.read_bytes())["members"]["1"]["name"] == "Pak Camat"


def test_the_file_stays_what_encoding_the_whole_would_write(tmp_path: Path) -> None:
    """Documents changed, added and removed in place, tables replaced by TinyDB, across
    transactions: once the journal is folded in, the file is byte for byte the compact JSON
    of the whole data."""
    store = seeded(Store(tmp_path), 30)
    with store.transaction(record_update=False) as repo:
        items = repo.outbox()
        for it in items[:5]:
            it.inflight_at = NOW
            repo.save_outbox(it)
        repo.enqueue_many([item(100 + n) for n in range(3)])
    with store.transaction(record_update=False) as repo:
        repo.save_member(official(7, "Bu Sekcam"))
        for n in range(3):
            repo.mark_update(5000 + n)
        repo.remove_member("8")  # TinyDB's own write: the members table replaced
    with store.transaction(record_update=False) as repo:
        for it in repo.outbox()[:12]:
            it.status = "sent"
            repo.save_outbox(it)
        repo.save_member(official(9, "Pak Lurah"))
    store.compact()
    raw = store.path.read_bytes()
    assert raw == orjson.dumps(json.loads(raw))
    data = json.loads(raw)
    assert data["members"]["7"]["name"] == "Bu Sekcam" and "8" not in data["members"]
    assert sum(d["status"] == "sent" for d in data["outbox"].values()) == 12


def test_a_lane_reads_only_its_kinds_and_counts_cost_no_parsing(store: Storage) -> None:
    ack = OutboxItem(id="ack", member_id="1", chat_id=1, kind="ack", payload={"ack": "x"},
                     created_at=NOW)
    with store.transaction(record_update=False) as repo:
        repo.enqueue_many([item(1), ack, item(2), item(3, "undeliverable")])
    with store.transaction(record_update=False) as repo:
        assert [i.id for i in repo.outbox(kind=lambda k: k == "reminder")] == [
            "item-1", "item-2"]
        assert [i.id for i in repo.outbox(kind=lambda k: k != "reminder")] == ["ack"]
        assert (repo.outbox_count(), repo.outbox_count("undeliverable")) == (3, 1)


def test_indexes_kept_across_transactions_follow_every_change(store: Storage) -> None:
    """Officials by id, role holders and instances' document ids are built once and kept
    between transactions: joins, role changes, removals, new instances and a failed
    transaction all show in the next one."""
    unit = "kec-neglasari"
    with store.transaction(record_update=False) as repo:
        for i in (1, 2):
            repo.save_member(official(i))
        inst = Instance(id="i1", flow_id="f", unit_id=unit, year=2026, started_by="1",
                        created_at=NOW, status=Status.ACTIVE)
        repo.save_instance(inst)
    with store.transaction(record_update=False) as repo:
        assert repo.holders(unit) == {"pejabat_unit_kerja": ["1", "2"]}
        camat = official(3, "Bu Camat")
        camat.roles = [Membership(unit, "camat", NOW)]
        repo.save_member(camat)  # a join: the holders of the same transaction follow
        assert repo.holders(unit)["camat"] == ["3"]
        repo.save_instance(Instance(id="i2", flow_id="f", unit_id=unit, year=2026,
                                    started_by="3", created_at=NOW, status=Status.ACTIVE))
    with store.transaction(record_update=False) as repo:
        assert repo.holders(unit) == {"pejabat_unit_kerja": ["1", "2"], "camat": ["3"]}
        assert [i.id for i in (repo.instance("i1"), repo.instance("i2")) if i] == ["i1", "i2"]
        repo.remove_member("2")
    with pytest.raises(RuntimeError), store.transaction(record_update=False) as repo:
        assert repo.holders(unit)["pejabat_unit_kerja"] == ["1"]
        repo.save_member(official(4))
        repo.save_instance(Instance(id="i3", flow_id="f", unit_id=unit, year=2026,
                                    started_by="4", created_at=NOW, status=Status.ACTIVE))
        raise RuntimeError("the transaction fails: nothing of it is kept")
    with store.transaction(record_update=False) as repo:
        assert repo.member("4") is None and repo.instance("i3") is None
        assert repo.holders(unit) == {"pejabat_unit_kerja": ["1"], "camat": ["3"]}
        assert repo.member("3").name == "Bu Camat"  # type: ignore[union-attr]


def test_step_messages_and_dispositions_are_found_by_index_through_archiving(
        store: Storage) -> None:
    """A reply, a press and a decision find their step messages and dispositions by index,
    kept across transactions: new ones, settled ones, a failed transaction and a finished
    instance moved to its archive all show in the next transaction."""
    def inst(iid: str) -> Instance:
        return Instance(id=iid, flow_id="f", unit_id="u", year=2026, started_by="1",
                        created_at=NOW, status=Status.ACTIVE)

    with store.transaction(record_update=False) as repo:
        for iid, chat in (("a", 10), ("b", 20)):
            repo.save_instance(inst(iid))
            repo.add_step_message(StepMessage(chat, 1, "1", iid, 1, 1, f"step 1 of {iid}"))
            repo.add_disposition(Disposition(iid, 1, Action.COMPLETE, "1", "camat", NOW))
    with store.transaction(record_update=False) as repo:
        repo.settle_step_message(10, 1)
        repo.add_step_message(StepMessage(10, 2, "1", "a", 2, 1, "step 2 of a"))
        repo.add_disposition(Disposition("a", 2, Action.COMPLETE, "1", "camat", NOW))
    with pytest.raises(RuntimeError), store.transaction(record_update=False) as repo:
        repo.add_step_message(StepMessage(10, 3, "1", "a", 3, 1, "never stored"))
        raise RuntimeError("the transaction fails: nothing of it is kept")
    with store.transaction(record_update=False) as repo:
        first = repo.step_message(10, 1)
        assert first is not None and first.settled and first.text == ""
        assert [m.message_id for m in repo.step_messages("a", 2, 1)] == [2]
        assert repo.step_message(10, 3) is None
        assert [d.step_no for d in repo.dispositions("a")] == [1, 2]
        done = inst("a")
        done.status, done.finished_at = Status.COMPLETED, NOW
        repo.save_instance(done)
        repo.archive_instance(done)
    with store.transaction(record_update=False) as repo:
        assert repo.step_message(10, 2) is None and repo.step_messages("a", 2, 1) == []
        assert [d.step_no for d in repo.dispositions("a", 2026)] == [1, 2]  # its archive
        assert repo.instance("a", 2026).status is Status.COMPLETED  # type: ignore[union-attr]
        assert [i.id for i in repo.instances(status=Status.ACTIVE)] == ["b"]
        assert repo.step_message(20, 1).text == "step 1 of b"  # type: ignore[union-attr]
        assert [d.instance_id for d in repo.dispositions("b")] == ["b"]


def test_archiving_journals_the_documents_it_moves_not_whole_tables(tmp_path: Path) -> None:
    store = seeded(Store(tmp_path), 49)
    with store.transaction(record_update=False) as repo:
        for iid in ("a", "b"):
            repo.save_instance(Instance(id=iid, flow_id="f", unit_id="u", year=2026,
                                        started_by="1", created_at=NOW, status=Status.ACTIVE))
            repo.add_step_message(StepMessage(1, ord(iid), "1", iid, 1, 1, "step 1"))
    tables = store.parsed.journal_tables
    with store.transaction(record_update=False) as repo:
        done = repo.instance("a")
        assert done is not None
        done.status, done.finished_at = Status.COMPLETED, NOW
        repo.archive_instance(done)
    # the instance and its message leave the working set by document, not in whole tables
    assert store.parsed.journal_tables == tables
    assert Store(tmp_path).read().instance("b") is not None
    assert [i.id for i in Store(tmp_path).read().instances(year=2026)] == ["b", "a"]


def test_a_repository_read_after_its_transaction_is_not_changed_under_it(tmp_path: Path
                                                                         ) -> None:
    """The reminder planning reads its snapshot outside the lock while presses insert into
    the same tables in place: iterating must not fail, nor see a half-changed table."""
    store = Store(tmp_path)
    with store.transaction(record_update=False) as repo:
        repo.enqueue_many([item(i) for i in range(3)])
        for i in (1, 2):
            repo.save_member(official(i))
    with store.transaction(record_update=False) as later:
        assert later.holders("kec-neglasari") == {"pejabat_unit_kerja": ["1", "2"]}
    assert len(later.members()) == 2  # read after the transaction: from its own copy
    seen = []
    for key in later._docs("outbox"):  # a planning thread, after its transaction
        with store.transaction(record_update=False) as repo:  # a press meanwhile
            repo.enqueue_many([item(100 + len(seen))])
            repo.save_member(official(10 + len(seen)))
        seen.append(key)
    assert len(seen) == 3
    assert len(later.members()) == 2  # the copy did not change under it
    with store.transaction(record_update=False) as repo:
        assert len(repo.outbox()) == 6 and len(repo.members()) == 5


def test_the_running_trail_is_kept_packed_and_written_as_plain_json(tmp_path: Path) -> None:
    """Every running instance's dispositions and step messages stay in the working set
    until it finishes: they are kept in memory as their compact JSON deflated (a fifth of
    the parsed dicts' size), and the file, the journal, a fresh store, a snapshot and the
    archive see plain documents."""
    store = Store(tmp_path)
    with store.transaction(record_update=False) as repo:
        for n in range(400):
            repo.add_disposition(Disposition(f"pk-{n % 40}", n // 40 + 1, Action.APPROVE,
                                             "1", "camat", NOW, note=f"catatan {n} ✔"))
            repo.add_step_message(StepMessage(n, n, "1", f"pk-{n % 40}", n // 40 + 1, 1,
                                              f"Langkah {n} 📝"))
    with store.transaction(record_update=False) as repo:
        repo.settle_step_message(7, 7)
    held = store.parsed.load(store.path, working_set=True)
    assert all(isinstance(d, bytes) for d in held["dispositions"].values())
    assert all(isinstance(d, bytes) for d in held["step_messages"].values())
    # deflated against the documents' common keys and values: a disposition in a third
    # of its JSON
    plain = [inflate(d) for d in held["dispositions"].values()]
    assert [orjson.loads(j) for j in plain[:2]] == [
        {"v": 1, **Disposition(f"pk-{n}", 1, Action.APPROVE, "1", "camat", NOW,
                               note=f"catatan {n} ✔").to_dict()} for n in (0, 1)]
    assert sum(map(len, held["dispositions"].values())) < sum(map(len, plain)) / 3
    journaled = [orjson.loads(line) for line in store.journal.read_bytes().splitlines()[1:]]
    assert journaled[-1]["d"]["step_messages"]["8"]["settled"] is True  # a plain document
    fresh = Store(tmp_path)  # folds the journal into the file as it opens
    disk = on_disk(fresh)
    assert disk["dispositions"]["1"]["note"] == "catatan 0 ✔"
    assert disk["step_messages"]["8"] == {"v": 1, "chat_id": 7, "message_id": 7,
                                          "member_id": "1", "instance_id": "pk-7",
                                          "step_no": 1, "round": 1, "text": "",
                                          "settled": True, "kind": "step"}
    assert fresh.path.read_bytes() == orjson.dumps(json.loads(fresh.path.read_bytes()))
    for reader in (fresh.read(), store.read()):  # a snapshot holds parsed documents
        assert [d.note for d in reader.dispositions("pk-3")] == [
            f"catatan {n} ✔" for n in range(3, 400, 40)]
        assert reader.step_message(9, 9).text == "Langkah 9 📝"  # type: ignore[union-attr]
    with fresh.transaction(record_update=False) as repo:
        assert [d.note for d in repo.dispositions("pk-3")][:2] == ["catatan 3 ✔",
                                                                     "catatan 43 ✔"]
        inst = Instance(id="pk-3", flow_id="pk", unit_id="u", year=2026, started_by="1",
                        created_at=NOW, status=Status.COMPLETED, finished_at=NOW)
        repo.archive_instance(inst)
    archive = json.loads(fresh.archive_path(2026).read_bytes())
    assert sorted(d["note"] for d in archive["dispositions"].values()) == sorted(
        f"catatan {n} ✔" for n in range(3, 400, 40))
    assert len(archive["step_messages"]) == 10
    assert len(Store(tmp_path).read().dispositions("pk-3", 2026)) == 10

    # What the packing saves: the working set as loaded, against the same parsed.
    packed, packed_size, parsed, parsed_size = loaded_and_parsed(fresh)
    assert len(packed["dispositions"]) == len(parsed["dispositions"]) == 390
    assert packed_size < parsed_size / 4, (packed_size, parsed_size)  # (2.5 times undeflated)


def test_the_trails_indexes_take_less_memory_than_the_trail(tmp_path: Path) -> None:
    """The indexes a reply, a press and a decision look their step messages and
    dispositions up in are kept as long as the trail: by instance an array of document
    ids, by chat and message an open-addressing table of 64-bit slots (no int, string or
    tuple object a document; and no index by step and round: an instance's few dozen
    messages are read instead)."""
    store = Store(tmp_path)
    with store.transaction(record_update=False) as repo:
        for n in range(2000):
            iid = f"pk-2026-kec-neglasari-{n % 200:03d}"
            repo.add_disposition(Disposition(iid, n // 200 + 1, Action.COMPLETE, "1", "camat",
                                             NOW))
            repo.add_step_message(StepMessage(1000 + n % 200, 5000 + n, "1", iid,
                                              n // 200 + 1, 1, ""))
    store.compact()
    fresh = Store(tmp_path)
    with fresh.transaction(record_update=False) as repo:
        docs = [doc for name in ("dispositions", "step_messages")
                for doc in repo._docs(name).values()]
        plain = sum(len(inflate(doc)) for doc in docs)  # the trail's JSON
        tracemalloc.start()
        try:
            repo._message_index()
            repo._disposition_keys()
            indexes = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert indexes < plain / 4, (indexes, plain)
        # 40 bytes a document with its instance's share (20 documents an instance); 238
        # with tuples and strings, 61 with an int and the key string
        assert indexes / len(docs) < 45, (indexes, len(docs))
        assert [m.message_id for m in repo.step_messages("pk-2026-kec-neglasari-007", 3, 1)
                ] == [5407]
        assert repo.step_message(1007, 5407).step_no == 3  # type: ignore[union-attr]


def test_an_undo_point_is_kept_packed_and_a_decision_withdrawn_from_it(tmp_path: Path) -> None:
    """A running instance's undo point (the instance as it was before the last decision, a
    second copy of it) stays packed in the working set; the instance a transaction reads
    offers it as a mapping, the engine withdraws from it after a restart, and the file, a
    snapshot and the archive hold it plain."""
    engine = Engine(parse_flow(OFFICE, "office.yaml"))
    decided = engine.approve(at_decision(engine), by=SEK, now=at(10), holders=HOLDERS).instance
    plain_undo = decided.to_dict()["undo"]
    assert plain_undo["before"]["current"]["no"] == 3
    store = Store(tmp_path)
    with store.transaction(record_update=False) as repo:
        repo.save_instance(decided)
    with store.transaction(record_update=False) as repo:  # (journaled)
        for n in range(100):  # others, for the memory below
            repo.save_instance(Instance.from_dict({**decided.to_dict(), "id": f"x{n}"}))
    held = store.parsed.load(store.path, working_set=True)["instances"]
    assert all(isinstance(doc["undo"], bytes) for doc in held.values())
    journaled = orjson.loads(store.journal.read_bytes().splitlines()[-1])
    assert next(iter(journaled["d"]["instances"].values()))["undo"] == plain_undo

    fresh = Store(tmp_path)  # the journal folded into the file, read back and packed
    assert on_disk(fresh)["instances"]["1"]["undo"] == plain_undo
    assert fresh.read().instance("x").undo == plain_undo  # type: ignore[union-attr]
    with fresh.transaction(record_update=False) as repo:
        inst = repo.instance("x")
        assert inst is not None and inst.undo is not None and inst.undo["by"] == "sek"
        assert engine.withdrawable(inst, by=SEK, now=at(15), window=WINDOW)
        t = engine.withdraw(inst, by=SEK, now=at(15), window=WINDOW, reason="salah tekan")
        assert t.instance.current is not None and t.instance.current.no == 3
        assert t.instance.undo is None
        again = engine.approve(t.instance, by=SEK, now=at(16), holders=HOLDERS).instance
        repo.save_instance(again)
        finished = repo.instance("x1")
        assert finished is not None
        finished.status, finished.finished_at = Status.COMPLETED, at(17)
        repo.archive_instance(finished)
    archive = json.loads(fresh.archive_path(2026).read_bytes())
    assert [d["undo"] for d in archive["instances"].values()] == [plain_undo]
    assert Store(tmp_path).read().instance("x1", 2026).undo == plain_undo  # type: ignore[union-attr]

    # What the packing saves: the working set of 100 instances, as loaded and parsed.
    packed, packed_size, parsed, parsed_size = loaded_and_parsed(fresh)
    assert len(packed["instances"]) == len(parsed["instances"]) == 100  # (one archived)
    assert packed_size < parsed_size * 0.6, (packed_size, parsed_size)


def churned(table: Any, rng: random.Random, make: Any, *, replaced: float
            ) -> tuple[dict[str, Any], list[tuple[Any, dict[str, Any]]]]:
    """`table` (a mapping of document id strings, as the repository reads a table) through
    6,000 random inserts (now and then an id below the first held), replacements (a share
    `replaced` of the changes: ``make(doc_id, old)``) and removals, checked against a dict
    of the same changes at every step: the dict, and copies of the table taken on the way
    with the dict as it was then."""
    model: dict[str, Any] = {}
    copies = []
    for step in range(6000):
        op = rng.random()
        if op < 0.55 or not model:  # an insert
            doc_id = rng.randrange(1, 40) if rng.random() < 0.02 else \
                max(map(int, model), default=0) + 1
            table[str(doc_id)] = model[str(doc_id)] = make(doc_id, None)
        elif op < 0.55 + replaced:
            key = rng.choice(list(model))
            table[int(key)] = model[key] = make(int(key), model[key])
        else:
            key = rng.choice(list(model))
            del table[key], model[key]
        if step % 1000 == 0:
            copies.append((table.copy(), dict(model)))
        assert len(table) == len(model)
        assert table.next_id() == max(map(int, model), default=0) + 1
    assert dict(table.items()) == model and list(table) == sorted(model, key=int)
    return model, copies


def test_a_trail_table_is_one_buffer_found_by_document_id() -> None:
    """A packed table holds its documents end to end in one buffer: read, replaced, removed
    and copied like the dict of id strings it stands for (checked against one, through
    thousands of random changes and the rebuilds they cause), and written as that dict's
    JSON."""
    rng = random.Random(15)
    docs = [pack({"instance_id": f"pk-{n}", "note": "".join(
        rng.choices("abcdefghijklmnopqrstuvwxyz ", k=rng.randrange(0, 300)))}) for n in range(50)]
    trail = Trail()
    # (a replaced document: a step message settled)
    model, copies = churned(trail, rng, lambda _id, _old: rng.choice(docs), replaced=0.2)
    assert all(trail[int(k)] == doc for k, doc in model.items())
    # rebuilt as it went: what removed and replaced documents leave is at most a quarter
    assert len(trail._state[0]) < 1.4 * sum(map(len, model.values())) + Trail._SLACK
    for copy, then in copies:  # a copy never changed with the table
        assert dict(copy.items()) == then
    assert orjson.loads(_dump({"t": trail})) == {
        "t": {k: orjson.loads(inflate(doc)) for k, doc in model.items()}}
    missing = str(max(map(int, model)) + 1)
    assert missing not in trail and "x" not in trail and 0 not in trail
    with pytest.raises(KeyError):
        trail[missing]
    with pytest.raises(KeyError):
        del trail["0"]
    with pytest.raises(ValueError):
        trail["5"] = b""
    assert Trail.holds_key("12") and not any(map(Trail.holds_key, ["012", "0", "-1", "x", "١"]))
    for key in list(model):  # emptied, it starts afresh (no spans kept for the ids before)
        del trail[key]
    assert len(trail) == 0 and trail.next_id() == 1 and list(trail) == []
    trail[1] = docs[0]
    assert list(trail) == ["1"] and len(trail._state[1]) == 1 and trail[1] == docs[0]


def test_step_messages_whose_places_share_a_hash_are_told_apart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index by chat and message keeps 31 bits of each place's hash: two messages whose
    bits match are both found as candidates and the repository tells them apart by the
    documents themselves; a press settles only its own message. Places that differ only
    in their chat (each chat counts its own message ids from 1) do not share them."""
    index = MessageIndex()
    for n, (chat, message_id) in enumerate(
            ((chat, m) for chat in range(3000, 4000) for m in (1, 2, 3)), start=1):
        index.add(message_at(chat, message_id), n)
    assert all(index.get(message_at(3000 + n // 3, 1 + n % 3)) == [n + 1] for n in range(3000))
    # 31 bits rarely match (none in 400,000 places): here only 4 bits are kept
    monkeypatch.setattr(MessageIndex, "_tag", staticmethod(lambda at: 0x80000000 | at % 16))
    index = MessageIndex()
    near, far = 7, 23
    index.add(message_at(42, near), 9000)
    index.add(message_at(42, far), 9001)
    assert index.get(message_at(42, near)) == index.get(message_at(42, far)) == [9000, 9001]
    index.remove(message_at(42, near), 9000)
    assert index.get(message_at(42, near)) == [9001] and index.get(message_at(5, 5)) == []
    assert len(index) == 1
    store = Store(tmp_path)
    with store.transaction(record_update=False) as repo:
        repo.add_step_message(StepMessage(42, near, "1", "pk-a", 1, 1, "Langkah pertama"))
        repo.add_step_message(StepMessage(42, far, "2", "pk-b", 2, 1, "Langkah kedua"))
    with store.transaction(record_update=False) as repo:
        assert repo.step_message(42, far).instance_id == "pk-b"  # type: ignore[union-attr]
        repo.settle_step_message(42, far)
        assert repo.step_message(42, 39) is None  # (the same 4 bits, no message)
    for reader in (Store(tmp_path).read(), store.read()):
        assert reader.step_message(42, near).settled is False  # type: ignore[union-attr]
        assert reader.step_message(42, far).settled is True  # type: ignore[union-attr]
        assert reader.step_message(42, near).text == "Langkah pertama"  # type: ignore[union-attr]


def test_a_columns_table_is_read_and_changed_like_the_dict_it_stands_for(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A table of documents of one shape kept as one list per key: read, added, removed and
    copied like the dict of id strings it stands for (checked against one through thousands
    of random changes and the rebuilds they cause), and written as that dict's JSON, whole
    or a few documents (``null`` for one removed: the journal's line)."""
    rng = random.Random(15)
    fields = COLUMNS["reminders_sent"]
    table = Columns(fields)

    def mark(doc_id: int, old: dict[str, Any] | None) -> dict[str, Any]:
        if old is not None:  # replaced
            return {**old, "skipped": not old["skipped"]}
        return {"v": 1, "id": f"s:pk-{doc_id}:3:1:{rng.randrange(9)}",
                "at": f"2026-01-0{rng.randrange(1, 9)}", "skipped": rng.random() < 0.5}

    model, copies = churned(table, rng, mark, replaced=0.05)
    assert list(table.column("id")) == [model[k]["id"] for k in sorted(model, key=int)]
    assert table.keys_where("at", lambda at: at < "2026-01-03") == [
        k for k in sorted(model, key=int) if model[k]["at"] < "2026-01-03"]
    # a rebuild keeps the places from the first document held to the last
    table._rebuild()
    assert len(table._state[1][0]) == max(map(int, model)) - min(map(int, model)) + 1
    assert dict(table.items()) == model
    for copy, then in copies:  # a copy never changed with the table
        assert dict(copy.items()) == then
    assert orjson.loads(_dump({"t": table})) == {"t": model}
    some = sorted(model, key=int)[:3]
    gone = str(max(map(int, model)) + 5)
    assert orjson.loads(table.json([*some, gone])) == {**{k: model[k] for k in some},
                                                        gone: None}
    assert gone not in table and "x" not in table and 0 not in table
    with pytest.raises(KeyError):
        table[gone]
    with pytest.raises(KeyError):
        del table["0"]
    with pytest.raises(ValueError):
        table["5"] = {"id": "p"}  # not of the table's shape
    # holes in the middle that a rebuild cannot take out: rebuilt only once they doubled
    table = Columns(fields, ((n, model[k]) for n, k in enumerate(sorted(model, key=int), 1)))
    rebuilds = []
    rebuild = Columns._rebuild

    def counted(self: Columns) -> None:
        rebuilds.append(len(self))
        rebuild(self)

    monkeypatch.setattr(Columns, "_rebuild", counted)
    last = len(model)
    gone = [n for n in range(2, last) if n % 4]
    for n in gone:
        del table[n]  # three of every four, the first and the last kept
    assert len(table) == last - len(gone) and len(rebuilds) == 1, rebuilds
    for key in list(table):  # emptied, it starts afresh (no places kept for the ids before)
        del table[key]
    assert len(table) == 0 and table.next_id() == 1 and list(table) == []
    table[7] = {"v": 1, "id": "p", "at": "t", "skipped": False}
    assert list(table) == ["7"] and len(table._state[1][0]) == 1 and table.next_id() == 8


def test_reminder_marks_are_kept_as_columns_and_written_as_plain_json(tmp_path: Path) -> None:
    """The reminders recorded as sent (21,000 once a downtime's missed ones are collapsed,
    with 1,000 instances running) are kept as columns, their repeated values shared; the
    file, the journal, a fresh store and a snapshot see the plain documents, and an old
    data directory's documents (of no version: the same shape once upgraded) load as
    columns too."""
    store = Store(tmp_path)
    points = [f"s:pk-2026-{n // 20:04d}:{n % 13 + 1}:1:{n % 20}" for n in range(5000)]
    with store.transaction(record_update=False) as repo:
        repo.mark_reminders(points[:3000], NOW, skipped=True)
    with store.transaction(record_update=False) as repo:
        repo.mark_reminders(points[2990:], NOW + timedelta(days=200))  # ten known already
        assert repo.reminder_sent(points[4999]) and not repo.reminder_sent("s:other")
    held = store.parsed.load(store.path, working_set=True)["reminders_sent"]
    assert isinstance(held, Columns) and len(held) == 5000
    line = orjson.loads(store.journal.read_bytes().splitlines()[-1])
    assert line["d"]["reminders_sent"]["3001"] == {
        "v": 1, "id": points[3000], "at": (NOW + timedelta(days=200)).isoformat(),
        "skipped": False}
    with store.transaction(record_update=False) as repo:  # the oldest 3,000 pruned
        assert repo.prune_reminders(NOW + timedelta(days=1)) == 3000
    assert orjson.loads(store.journal.read_bytes().splitlines()[-1])["d"]["reminders_sent"][
        "1"] is None
    fresh = Store(tmp_path)  # folds the journal into the file as it opens
    disk = on_disk(fresh)["reminders_sent"]
    assert len(disk) == 2000 and disk["5000"]["id"] == points[4999]
    assert fresh.read().sent_reminders() == set(points[3000:])  # a snapshot: plain dicts
    with fresh.transaction(record_update=False) as repo:
        assert repo.sent_reminders() == set(points[3000:])
    loaded = fresh.parsed.load(fresh.path, working_set=True)["reminders_sent"]
    assert isinstance(loaded, Columns)
    assert len({id(at) for at in loaded.column("at")}) == 1  # one string for them all

    # An old data directory: marks written before documents had versions.
    old = tmp_path / "old"
    old.mkdir()
    (old / "sopbot.json").write_text(json.dumps({"reminders_sent": {
        str(n): {"id": p, "at": NOW.isoformat(), "skipped": False}
        for n, p in enumerate(points, 1)}}))
    with Store(old).transaction(record_update=False) as repo:
        assert repo.sent_reminders() == set(points)
        assert isinstance(repo._docs("reminders_sent"), Columns)
        repo.mark_reminders(["s:new"], NOW)
    assert on_disk(Store(old))["reminders_sent"]["5001"]["id"] == "s:new"

    # What the columns save: the working set as loaded, against the same parsed.
    packed, packed_size, parsed, parsed_size = loaded_and_parsed(Store(old))
    assert len(packed["reminders_sent"]) == len(parsed["reminders_sent"]) == 5001
    assert packed_size < parsed_size / 2.5, (packed_size, parsed_size)


def test_column_reads_answer_alike_for_columns_and_a_plain_table() -> None:
    """The store reads a marks or updates table through values_of, keys_where and smallest,
    whichever form the table has (a plain dict when a document is of another shape)."""
    docs = {str(n): {"v": 1, "update_id": 100 - 3 * n} for n in range(1, 30)}
    columns = Columns(COLUMNS["processed_updates"], docs.items())
    for table in (docs, columns):
        assert list(values_of(table, "update_id")) == [d["update_id"] for d in docs.values()]
        assert keys_where(table, "update_id", lambda u: u > 90) == ["1", "2", "3"]
        assert smallest(table, "update_id", 3) == ["29", "28", "27"]


def test_a_marks_table_of_other_documents_stays_a_dict(tmp_path: Path) -> None:
    """A document of another shape (a key more, from a newer minor version or by hand)
    keeps the table as TinyDB holds it, and it works as before."""
    (tmp_path / "sopbot.json").write_text(json.dumps({"reminders_sent": {
        "1": {"v": 1, "id": "p1", "at": NOW.isoformat(), "skipped": False},
        "2": {"v": 1, "id": "p2", "at": NOW.isoformat(), "skipped": True, "note": "x"}}}))
    store = Store(tmp_path)
    with store.transaction(record_update=False) as repo:
        assert isinstance(repo._docs("reminders_sent"), dict)
        repo.mark_reminders(["p2", "p3"], NOW)
        assert repo.prune_reminders(NOW + timedelta(seconds=1)) == 3
    with store.transaction(record_update=False) as repo:
        assert repo.sent_reminders() == set()


def test_a_sent_items_payload_is_kept_packed_and_written_as_plain_json(tmp_path: Path
                                                                       ) -> None:
    """The newest 500 items sent stay in the working set, their payloads read again only
    for an acknowledgement a reply may answer: once sent, an item's payload is kept packed
    (a digest of a downtime's reminders lists thousands of them), and the file, the
    journal, a fresh store and a snapshot see the plain document."""
    store = Store(tmp_path)
    digest = {"type": "digest", "items": [{"instance_id": f"pk-{n}", "step_no": n % 13,
                                           "deadline": NOW.isoformat()} for n in range(300)]}
    with store.transaction(record_update=False) as repo:
        repo.enqueue_many([item(1), OutboxItem(id="digest", member_id="2", chat_id=2,
                                               kind="reminder", payload=digest,
                                               created_at=NOW)])
    with store.transaction(record_update=False) as repo:
        for it in repo.outbox():
            if it.id == "digest":
                it.status, it.message_ids = "sent", [77]
                repo.save_outbox(it)
    held = store.parsed.load(store.path, working_set=True)["outbox"]
    docs = {d["id"]: d for d in held.values()}
    assert isinstance(docs["digest"]["payload"], bytes) and len(docs["digest"]["payload"]) < \
        len(orjson.dumps(digest)) / 5
    assert docs["item-1"]["payload"] == {"n": 1}  # still owed: as it was
    line = orjson.loads(store.journal.read_bytes().splitlines()[-1])
    assert next(iter(line["d"]["outbox"].values()))["payload"] == digest
    with store.transaction(record_update=False) as repo:
        [sent] = repo.outbox("sent")
        assert sent.payload == digest and sent.message_ids == [77]
    fresh = Store(tmp_path)
    assert {d["id"]: d["payload"] for d in on_disk(fresh)["outbox"].values()} == {
        "item-1": {"n": 1}, "digest": digest}
    assert fresh.read().outbox("sent")[0].payload == digest  # a snapshot: plain documents
    loaded = {d["id"]: d for d in fresh.parsed.load(fresh.path, working_set=True)[
        "outbox"].values()}
    assert isinstance(loaded["digest"]["payload"], bytes)  # packed as the store loads it
    with fresh.transaction(record_update=False) as repo:
        assert repo.outbox("sent")[0].payload == digest
        assert repo.outbox()[0].payload == {"n": 1}


def test_processed_updates_are_kept_as_columns_the_oldest_dropped(tmp_path: Path) -> None:
    """One processed update is recorded and the oldest dropped with every press: kept as
    columns (no dict a press living for 2,000 presses), the newest kept whatever the order
    they came in, and the file holding the plain documents."""
    store = Store(tmp_path)
    order = list(range(1000, 1000 + KEEP_UPDATES + 50))
    random.Random(15).shuffle(order)  # (a redelivery, workers finishing out of order)
    for update_id in order:
        with store.transaction(record_update=False) as repo:
            repo.mark_update(update_id)
    held = store.parsed.load(store.path, working_set=True)["processed_updates"]
    assert isinstance(held, Columns) and len(held) == KEEP_UPDATES
    assert sorted(held.column("update_id")) == list(range(1050, 1000 + KEEP_UPDATES + 50))
    assert [held[k]["update_id"] for k in held.smallest("update_id", 2)] == [1050, 1051]
    fresh = Store(tmp_path)
    docs = on_disk(fresh)["processed_updates"]
    assert sorted(d["update_id"] for d in docs.values()) == sorted(held.column("update_id"))
    assert all(set(d) == {"v", "update_id"} for d in docs.values())
    with fresh.transaction(record_update=False) as repo:
        assert isinstance(repo._docs("processed_updates"), Columns)
        assert repo.newest_update() == 1000 + KEEP_UPDATES + 49
        assert repo.update_seen(1050) and not repo.update_seen(1049)
