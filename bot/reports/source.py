"""The one place the reports read stored data: instances, dispositions and names of a year.

Everything else in :mod:`bot.reports` is pure and works on :class:`~bot.reports.trail.Trail`
values, read through the storage protocol (TinyDB or in memory).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.engine.model import Flow
from bot.reports.trail import Trail
from bot.storage.protocol import Storage

__all__ = ["load_trails"]


def load_trails(store: Storage, flows: Iterable[Flow], year: int, *,
                unit: str | None = None, flow_ids: Iterable[str] | None = None) -> list[Trail]:
    """Every instance of ``year`` of the given flows (running and archived), with its trail.

    ``unit`` keeps one unit; ``flow_ids`` keeps those flows. Instances of flows that are not
    loaded (a flow file removed since) are left out. Ordered by unit, flow, creation time.
    """
    by_id = {f.id: f for f in flows}
    wanted = set(flow_ids) if flow_ids is not None else set(by_id)
    repo = store.read()  # one consistent snapshot, archives included
    names = {m.id: m.name for m in repo.members()}
    holders_of: dict[str, dict[str, list[str]]] = {}
    trails = []
    for inst in repo.instances(unit=unit, year=year):
        flow = by_id.get(inst.flow_id)
        if flow is None or inst.flow_id not in wanted:
            continue
        if inst.unit_id not in holders_of:
            holders_of[inst.unit_id] = repo.holders(inst.unit_id)
        trails.append(Trail(
            flow=flow,
            instance=inst,
            dispositions=tuple(repo.dispositions(inst.id, inst.year)),
            names=names,
            holders=holders_of[inst.unit_id],
        ))
    return sorted(trails, key=lambda t: (t.flow.unit.id, t.flow.id, t.instance.created_at,
                                         t.instance.id))
