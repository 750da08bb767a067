"""Environments for ``sopbot`` run as a process in tests."""

from __future__ import annotations

import os

from tests.support.paths import FLOWS_DIR


def env_for(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "SOPBOT_"))}
    env.update(SOPBOT_LANGUAGE="en", SOPBOT_FLOWS_DIR=str(FLOWS_DIR))
    env.update(extra)
    return env
