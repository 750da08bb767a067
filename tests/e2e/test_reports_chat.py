"""Reports in chat: /ekspor and /monev (xlsx documents read back with openpyxl), /grafik and
/bagan (PNG photos), who may ask for them, and what a bad request gets."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from PIL import Image

from bot.demo.harness import Harness
from fakeapi import FakeUser
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step
from tests.support.oversight import SETDA, with_oversight

UNIT = "kesbangpol-jateng"


async def download(h: Harness, file_id: str) -> bytes:
    """The file as the official's Telegram would fetch it (getFile, then the download)."""
    file = await h.app.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


async def played(h: Harness) -> dict[str, FakeUser]:
    """Kesbangpol's PK 2026: step 1 done, step 2 done late, step 3 sent back by nobody yet."""
    o = {
        "kepala": await h.join("Haerudin", UNIT, "kepala"),
        "sekretaris": await h.join("Sekar", UNIT, "sekretaris"),
        "kasubbag": await h.join("Sri", UNIT, "kasubbag_program"),
        "bidang": await h.join("Bima", UNIT, "bidang"),
    }
    await h.say(o["kepala"], "mulai PK 2026 DPA 02-01-2026", expect="Started")
    m1 = await o["sekretaris"].await_message(is_step(1, 1))
    await h.press(o["sekretaris"], m1, "✔️ Selesai")
    m2 = await o["kasubbag"].await_message(is_step(2, 1))
    h.clock.advance(timedelta(hours=3))  # 2 Jam: an hour late
    await h.press(o["kasubbag"], m2, "✔️ Selesai")
    await o["bidang"].await_message(is_step(3, 1))
    return o


async def test_export_and_monev_arrive_as_workbooks(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        with_oversight(h)
        o = await played(h)
        answer = await h.say(o["sekretaris"], "/ekspor PK 2026",
                             expect=lambda m: "document" in m)
        doc = answer["document"]
        assert doc["file_name"] == "ekspor-PK-2026.xlsx"
        assert answer["caption"] == "3 dispositions"
        wb = load_workbook(io.BytesIO(await download(h, doc["file_id"])))
        ws = wb.worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
        assert len(rows) == 1 + 3  # the header, then start, step 1, step 2
        header = rows[0]
        assert header[:4] == ("Unit", "Flow", "Year", "Step")
        got = [dict(zip(header, r, strict=True)) for r in rows[1:]]
        pick = ("Step", "Official", "Action", "Step started", "Decided",
                "Mutu baku (working minutes)", "Actual working time (minutes)", "Late")
        assert [tuple(r[k] for k in pick) for r in got] == [
            (1, "Haerudin", "Started", datetime(2026, 1, 5, 8), datetime(2026, 1, 5, 8),
             None, None, None),
            (1, "Sekar", "Done", datetime(2026, 1, 5, 8), datetime(2026, 1, 5, 8),
             10, 0, "No"),
            (2, "Sri", "Done", datetime(2026, 1, 5, 8), datetime(2026, 1, 5, 11),
             120, 180, "Yes"),  # the 2 Jam step took three working hours: late
        ]
        assert {r["Unit"] for r in got} == {"Badan Kesatuan Bangsa dan Politik Provinsi Jawa "
                                            "Tengah"}
        assert ws.freeze_panes == "A2"
        assert len(wb.worksheets) == 2  # and the statistics of the flow

        monev = await h.say(o["sekretaris"], "/monev PK 2026",
                            expect=lambda m: "document" in m)
        assert monev["document"]["file_name"] == f"monev-PK-2026-{UNIT}.xlsx"
        form = load_workbook(io.BytesIO(await download(h, monev["document"]["file_id"])))
        lines = {row[0]: row for row in form.worksheets[0].iter_rows(values_only=True)
                 if isinstance(row[0], int)}
        assert len(lines) == 13
        assert lines[1][5:9] == ("Ran as written", "Yes", "Yes", "Yes")
        assert lines[2][5:10] == ("Did not run as written", "Yes", "No", "Yes",
                                  "late 1 time; median 3 h against a standard of 2 h")
        assert lines[3][5] == "Not run in this period"

        # the oversight unit gets every unit; a Kepala (not Sekretaris) is refused politely
        inspektur = await h.join("Ir. Wahyu", SETDA.id, "inspektorat")
        whole = await h.say(inspektur, "/ekspor PK 2026", expect=lambda m: "document" in m)
        assert whole["caption"] == "3 dispositions"
        refused = await h.say(o["kepala"], "/ekspor PK 2026", expect="Sorry")
        assert refused["text"] == ("Sorry, this report is for the unit's Sekretaris and the "
                                   "oversight officials.")
        several = await h.say(inspektur, "/monev PK 2026", expect="several")
        assert "several" in several["text"] and "kec-sooko" in several["text"]
        bad = await h.say(o["sekretaris"], "/ekspor PK", expect="write")
        assert bad["text"] == "Please write the flow and the year, e.g. \"/ekspor PK 2025\"."


async def test_pictures_arrive_as_photos(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        o = await played(h)
        answer = await h.say(o["bidang"], "/grafik PK 2026", expect=lambda m: "photo" in m)
        assert answer["caption"].startswith("PK 2026 — Badan Kesatuan Bangsa dan Politik")
        png = await download(h, answer["photo"][-1]["file_id"])
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.width > 600
        (tmp_path / "grafik.png").write_bytes(png)

        chart = await h.say(o["bidang"], "/bagan PK 2026", expect=lambda m: "photo" in m)
        assert chart["caption"].startswith("PK — Penyusunan Perjanjian Kinerja")
        png = await download(h, chart["photo"][-1]["file_id"])
        assert Image.open(io.BytesIO(png)).format == "PNG"
        (tmp_path / "bagan.png").write_bytes(png)
        plain = await h.say(o["bidang"], "/bagan PK", expect=lambda m: "photo" in m)
        assert plain["photo"][-1]["file_size"] != chart["photo"][-1]["file_size"]  # no highlight

        later = await h.say(o["bidang"], "/grafik PK 2031", expect="2031")
        assert later["text"] == ("PK 2031 has not been started. Please start it with \"mulai PK "
                                 "2031\".")
        unknown = await h.say(o["bidang"], "/bagan RENSTRA", expect="RENSTRA")
        assert "no flow 'RENSTRA'" in unknown["text"]
