"""Storage transactions, file rewrites and journal lines per button press, on the real bot.

Runs the real bot against the fake Bot API (as the tests do), binds two officials of
Kecamatan Neglasari, starts PK, then presses the step buttons of steps 1-4 and counts, for
each press until the bot is idle again (the press handled, the next official notified, the
message edited), how many storage transactions were opened and how many data files were
rewritten (atomic write: temporary file, fsync, rename) or read and parsed (the store keeps
the parsed working set between transactions: a transaction reads the file only when another
process wrote it). Usage::

    python bench/bench_press_io.py
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import threading
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
COUNTS = {"transactions": 0, "rewrites": 0, "reads": 0, "delivery_tx": 0,
          "delivery_rewrites": 0, "bytes": 0, "tables": 0}
_DELIVERY = threading.local()  # set while the sender's bookkeeping (outbox_*) runs


def instrument() -> None:
    """Count every Store transaction and every atomic file write."""
    original_tx = store_module.Store.transaction
    original_write = store_module.atomic_write
    original_read = store_module.read_json_file

    def read_json_file(path: Path) -> Any:
        COUNTS["reads"] += 1
        return original_read(path)

    @contextlib.contextmanager
    def transaction(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        COUNTS["transactions"] += 1
        COUNTS["delivery_tx"] += getattr(_DELIVERY, "on", False)
        with original_tx(self, *args, **kwargs) as repo:
            yield repo

    def atomic_write(path: Path, data: bytes) -> None:
        COUNTS["rewrites"] += 1
        COUNTS["bytes"] += len(data)
        COUNTS["delivery_rewrites"] += getattr(_DELIVERY, "on", False)
        original_write(path, data)

    journal_module = getattr(store_module, "journal", None)
    if journal_module is not None:  # since issue 15: a transaction appends to a journal
        original_append = journal_module.append

        def append(path: Path, line: bytes, stamp: str) -> int:
            COUNTS["tables"] += 1
            COUNTS["bytes"] += len(line)
            return original_append(path, line, stamp)

        journal_module.append = append

    store_module.Store.transaction = transaction  # type: ignore[method-assign]
    store_module.atomic_write = atomic_write
    store_module.read_json_file = read_json_file
    from bot.services.outbox import OutboxService

    for name, method in [(n, m) for n, m in vars(OutboxService).items()
                         if n.startswith("outbox_")]:
        def delivery(*a: Any, _f: Any = method, **k: Any) -> Any:
            _DELIVERY.on = True
            try:
                return _f(*a, **k)
            finally:
                _DELIVERY.on = False

        setattr(OutboxService, name, delivery)


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


async def measure() -> list[tuple[str, int, int, int, int, int, int, int]]:
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
                d = {k: COUNTS[k] - before[k] for k in COUNTS}
                rows.append((f"step {no}: {label}", d["transactions"] - d["delivery_tx"],
                             d["rewrites"] - d["delivery_rewrites"], d["delivery_tx"],
                             d["delivery_rewrites"], d["reads"], d["tables"], d["bytes"]))
    return rows


def main() -> None:
    instrument()
    rows = asyncio.run(measure())
    print(f"{'':<20} {'handling the update':>21} {'delivery bookkeeping':>22} "
          f"{'all':>36}")
    print(f"{'button press':<20} {'transactions':>12} {'rewrites':>8} {'transactions':>13} "
          f"{'rewrites':>8} {'file reads':>12} {'journal lines':>14} {'KB written':>10}")
    for label, *row in rows:
        print(f"{label:<20} {row[0]:>12} {row[1]:>8} {row[2]:>13} {row[3]:>8} {row[4]:>12} "
              f"{row[5]:>14} {row[6] / 1024:>10.1f}")
    n = len(rows)
    means = [sum(r[i] for r in rows) / n for i in range(1, 8)]
    print(f"{'mean per press':<20} {means[0]:>12.1f} {means[1]:>8.1f} {means[2]:>13.1f} "
          f"{means[3]:>8.1f} {means[4]:>12.1f} {means[5]:>14.1f} {means[6] / 1024:>10.1f}")
    print("(a rewrite writes the whole working set afresh, fsynced; since issue 15 a "
          "transaction appends one journal line of what it changed, fsynced, and the file "
          "is rewritten only when the journal outgrows it)")


if __name__ == "__main__":
    main()
