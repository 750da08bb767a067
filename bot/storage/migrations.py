"""Upgrades of stored documents: small pure functions, one per table and version.

Every stored document carries its schema version (``v``; instances carry ``schema``, written
by the engine). When the bot loads a file it brings every older document up to date before
anyone reads it; a document newer than this sopbot is refused rather than misread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.engine.instance import INSTANCE_SCHEMA, migrate_instance
from bot.storage.records import INVITE_SCHEMA, RECORD_SCHEMA, invite_key

Doc = dict[str, Any]


class SchemaError(Exception):
    """A stored document from a newer sopbot, or one that cannot be upgraded."""


def _v0_to_v1(doc: Doc) -> Doc:
    """Documents written before versions were recorded: the shape is v1's."""
    return {**doc, "v": 1}


def _disposition_v0_to_v1(doc: Doc) -> Doc:
    """Early dispositions had no round: they were all taken on a step's first activation."""
    return {**doc, "round": doc.get("round", 1), "v": 1}


def _invite_v1_to_v2(doc: Doc) -> Doc:
    """Invitation codes were stored in plain text: keep only their hash."""
    new = {k: v for k, v in doc.items() if k != "code"}
    return {**new, "code_hash": invite_key(str(doc["code"])), "v": 2}


#: table -> {from_version: upgrade to from_version + 1}
MIGRATIONS: dict[str, dict[int, Callable[[Doc], Doc]]] = {
    "members": {0: _v0_to_v1},
    "invites": {0: _v0_to_v1, 1: _invite_v1_to_v2},
    "step_messages": {0: _v0_to_v1},
    "pending_reasons": {0: _v0_to_v1},
    "outbox": {0: _v0_to_v1},
    "processed_updates": {0: _v0_to_v1},
    "dispositions": {0: _disposition_v0_to_v1},
    "cycle_tasks": {0: _v0_to_v1},
    "reminders_sent": {0: _v0_to_v1},
    "roster": {0: _v0_to_v1},
    "delegations": {0: _v0_to_v1},
}

CURRENT: dict[str, int] = {table: RECORD_SCHEMA for table in MIGRATIONS} | {
    "invites": INVITE_SCHEMA}


def upgrade(table: str, doc: Doc) -> Doc:
    """The document in the current schema of its table."""
    if table == "instances":
        version = int(doc.get("schema", 1))
        if version > INSTANCE_SCHEMA:
            raise SchemaError(f"instance {doc.get('id')!r} has schema {version}; this sopbot "
                              f"knows up to {INSTANCE_SCHEMA}: upgrade sopbot")
        return dict(migrate_instance(doc))
    steps = MIGRATIONS.get(table)
    if steps is None:
        return doc
    version = int(doc.get("v", 0))
    current = CURRENT[table]
    if version > current:
        raise SchemaError(f"a {table} document has schema {version}; this sopbot knows up to "
                          f"{current}: upgrade sopbot")
    while version < current:
        doc = steps[version](doc)
        version = int(doc["v"])
    return doc


def upgrade_file(data: dict[str, dict[str, Doc]]) -> bool:
    """Upgrade every document of a loaded database file in place; True if any changed."""
    changed = False
    for table, docs in data.items():
        if not isinstance(docs, dict):
            continue
        for doc_id, doc in list(docs.items()):
            new = upgrade(table, doc)
            if new != doc:
                docs[doc_id] = new
                changed = True
    return changed
