"""Moving the bot's clock and waiting for what falls due then."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.demo.harness import Harness
from fakeapi import FakeUser
from tests.support.chatdriver import texts
from tests.support.paths import WIB

SETTLE = 0.6  # seconds of real time for the scheduler's sync (every 0.2 s) to act


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)


async def at(h: Harness, when: datetime) -> None:
    """Move the office clock and let the scheduler catch up."""
    h.clock.now = when
    await asyncio.sleep(SETTLE)


async def arrives_exactly_at(h: Harness, user: FakeUser, marker: str, when: datetime,
                             *, count: int = 1) -> list[str]:
    """Nothing with `marker` a minute before `when`; `count` new ones at `when`."""
    before = len(texts(h.api, user, marker))
    await at(h, when - timedelta(minutes=1))
    assert len(texts(h.api, user, marker)) == before, f"{marker!r} came before {when}"
    await at(h, when)
    await h.api.await_for(lambda: len(texts(h.api, user, marker)) >= before + count,
                          what=f"{count} × {marker!r} for {user.first_name} at {when}")
    new = texts(h.api, user, marker)[before:]
    assert len(new) == count, new
    return new
