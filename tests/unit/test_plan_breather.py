"""Planning in a worker thread pauses now and then (so the event loop gets the GIL back),
but only on a detached snapshot, never while the store's lock is held."""

from __future__ import annotations

import pytest

from bot.services import reminder_plan
from bot.services.reminder_plan import BREATHE_EVERY, BREATHE_FOR, Breather


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def perf_counter(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.mark.parametrize("enabled", [True, False])
def test_a_long_plan_pauses_every_few_milliseconds_when_allowed(
        monkeypatch: pytest.MonkeyPatch, enabled: bool) -> None:
    clock = _Clock()
    monkeypatch.setattr(reminder_plan.time, "perf_counter", clock.perf_counter)
    monkeypatch.setattr(reminder_plan.time, "sleep", clock.sleep)
    breathe = Breather(enabled)
    for _ in range(1000):  # 1,000 sources, 0.1 ms each: 100 ms of planning
        clock.now += 0.0001
        breathe()
    if enabled:  # about once every BREATHE_EVERY (checked every 16 sources)
        assert 0.1 / (2 * BREATHE_EVERY) <= len(clock.slept) <= 0.1 / BREATHE_EVERY + 1
    else:
        assert clock.slept == []
    assert set(clock.slept) <= {BREATHE_FOR}


def test_only_a_snapshot_taken_outside_the_lock_may_pause() -> None:
    snap = reminder_plan.Snapshot(repo=None)  # type: ignore[arg-type]
    assert snap.breathe is False  # a planner inside a transaction never sleeps with the lock
