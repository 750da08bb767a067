"""Reminder planning and firing at N officials (the per-official procedure, TinyDB store).

N officials of the DPRD Nganjuk secretariat (staf, one kasubag as their atasan) owe the
triwulan and semester duties, and one PK runs in Kecamatan Neglasari. Printed per N, on
07:29 of 8 April 2026 (Triwulan I's "before" round falls due at 07:30):

* cold sync: the first plan, every source planned (a start-up);
* warm sync: the periodic sync when nothing changed (every source's signature matches);
* lock: how long a sync holds the store lock (one read; the planning runs after it);
* press: the re-sync after a decision on the running PK (re-plans that instance only);
* done: the re-sync after one official marks a duty done (re-plans that share only);
* fire one: firing one reminder (re-checks it; re-plans nothing);
* round: firing the rest of the 07:30 round in one write, as the scheduler's one job per
  moment does (``Reminders.fire_many``), and how many reminders that is.

Usage::

    python bench/bench_planning.py [--officials 100 1000 5000 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.bootstrap import build_services  # noqa: E402
from bot.engine.loader import load_flows  # noqa: E402
from bot.services.commands import Decide, Decision, Start  # noqa: E402
from bot.services.reminders import Reminders  # noqa: E402
from bot.storage.memory import MemoryStore  # noqa: E402
from bot.storage.protocol import Storage  # noqa: E402
from bot.storage.records import Member, Membership  # noqa: E402
from bot.storage.store import Store  # noqa: E402
from bot.tg.reminder_jobs import ReminderScheduler  # noqa: E402

UNIT = "setwan-nganjuk"
KECAMATAN = "kec-neglasari"
WIB = ZoneInfo("Asia/Jakarta")
#: Joined in March: they owe Triwulan I 2026 (due 15 April), not the periods before it, so
#: the first sync has no backlog of missed points to mark skipped.
JOINED = datetime(2026, 3, 2, 8, 0, tzinfo=WIB)
ROUND = datetime(2026, 4, 8, 7, 30, tzinfo=WIB)


def timed(func: Any, *args: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - began, result


def measure(n: int, backend: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store: Storage = Store(Path(tmp)) if backend == "tinydb" else MemoryStore()
        services = build_services(load_flows(ROOT / "flows"), store)
        with store.transaction(record_update=False) as repo:
            repo.save_member(Member("1", 1, "Kasubag", JOINED,
                                    roles=[Membership(UNIT, "kasubag", JOINED)]))
            for i in range(2, n + 1):
                repo.save_member(Member(str(i), i, f"Staf {i}", JOINED,
                                        roles=[Membership(UNIT, "staf", JOINED)]))
            repo.save_member(Member("camat", 0, "Camat", JOINED,
                                    roles=[Membership(KECAMATAN, "camat", JOINED)]))
            repo.save_member(Member("perenkeu", -1, "Perenkeu", JOINED,
                                    roles=[Membership(KECAMATAN, "kasubag_perenkeu", JOINED)]))
        now = ROUND - timedelta(minutes=1)
        with store.transaction(record_update=False) as repo:
            camat = repo.member("camat")
        assert camat is not None
        inst = services.start(Start(camat, "PK 2026", now)).instances[0]
        reminders = Reminders(services)
        scheduler = ReminderScheduler(None, reminders, None, lambda: now)  # type: ignore[arg-type]

        def sync() -> int:
            """What the periodic sync computes in its thread (the event loop then only
            applies one job per moment)."""
            _moments, count = scheduler._moments(now)
            return count

        row: dict[str, float] = {}
        row["cold"], _ = timed(sync)
        plan = reminders.plan(now)
        row["warm"], _ = timed(sync)
        row["lock"], _ = timed(reminders.snapshot)
        services.decide(Decide(camat, inst.id, 1, None, Decision.ADVANCE, now))
        before = Counter(reminders.planner.replanned)
        row["press"], _ = timed(sync)
        assert reminders.planner.replanned - before == Counter({"step": 1})
        with store.transaction(record_update=False) as repo:
            staf = repo.member("2")
        assert staf is not None
        share = next(p.payload["task_id"] for p in plan if p.payload.get("task_id")
                     and staf.id in p.recipients)
        reminders.mark_done(staf, share, now)
        before = Counter(reminders.planner.replanned)
        row["done"], _ = timed(sync)
        assert reminders.planner.replanned - before == Counter({"share": 1})
        due = [p.id for p in plan if p.at == ROUND and p.payload.get("task_id") != share]
        before = Counter(reminders.planner.replanned)
        row["one"], sent = timed(reminders.fire_many, due[:1], ROUND)
        assert sent == due[:1] and reminders.planner.replanned == before
        row["round"], sent = timed(reminders.fire_many, due[1:], ROUND)
        assert len(sent) == len(due) - 1, (len(sent), len(due))
        row["due"] = len(due)
        return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--officials", type=int, nargs="+", default=[100, 1000, 5000, 10000])
    parser.add_argument("--backend", choices=("tinydb", "memory"), default="tinydb",
                        help="the store: TinyDB files (production) or in memory (the "
                             "planning's own cost, without TinyDB's per-insert table copy)")
    args = parser.parse_args()
    print(f"$ python bench/bench_planning.py --backend {args.backend} "
          f"--officials {' '.join(map(str, args.officials))}")
    print("| officials | cold sync | warm sync | lock held | after a press | after a duty done "
          "| fire one | due 07:30 | the round (one write) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.officials:
        r = measure(n, args.backend)
        print(f"| {n:,} | {r['cold']:.2f} s | {r['warm']:.2f} s | {r['lock']:.2f} s "
              f"| {r['press']:.2f} s | {r['done']:.2f} s | {r['one']:.2f} s | {int(r['due']):,} "
              f"| {r['round']:.2f} s |", flush=True)


if __name__ == "__main__":
    main()
