"""Neglasari step 8: the Sekcam sends back only the PK of one Kasi/Lurah; the others stay done
with their documents and get no new deadline."""

from __future__ import annotations

from pathlib import Path

from bot.engine.model import Flow
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step
from tests.support.flowops_kit import office, walk

FLOW = "pk-kec-neglasari"
PARTS = ["Bu Kasi Pemerintahan", "Pak Lurah Kedaung", "Bu Staf Umum"]


async def test_sekcam_sends_back_one_part_in_chat(tmp_path: Path,
                                                  all_flows: dict[str, Flow]) -> None:
    flow = all_flows[FLOW]
    async with running_bot(tmp_path) as h:
        people = await office(h, flow, {"pejabat_unit_kerja": PARTS})
        kasi, lurah, staf = people["pejabat_unit_kerja"]
        sekcam = people["sekcam"][0]
        await h.say(people["camat"][0], "mulai PK 2026", expect="Started")
        await walk(h, flow, people, list(range(1, 7)))
        # Step 7: each Kasi/Lurah/staff drafts their own PK; two send it as a document.
        for user in (kasi, lurah):
            step7 = await user.await_message(is_step(7, 1), timeout=10)
            user.send_document(f"pk-{user.first_name}.pdf", b"%PDF-1.4 pk",
                               mime_type="application/pdf", caption="selesai", reply_to=step7)
            await h.seen(user, "Marked done:")
        await walk(h, flow, {"pejabat_unit_kerja": [staf]}, [7])
        # Step 8: Revisi offers the parts, one button per holder plus Semua.
        step8 = await sekcam.await_message(is_step(8, 1), timeout=10)
        await h.press(sekcam, step8, "🔁 Revisi")
        question = await sekcam.await_message("Which part of step 7", timeout=10)
        labels = [label for label, _data in h.api.buttons(question)]
        assert labels == [f"🔁 {name}" for name in PARTS] + ["🔁 Semua"], labels
        await h.press(sekcam, question, f"🔁 {PARTS[0]}")
        ask = await sekcam.await_message("What must Bu Kasi Pemerintahan revise?", timeout=10)
        asked = await h.api.await_for(  # the call is logged once its answer is written
            lambda: [c for c in h.api.calls("sendMessage", ok=True)
                     if c.result and c.result["message_id"] == ask["message_id"]
                     and int(c.params["chat_id"]) == sekcam.id], 5, what="the ForceReply call")
        assert asked[-1].params["reply_markup"].get("force_reply") is True
        sekcam.send_text("Target IKU belum sesuai Renstra", reply_to=ask)
        again = await kasi.await_message(is_step(7, 2), timeout=10)
        assert "Target IKU belum sesuai Renstra" in again["text"]
        # the Sekcam is told what the act means: step 7 (not his step 8) went back
        told = await sekcam.await_message("goes back to", timeout=10)
        assert told["text"].startswith("Sent back for revision: step 7 «"), told["text"]
        await h.idle()
        for other in (lurah, staf):
            assert not [m for m in other.messages() if is_step(7, 2)(m)], other.first_name
        inst = h.services.store.read().instances(unit=flow.unit.id, year=2026)[0]
        assert inst.current is not None and inst.current.pending == [str(kasi.id)]
        assert sorted(inst.current.done) == sorted([str(lurah.id), str(staf.id)])
        assert inst.current.by_member[str(lurah.id)], "the Lurah's document is kept"
        # Only the Kasi redoes hers; the Sekcam then gets both documents again.
        await h.press(kasi, again, "✔️ Selesai")
        step8 = await sekcam.await_message(is_step(8, 2), timeout=10)
        assert "📎 1 attachment follows." in step8["text"], step8["text"]
        # A reply naming the part works too.
        sekcam.send_text(f"revisi {PARTS[1]}: tanda tangan belum lengkap", reply_to=step8)
        third = await lurah.await_message(is_step(7, 3), timeout=10)
        assert "tanda tangan belum lengkap" in third["text"]
        await h.idle()
        assert not [m for m in kasi.messages() if is_step(7, 3)(m)]
        assert not [m for m in staf.messages() if is_step(7, 3)(m)]
