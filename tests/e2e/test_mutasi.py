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
