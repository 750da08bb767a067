"""A kabupaten joins: 1,000 officials across 30 units bind through their links in chat.

Imports the roster (1,000 rows, 30 generated units) into the real bot running against the
fake Bot API, then every official sends ``/start <code>`` from their own chat at once (the
poller handles chats concurrently) and the bench waits until every chat has its welcome.
Prints the import time, the time until all are bound and the storage transactions and file
rewrites per /start; with ``--profile`` the cProfile of the service calls (run in worker
threads) sorted by cumulative time; with ``--prebind N`` the first N officials are bound
through the services first and only the rest join in chat (timed and profiled with a full
roster). Usage::

    python bench/bench_roster_join.py [--officials 1000] [--profile] [--prebind 990]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.demo.harness import live_bot  # noqa: E402
from bot.engine.loader import load_flows  # noqa: E402
from bot.services import TelegramUser  # noqa: E402
from bot.storage import store as store_module  # noqa: E402
from tests.support.kabupaten import join_all, kabupaten, numbered, thirty_units  # noqa: E402

COUNTS = {"transactions": 0, "rewrites": 0}
PROFILES: list[cProfile.Profile] = []
PROFILING = [False]


def instrument(profile: bool) -> None:
    """Count Store transactions and atomic writes; profile each worker-thread call."""
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
    if not profile:
        return
    lock = threading.Lock()
    to_thread = asyncio.to_thread

    async def profiled(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        def call() -> Any:
            if not PROFILING[0]:
                return func(*args, **kwargs)
            p = cProfile.Profile()
            p.enable()
            try:
                return func(*args, **kwargs)
            finally:
                p.disable()
                with lock:
                    PROFILES.append(p)
        return await to_thread(call)

    asyncio.to_thread = profiled


async def main(officials: int, profile: bool, prebind: int) -> None:
    instrument(profile)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        flows = load_flows(thirty_units(base / "flows"))
        rows = kabupaten()[:officials]
        async with live_bot(flows, base / "data", flows_dir=base, language="en",
                            reminder_sync_interval=300.0, http_timeout=5.0) as h:
            began = time.perf_counter()
            report = await asyncio.to_thread(h.services.import_roster, numbered(rows),
                                             h.clock())
            imported = time.perf_counter() - began
            size = sum(f.stat().st_size for f in (base / "data").glob("sopbot.j*"))
            print(f"import: {len(rows)} officials in {imported:.2f} s "
                  f"(data file and journal {size / 1024:.0f} KiB)")
            invitations = report.invitations[prebind:]
            for i, (_entry, invite) in enumerate(report.invitations[:prebind]):
                user = TelegramUser(id=10**6 + i, chat_id=10**6 + i, name="x",
                                    language_code="en")
                await asyncio.to_thread(h.services.redeem, invite.code, user, h.clock())
            if prebind:
                print(f"bound {prebind} officials directly (no chat) first")
            await h.settle(600)
            COUNTS.update(transactions=0, rewrites=0)
            PROFILES.clear()
            PROFILING[0] = True
            began = time.perf_counter()
            await join_all(h, invitations, timeout=3600)
            took = time.perf_counter() - began
            PROFILING[0] = False
            n = len(invitations)
            print(f"bound: {n} officials through /start in {took:.1f} s "
                  f"({took / n * 1000:.0f} ms each); per /start "
                  f"{COUNTS['transactions'] / n:.1f} transactions, "
                  f"{COUNTS['rewrites'] / n:.1f} file rewrites")
    if PROFILES:
        stats = pstats.Stats(PROFILES[0])
        for p in PROFILES[1:]:
            stats.add(p)
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats("cumulative").print_stats(30)
        print(out.getvalue())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--officials", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--prebind", type=int, default=0,
                        help="bind this many first through the services (no chat), so that "
                             "the rest are timed and profiled with a full roster")
    args = parser.parse_args()
    asyncio.run(main(args.officials, args.profile, args.prebind))
