"""The simulated officials of the demo: their names, and what they write and attach."""

from __future__ import annotations

import re

from bot.engine.model import Flow, Step

_ABBREVIATIONS = (
    ("Sekretaris Camat", "Sekcam"),
    ("Kepala Sub Bagian", "Kasubag"),
    ("Kepala Sub Bidang", "Kasubid"),
    ("Kepala Bagian", "Kabag"),
    ("Kepala Bidang", "Kabid"),
    ("Kepala Badan", "Kaban"),
    ("Kepala Seksi", "Kasi"),
    ("Umum dan Kepegawaian", "Umpeg"),
    ("Perencanaan dan Keuangan", "Perenkeu"),
    ("Perjanjian Kinerja", "PK"),
    ("Penyusunan Program", "Program"),
)
HONORIFICS = ("Bu", "Pak")


def short_title(title: str) -> str:
    """How colleagues call the holder of a role: "Sekretaris DPRD (Sekwan)" -> "Sekwan",
    "Sekretaris Camat" -> "Sekcam", "Kasubag TU dan Kepegawaian" -> "Kasubag TU"."""
    paren = re.search(r"\(([^()]+)\)", title)
    if paren and len(paren.group(1).split()) == 1:
        return paren.group(1)
    short = re.sub(r"\s*\([^()]*\)", "", title)
    for long, abbr in _ABBREVIATIONS:
        short = short.replace(long, abbr)
    short = short.split("/")[0].split(",")[0].strip()
    if short.startswith("Tim "):
        short = "Ketua " + short
    if len(short) > 22 and " dan " in short:
        short = short.split(" dan ")[0]
    return short.strip()


def _list_items(title: str) -> list[str]:
    """The jabatan a collective role lists: "Kasi, Kasubag, Lurah dan Staf" -> 4 items;
    "Pejabat Eselon III dan IV" -> "Pejabat Eselon III", "Pejabat Eselon IV"."""
    items: list[str] = []
    for part in re.split(r",|\s+dan\s+", re.sub(r"\s*\([^()]*\)", "", title)):
        item = part.strip()
        if not item:
            continue
        if items and re.fullmatch(r"[IVX]+", item):
            item = items[0].rsplit(" ", 1)[0] + " " + item
        items.append(item)
    return items


def official_names(flow: Flow, holders: dict[str, int]) -> list[tuple[str, str]]:
    """(role id, name) of every simulated official: one per role, or `holders[role]`.

    Names are an honorific and the role's short title ("Bu Camat", "Pak Sekcam"); the holders
    of a collective role take the jabatan it lists ("Bu Kasi", "Pak Lurah").
    """
    roles = [r for r in flow.roles if r.relation is None and not r.external]
    shorts = {r.id: short_title(r.title) for r in roles}
    names: list[tuple[str, str]] = []
    used: set[str] = set()
    for role in roles:
        n = holders.get(role.id, 1)
        titles = [shorts[role.id]]
        if n > 1:
            others = [s for rid, s in shorts.items() if rid != role.id]
            items = [i for i in _list_items(role.title)
                     if not any(o.startswith(i + " ") for o in others)]
            titles = (items[:n] if len(items) >= n
                      else [f"{shorts[role.id]} {i + 1}" for i in range(n)])
        for title in titles:
            name = f"{HONORIFICS[len(names) % 2]} {title}"
            suffix = 2
            while name in used:
                name = f"{HONORIFICS[len(names) % 2]} {title} {suffix}"
                suffix += 1
            used.add(name)
            names.append((role.id, name))
    return names


def revision_reason(step: Step) -> str:
    """A reason an atasan would write when sending this work back."""
    text = f"{step.title} {step.kelengkapan or ''}"
    if "IKI" in text:
        return ("IKI belum sesuai peta jabatan dan uraian tugas; mohon disesuaikan dulu "
                "sebelum ditandatangani.")
    if "Rencana Aksi" in text or "Renaksi" in text:
        return "Target triwulan Rencana Aksi belum selaras dengan IKU; mohon dilengkapi."
    return ("Target IKU belum selaras dengan Renstra dan DPA 2025; mohon sesuaikan angka "
            "target dan sumber datanya.")


def tiny_pdf(text: str) -> bytes:
    """A small but valid one-page PDF showing `text` (for the demo's attachment)."""
    safe = text.encode("latin-1", "replace").decode("latin-1")
    safe = safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 770 Td ({safe}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def holders_per_role(flow: Flow) -> dict[str, int]:
    """Two holders for roles that act in fan-out steps (each must do their part)."""
    if flow.per_official is not None:
        return {}
    return {s.actor: 2 for s in flow.steps if s.fan_out}
