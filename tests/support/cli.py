"""``sopbot`` run as a process in tests, and the environments it runs in."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

from tests.support.paths import FLOWS_DIR, ROOT

#: The command line that runs sopbot from this checkout.
SOPBOT = [sys.executable, "-m", "bot"]


def run_sopbot(*args: str, env: Mapping[str, str],
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``sopbot ARGS`` as a process in the checkout, its output captured as text."""
    return subprocess.run([*SOPBOT, *args], cwd=ROOT, env=dict(env), capture_output=True,
                          text=True, timeout=timeout)


def env_for(**extra: str) -> dict[str, str]:
    """The test's environment without any sopbot or Telegram setting (nor a platform's
    PORT/DYNO), in English, with the shipped flows; `extra` on top."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "SOPBOT_")) and k not in ("PORT", "DYNO")}
    env.update(SOPBOT_LANGUAGE="en", SOPBOT_FLOWS_DIR=str(FLOWS_DIR))
    env.update(extra)
    return env
