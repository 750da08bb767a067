"""The service tests' world: the real services over one storage backend, no Telegram."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.services import Services, TelegramUser
from bot.services.commands import Join
from bot.storage.protocol import Storage
from bot.storage.records import Member, OutboxItem
from tests.support.paths import WIB

NEGLASARI = "kec-neglasari"
START = datetime(2026, 1, 5, 8, 0, tzinfo=WIB)  # a Monday morning


@dataclass
class World:
    """Services plus a way to bind officials and read what they were sent."""

    services: Services
    store: Storage
    now: datetime = START
    _next_id: int = 100
    people: dict[str, Member] = field(default_factory=dict)

    def join(self, name: str, role: str, unit: str = NEGLASARI,
             atasan: str | None = None) -> Member:
        """An official redeems an invitation for `role` in `unit`."""
        self._next_id += 1
        invite = self.services.create_invite(unit=unit, role=role, now=self.now, name=name,
                                             atasan=atasan)
        user = TelegramUser(id=self._next_id, chat_id=self._next_id, name=name,
                            language_code="en")
        joined = self.services.redeem(Join(invite.code, user, self.now))
        self.people[name] = joined.member
        return joined.member

    def member(self, name: str) -> Member:
        """The official as stored now."""
        with self.store.transaction(record_update=False) as repo:
            found = repo.member(self.people[name].id)
        assert found is not None
        return found

    def outbox(self, name: str, kind: str | None = None) -> list[OutboxItem]:
        """What is owed to `name` (pending), oldest first."""
        member_id = self.people[name].id
        with self.store.transaction(record_update=False) as repo:
            return [i for i in repo.outbox("pending")
                    if i.member_id == member_id and (kind is None or i.kind == kind)]

    def later(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now
