"""Roster files (.xlsx / .csv) in; invitation lists (.xlsx) and QR slips (.pdf / .png) out.

Reading gives plain rows (the row number as the office sees it in the file, and the cells by
column name); the people service validates them. Nothing here knows the bot's records.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("nip", "nama", "sapaan", "unit", "role", "atasan_nip", "telegram")
REQUIRED = ("nip", "nama", "sapaan", "unit", "role")


class RosterFileError(Exception):
    """The file cannot be read as a roster (format, missing columns)."""


@dataclass(frozen=True)
class Row:
    """One row of the roster: its number in the file (the header is row 1) and its cells."""

    no: int
    cells: dict[str, str]


def _clean(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _rows(header: Sequence[object], body: list[tuple[int, Sequence[object]]]) -> list[Row]:
    names = [_clean(h).casefold() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise RosterFileError("missing columns: " + ", ".join(missing))
    rows = []
    for no, values in body:
        cells = {name: _clean(v) for name, v in zip(names, values, strict=False) if name}
        if any(cells.values()):
            rows.append(Row(no, {c: cells.get(c, "") for c in COLUMNS}))
    return rows


def read_roster(path: str | Path) -> list[Row]:
    """The rows of a roster file (.xlsx or .csv; comma or semicolon separated)."""
    path = Path(path)
    suffix = path.suffix.casefold()
    try:
        if suffix == ".xlsx":
            from openpyxl import load_workbook

            sheet = load_workbook(path, read_only=True, data_only=True).active
            if sheet is None:
                raise RosterFileError("the workbook has no sheet")
            values = list(sheet.iter_rows(values_only=True))
        elif suffix == ".csv":
            text = path.read_text(encoding="utf-8-sig")
            dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", ",;")
            values = [tuple(r) for r in csv.reader(text.splitlines(), dialect)]
        else:
            raise RosterFileError("a roster is an .xlsx or .csv file")
    except (OSError, ValueError, csv.Error, KeyError) as exc:
        raise RosterFileError(str(exc)) from exc
    if not values:
        raise RosterFileError("the file is empty")
    return _rows(values[0], [(i + 2, v) for i, v in enumerate(values[1:])])


@dataclass(frozen=True)
class Slip:
    """One official's invitation, as printed or listed."""

    nip: str
    name: str
    role: str  # jabatan, as the flow titles it
    unit: str
    link: str
    expires: str  # "29-11-2026 23:59 WIB"


def write_invitations(path: str | Path, slips: Sequence[Slip], headers: Sequence[str]) -> None:
    """The invitation list as .xlsx: NIP, nama, jabatan, unit, link, valid until (WIB)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(headers))
    for s in slips:
        sheet.append([s.nip, s.name, s.role, s.unit, s.link, s.expires])
    for col, width in zip("ABCDEF", (22, 30, 34, 28, 60, 20), strict=True):
        sheet.column_dimensions[col].width = width
    book.save(str(path))


def write_slips_png(directory: str | Path, slips: Sequence[Slip]) -> list[Path]:
    """One PNG per official: the QR code of their link (named by NIP)."""
    import segno

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for s in slips:
        target = out / f"{s.nip}.png"
        segno.make(s.link, error="m").save(str(target), scale=8, border=4)
        files.append(target)
    return files


def write_slips_pdf(path: str | Path, slips: Sequence[Slip], *, title: str,
                    how: str, until: str) -> None:
    """A printable PDF, four slips to an A4 page: name, NIP, jabatan, QR code, link."""
    import io

    import segno
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    for i, s in enumerate(slips):
        if i % 4 == 0:
            pdf.add_page()
        y = 10 + (i % 4) * 70
        pdf.rect(10, y, 190, 66)
        buf = io.BytesIO()
        segno.make(s.link, error="m").save(buf, kind="png", scale=6, border=2)
        buf.seek(0)
        pdf.image(buf, x=14, y=y + 4, w=56, h=56)
        pdf.set_xy(76, y + 5)
        pdf.set_font("Helvetica", "B", 13)
        pdf.cell(120, 7, _latin(title))
        pdf.set_xy(76, y + 14)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(120, 7, _latin(s.name))
        pdf.set_font("Helvetica", "", 10)
        for k, line in enumerate((f"NIP {s.nip}", s.role, s.unit, f"{until}: {s.expires}")):
            pdf.set_xy(76, y + 22 + 6 * k)
            pdf.cell(120, 6, _latin(line))
        pdf.set_xy(76, y + 48)
        pdf.set_font("Helvetica", "", 8)
        pdf.multi_cell(120, 4, _latin(f"{how}\n{s.link}"))
    pdf.output(str(path))


def _latin(text: str) -> str:
    """The core PDF fonts are Latin-1: keep what they can show."""
    return text.encode("latin-1", "replace").decode("latin-1")
