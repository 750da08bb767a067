"""The oversight unit (Bagian Organisasi Setda) set on a running bot."""

from __future__ import annotations

from bot.demo.harness import Harness
from bot.services.oversight import OversightUnit

SETDA = OversightUnit("setda-jateng", "Bagian Organisasi Setda")


def with_oversight(h: Harness) -> None:
    """As SOPBOT_OVERSIGHT_UNIT=setda-jateng declares it (bootstrap.build_services)."""
    h.services.oversight = SETDA
