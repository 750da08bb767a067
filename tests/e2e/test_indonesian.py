"""Indonesian is the default: what an Indonesian official actually reads."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.support.bot import running_bot
from tests.support.chatdriver import is_step

UNIT = "kec-neglasari"


async def test_an_indonesian_office_in_its_own_language(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        camat = await h.join("Andhika", UNIT, "camat", language="id")
        perenkeu = await h.join("Rina", UNIT, "kasubag_perenkeu", language="id")
        sekcam = await h.join("Sekcam", UNIT, "sekcam", language="id")
        welcome = h.api.messages(camat.id)[0]["text"]
        assert welcome.startswith("Selamat datang, Andhika. Bapak/Ibu kini terdaftar sebagai Camat "
                                  "di Kecamatan Neglasari.")
        answer = await h.say(camat, "mulai PK 2025", expect="Penyusunan Perjanjian Kinerja")
        step1 = await camat.await_message(is_step(1, 1))
        text = step1["text"]
        assert "Langkah 1 dari 9" in text
        assert "▶️ Memerintahkan penyusunan Perjanjian Kinerja tingkat OPD" in text
        assert "Batas waktu: Senin, 5 Januari 2026 pukul 08.10 WIB (waktu baku 10 Menit)" in text
        assert [b for b, _ in h.api.buttons(step1)] == ["✔️ Selesai", "ℹ️ Rincian"]
        await h.press(camat, step1, "✔️ Selesai")
        step2 = await perenkeu.await_message(is_step(2, 1))
        perenkeu.send_text("selesai", reply_to=step2)
        await h.seen(perenkeu, "Terima kasih. Langkah «Membuat format")
        step3 = await perenkeu.await_message(is_step(3, 1))
        await h.press(perenkeu, step3, "✔️ Selesai")
        step4 = await camat.await_message(is_step(4, 1))
        assert [b for b, _ in h.api.buttons(step4)] == ["✅ Setujui", "🔁 Revisi", "ℹ️ Rincian"]
        camat.send_text("revisi: IKU belum memuat target kecamatan", reply_to=step4)
        await h.seen(camat, "Dikembalikan untuk revisi")
        back = await perenkeu.await_message(is_step(3, 2))
        assert "IKU belum memuat target kecamatan" in back["text"]
        h.clock.advance(timedelta(days=1))
        status = await h.say(sekcam, "status pk 2025", expect="📊")
        assert "Progres: 2 dari 9 langkah selesai." in status["text"], status["text"]
        assert "terlambat" in status["text"]
        assert answer["text"]


async def test_thanks_are_answered_in_kind_and_decide_nothing(tmp_path: Path) -> None:
    """ "terimakasih pak" (one word) once got no answer at all (reading it recursed); thanks
    are now answered with a short "Sama-sama", not the whole help, and decide nothing."""
    async with running_bot(tmp_path) as h:
        camat = await h.join("Andhika", UNIT, "camat", language="id")
        await h.say(camat, "mulai PK 2025", expect="Penyusunan Perjanjian Kinerja")
        await camat.await_message(is_step(1, 1))
        for thanks in ("terimakasih pak", "Terima kasih bu 🙏", "matur nuwun",
                       "makasih ya pak"):
            answer = await h.say(camat, thanks, expect="Sama-sama")
            assert answer["text"] == "Sama-sama, Bapak/Ibu 🙏", (thanks, answer["text"])
        help_text = await h.say(camat, "halo apa kabar", expect="Yang dapat")
        assert "/tugas" in help_text["text"]  # anything else still gets the help
        status = await h.say(camat, "status PK 2025", expect="📊")
        assert "Progres: 0 dari 9 langkah selesai." in status["text"], status["text"]


async def test_a_task_taken_on_is_answered_briefly_and_records_nothing(tmp_path: Path) -> None:
    """Seen in the demo: the official whose step had just arrived wrote "siap bu, sy
    kerjakan dl ya" and got the whole help text. A task taken on is now answered with one
    line pointing to /tugas, and it completes nothing; "sudah sy kerjakan" is still read
    as a completion, which the bot asks about first."""
    async with running_bot(tmp_path) as h:
        camat = await h.join("Andhika", UNIT, "camat", language="id")
        await h.say(camat, "mulai PK 2025", expect="Penyusunan Perjanjian Kinerja")
        await camat.await_message(is_step(1, 1))
        # (the third, without "dulu", was asked "do you declare step 1 done?" in the demo)
        for taken in ("siap bu, sy kerjakan dl ya", "noted pak, segera sy proses",
                      "siap bu sy kerjakan", "siap pak, sy susun formatnya dl"):
            answer = await h.say(camat, taken, expect="Baik")
            assert answer["text"] == (
                "Baik, Bapak/Ibu 🙏 /tugas menampilkan langkah yang menunggu Bapak/Ibu."), \
                answer["text"]
        status = await h.say(camat, "status PK 2025", expect="📊")
        assert "Progres: 0 dari 9 langkah selesai." in status["text"], status["text"]
        done = await h.say(camat, "sudah sy kerjakan bu", expect="langkah")
        assert done["text"].startswith("Apakah Bapak/Ibu menyatakan langkah 1"), done["text"]
