"""Offices the chat tests bind: one official per role."""

from __future__ import annotations

from bot.demo.harness import Harness

UNIT = "kesbangpol-jateng"


async def kesbangpol(h: Harness) -> dict:
    """The Kesbangpol office: one official per role, two Pelaksana."""
    return {
        "kepala": await h.join("Haerudin", UNIT, "kepala"),
        "sekretaris": await h.join("Sekar", UNIT, "sekretaris"),
        "kasubbag": await h.join("Sri", UNIT, "kasubbag_program"),
        "pelaksana": await h.join("Putu", UNIT, "pelaksana"),
        "pelaksana2": await h.join("Pandu", UNIT, "pelaksana"),
        "bidang": await h.join("Bima", UNIT, "bidang"),
    }


def dispositions(h: Harness) -> list:
    repo = h.services.store.read()
    (inst,) = repo.instances(unit=UNIT)
    return repo.dispositions(inst.id)
