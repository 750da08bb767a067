"""What every service shares: the storage backend, the loaded flows and their engines."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import timedelta

from bot.engine.instance import Engine
from bot.engine.model import Flow
from bot.storage.protocol import CURRENT_UPDATE, Repository, Storage


@contextlib.contextmanager
def handling_update(update_id: int) -> Iterator[None]:
    """Within this block, every transaction that changes something also records
    `update_id` as processed, in the same write (a redelivered update is then skipped)."""
    token = CURRENT_UPDATE.set(update_id)
    try:
        yield
    finally:
        CURRENT_UPDATE.reset(token)


class ServiceBase:
    """The state the services work on; each responsibility is a mixin over it."""

    def __init__(self, store: Storage, flows: Iterable[Flow], *,
                 invite_ttl: timedelta = timedelta(days=7)) -> None:
        self.store = store
        self.flows = {f.id: f for f in flows}
        self.engines = {f.id: Engine(f) for f in self.flows.values()}
        self.invite_ttl = invite_ttl

    @staticmethod
    def _name(repo: Repository, member_id: str) -> str:
        member = repo.member(member_id)
        return member.name if member else member_id
