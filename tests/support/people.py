"""A roster of Kecamatan Neglasari and its officials joining through their links."""

from __future__ import annotations

from bot.demo.harness import Harness
from fakeapi import FakeUser

HEAD = ("nip", "nama", "sapaan", "unit", "role", "atasan_nip", "telegram")
UNIT = "kec-neglasari"


ROSTER = [("1001", "Budi Camat", "Bapak", UNIT, "camat", "", ""),
          ("1002", "Sri Sekcam", "Ibu", UNIT, "sekcam", "1001", ""),
          ("1003", "Ani Perenkeu", "Ibu", UNIT, "kasubag_perenkeu", "1002", ""),
          ("1004", "Dedi Umpeg", "Bapak", UNIT, "kasubag_umpeg", "1002", ""),
          ("1005", "Eko Perenkeu", "Bapak", UNIT, "pejabat_unit_kerja", "1002", "")]


async def join_roster(h: Harness, roster: list[tuple[str, ...]],
                      admin: str | None = None) -> dict[str, FakeUser]:
    """Import the roster as `sopbot roster import` does; each official opens their link."""
    report = h.services.import_roster([(i + 2, dict(zip(HEAD, r, strict=True)))
                                       for i, r in enumerate(roster)], h.clock())
    assert not report.problems
    users = {}
    for entry, invite in report.invitations:
        user = h.new_user(entry.name, language="en")
        await h.say(user, f"/start {invite.code}", expect="Welcome")
        users[entry.name] = user
    if admin:
        code = h.services.create_invite(unit=UNIT, role="kasubag_umpeg", now=h.clock(),
                                        admin=True).code
        await h.say(users[admin], f"/start {code}", expect="already")
    return users
