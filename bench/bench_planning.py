"""Reminder planning and firing at N officials (the per-official procedure, TinyDB store).

N officials of the DPRD Nganjuk secretariat (staf, one kasubag as their atasan) owe the
triwulan and semester duties. Printed per N: one sync (the whole plan), firing one reminder,
how many fall due at 07:30 on 8 April 2026, and firing that whole round the way the
scheduler now does it (one job per moment: ``Reminders.fire_many``, one write), beside the
old way's estimate (one job per reminder: N × firing one). Usage::

    python bench/bench_planning.py [--officials 100 1000 5000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.bootstrap import build_services  # noqa: E402
from bot.engine.loader import load_flows  # noqa: E402
from bot.services.reminders import Reminders  # noqa: E402
from bot.storage.records import Member, Membership  # noqa: E402
from bot.storage.store import Store  # noqa: E402

UNIT = "setwan-nganjuk"
WIB = ZoneInfo("Asia/Jakarta")
JOINED = datetime(2025, 12, 1, 8, 0, tzinfo=WIB)
ROUND = datetime(2026, 4, 8, 7, 30, tzinfo=WIB)


def measure(n: int) -> tuple[float, float, int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        services = build_services(load_flows(ROOT / "flows"), store)
        with store.transaction(record_update=False) as repo:
            repo.save_member(Member("1", 1, "Kasubag", JOINED,
                                    roles=[Membership(UNIT, "kasubag", JOINED)]))
            for i in range(2, n + 1):
                repo.save_member(Member(str(i), i, f"Staf {i}", JOINED,
                                        roles=[Membership(UNIT, "staf", JOINED)]))
        reminders = Reminders(services)
        t = time.perf_counter()
        plan = reminders.plan(ROUND - timedelta(minutes=1))
        sync = time.perf_counter() - t
        due = [p.id for p in plan if p.at == ROUND]
        if not hasattr(reminders, "fire_many"):  # before this change: one fire per point
            t = time.perf_counter()
            fired = sum(reminders.fire(p, ROUND) for p in due[:3])
            one = (time.perf_counter() - t) / 3
            assert fired == 3
            return sync, one, len(due), float("nan")
        t = time.perf_counter()
        reminders.fire_many(due[:1], ROUND)
        one = time.perf_counter() - t
        t = time.perf_counter()
        sent = reminders.fire_many(due[1:], ROUND)
        whole = time.perf_counter() - t
        assert len(sent) == len(due) - 1, (len(sent), len(due))
        return sync, one, len(due), whole


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officials", type=int, nargs="+", default=[100, 1000, 5000])
    args = parser.parse_args()
    print(f"$ python bench/bench_planning.py --officials {' '.join(map(str, args.officials))}")
    print(f"{'officials':>9} {'one sync':>9} {'fire one':>9} {'due 07:30':>9} "
          f"{'round now':>10} {'old way (est.)':>15}")
    for n in args.officials:
        sync, one, due, whole = measure(n)
        print(f"{n:>9} {sync:>8.2f}s {one:>8.2f}s {due:>9} {whole:>9.2f}s "
              f"{one * due:>14.1f}s")


if __name__ == "__main__":
    main()
