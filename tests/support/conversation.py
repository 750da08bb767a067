"""The Kesbangpol office up to the Kaban's step 9, for the conversation and undo tests."""

from __future__ import annotations

from typing import Any

from bot.demo.harness import Harness
from tests.support.chatdriver import is_step
from tests.support.offices import UNIT

JSON = dict[str, Any]


async def to_step_9(h: Harness, o: dict) -> JSON:
    """Start PK 2025 and finish steps 1..8 by button: step 9 (Sekretaris decides) waits."""
    await h.say(o["kepala"], "mulai PK 2025", expect="Started")
    for no, who in ((1, "sekretaris"), (2, "kasubbag"), (3, "bidang"), (4, "pelaksana"),
                    (5, "pelaksana"), (6, "bidang"), (7, "pelaksana"), (8, "kasubbag")):
        m = await o[who].await_message(is_step(no, 1))
        await h.press(o[who], m, "✔️ Selesai")
    return await o["sekretaris"].await_message(is_step(9, 1))


def current(h: Harness) -> int:
    return h.services.store.read().instances(unit=UNIT)[0].current.no
