"""Where things are, and the office time zone the tests use."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent.parent
FLOWS_DIR = ROOT / "flows"
DATA_DIR = ROOT / "tests" / "data"
WIB = ZoneInfo("Asia/Jakarta")
