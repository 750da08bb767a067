"""The "Tarik kembali" button lives only while its decision can be withdrawn (issue 12).

Any later transition of the instance ends that window (the engine forgets the undo point), so
the transaction that stores it also edits the previous decision's message without the button.
"""

from __future__ import annotations

from datetime import datetime

from bot.engine.instance import Instance
from bot.engine.model import Flow
from bot.services.notices import SettleNotice, encode
from bot.services.outbox import new_item
from bot.storage.protocol import Repository
from bot.storage.records import OutboxItem


def undo_drop_items(repo: Repository, flow: Flow, before: Instance,
                    now: datetime) -> list[OutboxItem]:
    """The edits that drop the previous decision's undo button, for the transaction storing
    the next transition to queue; `before` is the instance as it was before it. The messages
    they edit are final then: their stored text goes."""
    undo = before.undo
    if not undo:
        return []
    step_no, round_no, by = int(undo["step_no"]), int(undo["round"]), undo["by"]
    disp = next((d for d in reversed(repo.dispositions(before.id, before.year))
                 if (d.step_no, d.round, d.member, d.action.value)
                 == (step_no, round_no, by, undo["action"])), None)
    if disp is None:
        return []
    member = repo.member(by)
    items = []
    for msg in repo.step_messages(before.id, step_no, round_no):
        if msg.member_id == by:
            kind, payload = encode(SettleNotice(
                flow_id=flow.id, message_id=msg.message_id, text=msg.text,
                disposition=disp.to_dict(), name=member.name if member else by))
            items.append(new_item(msg.member_id, msg.chat_id, kind, payload, now))
            repo.settle_step_message(msg.chat_id, msg.message_id)  # the last edit: no text kept
    return items
