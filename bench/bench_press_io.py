"""Storage transactions and file rewrites per button press, on the real bot.

Runs the real bot against the fake Bot API (as the tests do), binds two officials of
Kecamatan Neglasari, starts PK, then presses the step buttons of steps 1-4 and counts, for
each press until the bot is idle again (the press handled, the next official notified, the
message edited), how many storage transactions were opened and how many data files were
rewritten (atomic write: temporary file, fsync, rename). Usage::

    python bench/bench_press_io.py
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.engine.loader import load_flows  # noqa: E402
from bot.storage import store as store_module  # noqa: E402

try:  # the fake Bot API left the product package (issue 11); before that it was inside
    from fakeapi import FakeBotApi, FakeUser
except ImportError:
    from bot.fakeapi import FakeBotApi, FakeUser

FLOWS_DIR = ROOT / "flows"
UNIT = "kec-neglasari"
START = datetime(2026, 1, 5, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))  # a Monday morning
#: Fast polling as in the tests, but no periodic reminder sync inside the measurement.
TUNING: dict[str, Any] = dict(rate_limit=False, sender_poll_interval=0.2, http_timeout=2.0,
                              reminder_sync_interval=3600.0)
COUNTS = {"transactions": 0, "rewrites": 0}


def instrument() -> None:
    """Count every Store transaction and every atomic file write."""
    original_tx = store_module.Store.transaction
    original_write = store_module.atomic_write

    @contextlib.contextmanager
    def transaction(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        COUNTS["transactions"] += 1
        with original_tx(self, *args, **kwargs) as repo:
            yield repo

    def atomic_write(path: Path, data: bytes) -> None:
        COUNTS["rewrites"] += 1
        original_write(path, data)

    store_module.Store.transaction = transaction  # type: ignore[method-assign]
    store_module.atomic_write = atomic_write


@contextlib.asynccontextmanager
async def running_bot(api: FakeBotApi, data_dir: Path) -> Any:
    """The bot as `sopbot run` builds it; the services (on a checkout from before
    bot.bootstrap, the old wiring: the bench measures both)."""
    settings = Settings(token=api.token, api_url=api.api_root, data_dir=data_dir,
                        flows_dir=FLOWS_DIR)
    clock = lambda: START  # noqa: E731 - time stands still: no reminder falls due
    try:
        from bot.bootstrap import build_bot, running
    except ImportError:
        from bot.services import Services
        from bot.tg.app import build_application
        from bot.tg.app import running as run_app

        services = Services(store_module.Store(data_dir), load_flows(FLOWS_DIR))
        app = build_application(settings, services, clock=clock, **TUNING)
        async with run_app(app, poll_timeout=1):
            yield services
        return
    bot = build_bot(settings, load_flows(FLOWS_DIR), clock=clock, **TUNING)
    async with running(bot, poll_timeout=1):
        yield bot.services


async def join(api: FakeBotApi, services: Any, user_id: int, name: str,
               role: str) -> FakeUser:
    invite = services.create_invite(unit=UNIT, role=role, now=START, name=name)
    user = api.user(user_id, name, language_code="en")
    user.send_text(f"/start {invite.code}")
    await user.await_message("Welcome")
    return user


async def measure() -> list[tuple[str, int, int]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as api:
        async with running_bot(api, Path(tmp) / "data") as services:
            camat = await join(api, services, 1001, "Pak Camat", "camat")
            perenkeu = await join(api, services, 1002, "Bu Perenkeu", "kasubag_perenkeu")
            camat.send_text("mulai PK 2026")
            await camat.await_message("Started")
            plan = [(camat, "✔️ Selesai"), (perenkeu, "✔️ Selesai"),
                    (perenkeu, "✔️ Selesai"), (camat, "✅ Setujui")]
            for no, (user, label) in enumerate(plan, start=1):
                message = await user.await_message(f"Step {no} of", timeout=10)
                await api.await_idle(idle=0.3, timeout=10)
                before = dict(COUNTS)
                query_id = user.press_button(message, label)
                await api.await_for(lambda q=query_id: api.callback_answer(q),
                                    what=f"answer to {label!r}")
                await api.await_idle(idle=0.3, timeout=10)
                rows.append((f"step {no}: {label}", COUNTS["transactions"]
                             - before["transactions"], COUNTS["rewrites"] - before["rewrites"]))
    return rows


def main() -> None:
    instrument()
    rows = asyncio.run(measure())
    print(f"{'button press':<20} {'transactions':>12} {'file rewrites':>14}")
    for label, tx, rw in rows:
        print(f"{label:<20} {tx:>12} {rw:>14}")
    n = len(rows)
    print(f"{'mean per press':<20} {sum(r[1] for r in rows) / n:>12.1f} "
          f"{sum(r[2] for r in rows) / n:>14.1f}")


if __name__ == "__main__":
    main()
