"""Mutasi in chat: the Kasubag is replaced mid-flow; the successor gets the open step and the
flow goes on; the old official's chat is unbound; nothing is lost."""

from __future__ import annotations

from pathlib import Path

from tests.support.bot import running_bot
from tests.support.chatdriver import is_step, step_button_data
from tests.support.people import ROSTER, UNIT, join_roster


async def test_a_kasubag_is_replaced_mid_flow(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        successor_row = ("1006", "Fajar Perenkeu", "Bapak", UNIT, "pejabat_unit_kerja",
                         "1002", "")
        people = await join_roster(h, [*ROSTER, successor_row])
        camat, old, new = (people["Budi Camat"], people["Ani Perenkeu"],
                           people["Fajar Perenkeu"])
        await h.say(camat, "mulai PK 2026", expect="Started")
        first = await camat.await_message(is_step(1, 1), timeout=10)
        await h.press(camat, first, "✔️ Selesai")
        stale = await old.await_message(is_step(2, 1), timeout=10)

        done = h.services.replace_member("1003", "1006", h.clock())  # sopbot members replace
        h.app.bot_data["runtime"].changed()
        assert (done.old, done.new, done.steps) == ("Ani Perenkeu", "Fajar Perenkeu", 1)
        await new.await_message("You take over from Ani Perenkeu", timeout=10)
        handed = await new.await_message(is_step(2, 1), timeout=10)
        await h.press(new, handed, "✔️ Selesai")
        step3 = await new.await_message(is_step(3, 1), timeout=10)  # the role is theirs now
        await h.press(new, step3, "✔️ Selesai")
        await camat.await_message(is_step(4, 1), timeout=10)

        # the old copy of step 2 was settled (its buttons are gone); the old chat is unbound:
        # a press on the old button and a message reach nothing
        assert step_button_data(h.api.message(old.id, stale["message_id"])) == []
        query = old.press(stale, step_button_data(stale)[0], crafted=True)
        answer = await h.answer(query)
        assert "not registered" in answer["text"]
        reply = await h.say(old, "/tugas")
        assert "not registered" in reply["text"]

        repo = h.services.store.read()
        (inst,) = repo.instances(unit=UNIT)
        trail = [(d.step_no, d.member) for d in repo.dispositions(inst.id)
                 if d.action.value != "start"]
        assert trail == [(1, str(camat.id)), (2, str(new.id)), (3, str(new.id))]
        rows = {r.nip: r for r in h.services.member_rows(UNIT, h.clock())}
        assert "1003" not in rows and "kasubag_perenkeu" in rows["1006"].roles


INSPEKTORAT = "inspektorat-nganjuk"
INSPEKTORAT_ROSTER = [
    ("3001", "Iwan Inspektur", "Bapak", INSPEKTORAT, "inspektur", "", ""),
    ("3002", "Sinta Sekretaris", "Ibu", INSPEKTORAT, "sekretaris", "3001", ""),
    ("3003", "Fani Fungsional", "Ibu", INSPEKTORAT, "fungsional", "3002", ""),
    ("3004", "Lukas Eselon", "Bapak", INSPEKTORAT, "pejabat_eselon", "3001", ""),
    ("3005", "Bagus Eselon", "Bapak", INSPEKTORAT, "pejabat_eselon", "3001", "")]


async def test_a_mutasi_offers_the_pk_revision_to_the_sekretaris_in_chat(
        tmp_path: Path) -> None:
    """The Inspektorat's PK declares a step for a change of official (16): after `members
    replace`, the unit's admin (here the Inspektur) and the Sekretaris are asked in chat; the
    admin's Tidak starts nothing, the Sekretaris's Ya starts step 16 with the mutasi as its
    cause, and the Fungsional receives it."""
    async with running_bot(tmp_path) as h:
        people = await join_roster(h, INSPEKTORAT_ROSTER)
        inspektur, sekretaris, fungsional = (people["Iwan Inspektur"],
                                             people["Sinta Sekretaris"],
                                             people["Fani Fungsional"])
        code = h.services.create_invite(unit=INSPEKTORAT, role="inspektur", now=h.clock(),
                                        admin=True).code
        await h.say(inspektur, f"/start {code}", expect="already")
        await h.say(inspektur, "mulai PK 2026", expect="Started")
        first = await inspektur.await_message(is_step(1, 1), timeout=10)
        await h.press(inspektur, first, "✔️ Selesai")

        done = h.services.replace_member("3004", "3005", h.clock())  # sopbot members replace
        h.app.bot_data["runtime"].changed()
        assert done.offered == [("pk-inspektorat-nganjuk", 16)]
        said = "Mutasi: Bagus Eselon takes over from Lukas Eselon"
        offers = {}
        for who in (inspektur, sekretaris):
            offers[who.id] = offer = await who.await_message(said, timeout=10)
            assert "step 16" in offer["text"] and "successor's PK" in offer["text"]
            assert [label for label, _d in h.api.buttons(offer)] == ["Ya", "Tidak"]
        assert not [m for m in h.api.messages(fungsional.id) if said in m["text"]]

        await h.press(inspektur, offers[inspektur.id], "Tidak")
        await h.seen(inspektur, "Not started")
        (inst,) = h.services.store.read().instances(unit=INSPEKTORAT)
        assert inst.active(16) is None

        answer = await h.press(sekretaris, offers[sekretaris.id], "Ya")
        assert answer["text"] == "Started."
        step16 = await fungsional.await_message(is_step(16, 1), timeout=10)
        assert "Mutasi: Bagus Eselon takes over" in step16["text"]
        assert h.services.store.read().instances(unit=INSPEKTORAT)[0].active(16) is not None
        # the offer's buttons go with an edit, sent after the next official's step
        await h.api.await_for(lambda: h.api.buttons(h.api.message(
            sekretaris.id, offers[sekretaris.id]["message_id"])) == [], 10,
            what="the offer's buttons removed")
