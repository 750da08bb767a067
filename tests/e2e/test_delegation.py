"""Plt/Plh in chat: the Camat is away, the Sekcam (Plh) receives and decides, the trail says
"Plh.", and when the period ends the Camat's role — and the next step — come back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.demo.harness import Harness
from fakeapi import FakeUser
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step
from tests.support.people import ROSTER, UNIT, join_roster

HEAD = ("nip", "nama", "sapaan", "unit", "role", "atasan_nip", "telegram")




async def decide(h: Harness, user: FakeUser, no: int, label: str) -> dict[str, Any]:
    message = await user.await_message(is_step(no, 1), timeout=10)
    await h.press(user, message, label)
    return message


async def test_a_plh_decides_while_the_camat_is_away(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        people = await join_roster(h, ROSTER, admin="Dedi Umpeg")
        camat, sekcam, perenkeu = (people["Budi Camat"], people["Sri Sekcam"],
                                   people["Ani Perenkeu"])
        await h.say(camat, "mulai PK 2026", expect="Started")
        await decide(h, camat, 1, "✔️ Selesai")
        await decide(h, perenkeu, 2, "✔️ Selesai")
        await decide(h, perenkeu, 3, "✔️ Selesai")
        await camat.await_message(is_step(4, 1), timeout=10)  # the Camat's approval waits

        # The Camat goes on dinas luar: Sri is Plh. Camat for two days (as the CLI does it)
        h.services.delegate(unit=UNIT, role="camat", to_nip="1002", start=h.clock(),
                            until=h.clock() + timedelta(days=2), kind="plh", now=h.clock())
        h.app.bot_data["runtime"].changed()
        told = await sekcam.await_message("acts for Budi Camat", timeout=10)
        assert told["text"].startswith("Plh. Camat: Sri Sekcam acts for Budi Camat until")
        await camat.await_message("acts for Budi Camat", timeout=10)
        # the waiting approval moved to the Plh, with its buttons
        moved = await decide(h, sekcam, 4, "✅ Setujui")
        settled = await h.api.await_for(
            lambda: next((m for m in h.api.messages(sekcam.id)
                          if m["message_id"] == moved["message_id"]
                          and "Plh. Camat — Sri Sekcam" in m["text"]), None), 10,
            what="the settled step naming the Plh")
        assert "Approved by Plh. Camat — Sri Sekcam" in settled["text"]
        # the next step of the Camat's role (5) is activated during the period: to the Plh
        await sekcam.await_message(is_step(5, 1), timeout=10)
        status = await h.say(camat, "status PK 2026", expect="📊")
        assert "Plh. Camat — Sri Sekcam" in status["text"]
        admin_view = await h.say(people["Dedi Umpeg"], "/anggota", expect="Members of")
        assert "Plh. Camat for Budi Camat" in admin_view["text"]
        refused = await h.say(sekcam, "/anggota")
        assert refused["text"] == "Only the unit's admin sees the member list."

        # the period ends: the periodic check returns the role, both are told, and the
        # waiting step goes back to the Camat
        h.clock.advance(timedelta(days=2, minutes=1))
        await camat.await_message("is back with Budi Camat", timeout=10)
        await sekcam.await_message("is back with Budi Camat", timeout=10)
        back = await camat.await_message(is_step(5, 1), timeout=10)
        await h.press(camat, back, "✔️ Selesai")
        await people["Dedi Umpeg"].await_message(is_step(6, 1), timeout=10)
        repo = h.services.store.read()
        (inst,) = repo.instances(unit=UNIT)
        trail = [(d.step_no, d.member, d.acting_for, d.acting_kind)
                 for d in repo.dispositions(inst.id) if d.step_no in (4, 5)]
        assert trail == [(4, str(sekcam.id), str(camat.id), "plh"),
                         (5, str(camat.id), None, None)]


async def test_the_holder_delegates_in_chat_with_buttons(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        people = await join_roster(h, ROSTER)
        camat = people["Budi Camat"]
        ask = await h.say(camat, "/delegasi", expect="Which role")
        await h.press(camat, ask, "Camat")
        who = await camat.await_message("Who acts as Plh. Camat?")
        await h.press(camat, who, "Sri Sekcam")
        days = await camat.await_message("For how long")
        await h.press(camat, days, "3 days")
        done = await camat.await_message("Done:")
        assert "Sri Sekcam is Plh. Camat until" in done["text"]
        await people["Sri Sekcam"].await_message("acts for Budi Camat", timeout=10)
        (d,) = h.services.delegations_list(h.clock())
        assert (d.kind, d.state, d.until - d.start) == ("plh", "active", timedelta(days=3))
        nothing = await h.say(people["Ani Perenkeu"], "/delegasi")
        assert nothing["text"] == "You hold no role that is handed to a Plt/Plh."


async def test_anggota_and_delegasi_are_in_the_command_menu_in_each_language(
        tmp_path: Path) -> None:
    """setMyCommands registers /anggota and /delegasi with a description per language."""
    async with running_bot(tmp_path) as h:
        await h.idle()
        menus = {lang: {c["command"]: c["description"]
                        for c in h.api.commands("default", language_code=lang)}
                 for lang in ("id", "en")}
        assert menus["id"]["anggota"] == "pejabat unit, yang belum bergabung, dan delegasi (admin)"
        assert menus["id"]["delegasi"] == ("serahkan jabatan saya kepada Plh selama saya "
                                           "berhalangan")
        assert menus["en"]["delegasi"] == "hand my role to a Plh while I am away"
        default = [c["command"] for c in h.api.commands("default")]
        assert {"anggota", "delegasi"} <= set(default) and default[-3:] == [
            "batal", "bahasa", "bantuan"]


SETWAN = "setwan-nganjuk"
SETWAN_ROSTER = [("2001", "Djoko Sekwan", "Bapak", SETWAN, "sekwan", "", ""),
                 ("2002", "Kabag Umum", "Ibu", SETWAN, "kabag", "2001", ""),
                 ("2003", "Kasubag Satu", "Bapak", SETWAN, "kasubag", "2002", ""),
                 ("2004", "Kasubag Dua", "Bapak", SETWAN, "kasubag", "2002", ""),
                 ("2005", "Staf Satu", "Ibu", SETWAN, "staf", "2003", ""),
                 ("2006", "Arsiparis TU", "Ibu", SETWAN, "kasubag_tu", "2002", "")]


async def test_an_atasan_hands_the_pdk_approvals_to_a_plh_in_chat(tmp_path: Path) -> None:
    """Kasubag Satu (Staf Satu's atasan in the roster) is away: with /delegasi he makes
    Kasubag Dua his Plh; the PDK started meanwhile sends Staf Satu's approval to the Plh,
    whose decision records the acting capacity."""
    async with running_bot(tmp_path) as h:
        people = await join_roster(h, SETWAN_ROSTER)
        satu, dua, staf = (people["Kasubag Satu"], people["Kasubag Dua"],
                           people["Staf Satu"])
        ask = await h.say(satu, "/delegasi", expect="Which role")
        await h.press(satu, ask, "Atasan langsung")
        who = await satu.await_message("Who acts as Plh. Atasan langsung?")
        await h.press(satu, who, "Kasubag Dua")
        days = await satu.await_message("For how long")
        await h.press(satu, days, "2 days")
        done = await satu.await_message("Done:")
        assert "Kasubag Dua is Plh. Atasan langsung until" in done["text"]
        await dua.await_message("acts for Kasubag Satu", timeout=10)

        await h.say(people["Arsiparis TU"], "mulai PDK 2026", expect="Started")
        first = await staf.await_message(is_step(1, 1), timeout=10)
        await h.press(staf, first, "✔️ Selesai")
        approval = await dua.await_message(is_step(2, 1), timeout=10)  # the Plh's, not Satu's
        assert "Staf Satu" in approval["text"]
        await h.press(dua, approval, 1)
        repo = h.services.store.read()
        inst = next(i for i in repo.instances(unit=SETWAN) if i.subject == str(staf.id))
        decided = [d for d in repo.dispositions(inst.id) if d.step_no == 2]
        assert decided[0].member == str(dua.id) and decided[0].acting_kind == "plh"
        assert decided[0].acting_for == str(satu.id)
        assert not [m for m in h.api.messages(satu.id) if is_step(2, 1)(m)]
