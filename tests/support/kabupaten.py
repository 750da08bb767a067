"""A kabupaten's roster: 1,000 officials across 30 units (for the scale test and its bench).

The five shipped flows have five units, so the 30 units are generated: 30 copies of the DPRD
PDK flow, each its own unit (unit-00 … unit-29). Per unit a Sekwan, 3 Kabag, 9 Kasubag and
20-21 Staf; each row names the official's atasan by NIP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from bot.demo.harness import Harness
from bot.storage.records import Invite, RosterEntry
from fakeapi import FakeUser
from tests.support.paths import FLOWS_DIR

PDK = FLOWS_DIR / "pengumpulan-data-kinerja-dprd-nganjuk.yaml"
HEAD = ("nip", "nama", "sapaan", "unit", "role", "atasan_nip", "telegram")


def thirty_units(directory: Path) -> Path:
    """Write the 30 generated flows (one unit each) into `directory`."""
    src = PDK.read_text(encoding="utf-8")
    directory.mkdir()
    for i in range(30):
        (directory / f"pdk-{i:02d}.yaml").write_text(
            src.replace("id: pengumpulan-data-kinerja-dprd-nganjuk", f"id: pdk-{i:02d}")
            .replace("id: setwan-nganjuk", f"id: unit-{i:02d}"), encoding="utf-8")
    return directory


def kabupaten() -> list[tuple[str, ...]]:
    """1,000 officials: per unit a Sekwan, 3 Kabag, 9 Kasubag and 20-21 Staf."""
    rows: list[tuple[str, ...]] = []
    for u in range(30):
        unit, head = f"unit-{u:02d}", f"19700{u:02d}0000"
        rows.append((head, f"Sekwan {u}", "Bapak", unit, "sekwan", "", ""))
        kabag = [f"19701{u:02d}{k:04d}" for k in range(3)]
        kasubag = [f"19702{u:02d}{k:04d}" for k in range(9)]
        rows += [(k, f"Kabag {k}", "Ibu", unit, "Kepala Bagian (Kabag)", head, "")
                 for k in kabag]
        rows += [(k, f"Kasubag {k}", "Bapak", unit, "kasubag", kabag[j % 3], "")
                 for j, k in enumerate(kasubag)]
        staf = 21 if u < 10 else 20
        rows += [(f"19703{u:02d}{j:04d}", f"Staf {u}-{j}", "Ibu", unit, "staf",
                  kasubag[j % 9], f"@staf_{u}_{j}") for j in range(staf)]
    assert len(rows) == 1000
    return rows


def numbered(rows: list[tuple[str, ...]]) -> list[tuple[int, dict[str, str]]]:
    """The rows as a roster file's reader gives them (row 1 is the header)."""
    return [(i + 2, dict(zip(HEAD, r, strict=True))) for i, r in enumerate(rows)]


async def join_all(h: Harness, invitations: Sequence[tuple[RosterEntry, Invite]], *,
                   timeout: float) -> dict[str, FakeUser]:
    """Every official opens their link at once (each from their own chat, as 1,000 phones
    would); returns NIP -> user once every chat has its welcome (within `timeout` s)."""
    users: dict[str, FakeUser] = {}
    for entry, invite in invitations:
        users[entry.nip] = user = h.new_user(entry.name, language="en")
        user.send_text(f"/start {invite.code}")
    chats = {u.id for u in users.values()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        welcomed = {m["chat"]["id"] for m in h.api.messages(None)
                    if (m.get("text") or "").startswith("Welcome")} & chats
        if len(welcomed) == len(chats):
            return users
        assert loop.time() < deadline, (
            f"{len(welcomed)} of {len(chats)} officials bound within {timeout} s")
        await asyncio.sleep(0.5)
