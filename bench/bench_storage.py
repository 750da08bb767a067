"""Cost of recording a disposition as history grows: sopbot's store against stock TinyDB.

    python bench/bench_storage.py [--writes 200]

For 1k, 10k and 100k stored dispositions (and the target: 10,000 instances with 200,000
dispositions) it builds a data directory of finished instances in per-year archives plus a
working set of 100 running instances, then times real decisions through the services (one
locked transaction: load, engine, atomic write with fsync). Beside it, stock TinyDB
(JSONStorage, one file) inserting the same dispositions. Prints p50/p95 in milliseconds and
the ratio; the target is a p95 under 20 ms with 10,000 instances and 200,000 dispositions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinydb import TinyDB

from bot.bootstrap import build_services
from bot.engine.instance import Actor, Engine, Status
from bot.engine.loader import load_flows
from bot.services import Services
from bot.services.commands import Decide, Decision, Start
from bot.storage import Store
from bot.storage.records import Member, Membership

ROOT = Path(__file__).resolve().parent.parent
FLOW = "pk-kesbangpol-jateng"
UNIT = "kesbangpol-jateng"
ROLES = ("kepala", "sekretaris", "kasubbag_program", "pelaksana")
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
ACTIVE = 100


def disposition_doc(inst: str, step: int, when: datetime) -> dict:
    return {"v": 1, "instance_id": inst, "step_no": step, "round": 1, "action": "complete",
            "member": "1", "role": "kepala", "at": when.isoformat(), "note": None,
            "attachments": []}


def build(data_dir: Path, dispositions: int, instances: int) -> tuple[Services, list[str]]:
    """A data directory with `instances` finished instances holding `dispositions`."""
    flows = load_flows(ROOT / "flows")
    flow = next(f for f in flows if f.id == FLOW)
    store = Store(data_dir)
    services = build_services(flows, store)
    per = max(1, dispositions // max(1, instances))
    years = list(range(2000, 2026))
    archives: dict[int, dict] = {y: {"instances": {}, "dispositions": {}} for y in years}
    engine = Engine(flow)
    holders = {r: [str(i + 1)] for i, r in enumerate(ROLES)}
    template = engine.start(instance_id="t", year=2000, by=Actor.of("1", "kepala"), now=T0,
                            holders=holders).instance
    template.status, template.current, template.finished_at = Status.COMPLETED, None, T0
    n_doc = 0
    for i in range(instances):
        year = years[i % len(years)]
        arch = archives[year]
        doc = template.to_dict() | {"id": f"a{i:07d}", "year": year}
        arch["instances"][str(len(arch["instances"]) + 1)] = doc
        for k in range(per):
            n_doc += 1
            arch["dispositions"][str(n_doc)] = disposition_doc(doc["id"], 1 + k % 13,
                                                               T0 + timedelta(minutes=k))
    for year, data in archives.items():
        (data_dir / f"archive-{year}.json").write_text(json.dumps(data))
    with store.transaction() as repo:
        for i, role in enumerate(ROLES):
            repo.save_member(Member(str(i + 1), i + 1, role, T0,
                                    roles=[Membership(UNIT, role, T0)]))
    members = {m.id: m for m in store.read().members()}
    active = []
    for year in range(2026, 2026 + ACTIVE):  # 100 running instances: the working set
        services.start(Start(members["1"], f"PK {year}", T0))
    with store.transaction() as repo:
        active = [i.id for i in repo.instances(status=Status.ACTIVE)]
    return services, active


def time_decisions(services: Services, active: list[str], writes: int) -> list[float]:
    members = {m.id: m for m in services.store.read().members()}
    by_role = {r: members[str(i + 1)] for i, r in enumerate(ROLES)}
    flow = services.flows[FLOW]
    samples = []
    now = T0
    for n in range(writes):
        inst_id = active[n % len(active)]
        inst = services.store.read().instance(inst_id)
        if inst is None or inst.current is None:
            continue
        step = flow.step(inst.current.no)
        now += timedelta(minutes=1)
        began = time.perf_counter()
        services.decide(Decide(by_role[step.actor], inst_id, step.no, inst.current.round,
                               Decision.ADVANCE, now))
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def time_stock_tinydb(directory: Path, dispositions: int, writes: int) -> list[float]:
    """Stock TinyDB: one JSON file, every insert rewrites it whole."""
    path = directory / "stock.json"
    path.write_text(json.dumps({"dispositions": {
        str(i + 1): disposition_doc(f"a{i // 20:07d}", 1, T0) for i in range(dispositions)}}))
    db = TinyDB(path)
    table = db.table("dispositions")
    samples = []
    for n in range(writes):
        began = time.perf_counter()
        table.insert(disposition_doc("live", n, T0))
        samples.append((time.perf_counter() - began) * 1000)
    db.close()
    return samples


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] if len(samples) > 1 else samples[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=200)
    args = parser.parse_args()
    cases = [("1k", 1_000, 100), ("10k", 10_000, 1_000), ("100k", 100_000, 5_000),
             ("target 200k/10k inst", 200_000, 10_000)]
    print(f"{'stored dispositions':<22}{'sopbot p50':>11}{'p95':>8}   "
          f"{'stock TinyDB p50':>17}{'p95':>9}   {'p95 ratio':>9}")
    worst = 0.0
    for label, dispositions, instances in cases:
        with tempfile.TemporaryDirectory() as tmp:
            services, active = build(Path(tmp) / "data", dispositions, instances)
            ours = time_decisions(services, active, args.writes)
            stock_writes = args.writes if dispositions <= 10_000 else max(20, args.writes // 10)
            stock = time_stock_tinydb(Path(tmp), dispositions, stock_writes)
        p95 = pct(ours, 95)
        worst = max(worst, p95) if label.startswith("target") else worst
        print(f"{label:<22}{pct(ours, 50):>9.1f}ms{p95:>6.1f}ms   "
              f"{pct(stock, 50):>15.1f}ms{pct(stock, 95):>7.1f}ms   "
              f"{pct(stock, 95) / p95:>8.1f}x")
    print(f"target: p95 < 20 ms with 10,000 instances and 200,000 dispositions -> "
          f"{'met' if worst < 20 else 'NOT met'} ({worst:.1f} ms)")
    return 0 if worst < 20 else 1


if __name__ == "__main__":
    raise SystemExit(main())
