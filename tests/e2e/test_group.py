"""The bot works in private chats (issue 12): a command in a group gets a pointer to the
private chat, and never re-binds the official's chat."""

from __future__ import annotations

from pathlib import Path

from tests.support.bot import running_bot
from tests.support.chatdriver import is_step
from tests.support.offices import kesbangpol

GROUP = -100555


async def test_a_group_command_points_to_the_private_chat_and_binds_nothing(
        tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        h.api.register_chat(GROUP, type="supergroup", title="Sekretariat")
        bot = h.api.bot_user["username"]
        for text in (f"/tugas@{bot}", "status PK 2025", "setuju"):
            o["kepala"].send_text(text, chat=GROUP)
            answer = await h.api.await_for(
                lambda said=text: next((m for m in h.api.messages(GROUP)
                                        if m.get("reply_to_message", {}).get("text") == said),
                                       None))
            assert answer["text"] == ("Sopbot works in a private chat only. Please write to me "
                                      f"there: https://t.me/{bot}")
        member = h.services.store.read().member(str(o["kepala"].id))
        assert member is not None and member.chat_id == o["kepala"].id
        # later step messages still go to the private chat, never to the group
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        await o["sekretaris"].await_message(is_step(1, 1))
        assert len(h.api.messages(GROUP)) == 3
