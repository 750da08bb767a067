"""A first run in chat: join, start PK, decide, status."""

from __future__ import annotations

from pathlib import Path

from tests.botharness import running_bot


async def test_kesbangpol_first_steps(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        kepala = await h.join("Haerudin", "kesbangpol-jateng", "kepala")
        kasubbag = await h.join("Sri", "kesbangpol-jateng", "kasubbag_program")
        answer = await h.say(kepala, "mulai PK 2025")
        print(answer["text"])
        step1 = await h.step_message(kepala, "Memerintahkan")
        print(step1["text"], h.api.buttons(step1))
        ans = await h.press(kepala, step1, "✔️ Selesai")
        print(ans)
        step2 = await h.step_message(kasubbag, "Membuat format")
        print(step2["text"])
        st = await h.say(kepala, "status pk 2025")
        print(st["text"])
