"""Crash soak: SIGKILL the bot 200 times while officials work through several PK years.

    python bench/crash_soak.py [--kills 200] [--years 4] [--seed N]

Prints what happened and every problem found (lost decision, state that differs from its
dispositions, a notification lost or delivered twice without being marked uncertain).
Exit status 1 when there is a problem. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.crashkit import CrashRun


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=1800)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = CrashRun(Path(tmp), kills=args.kills, years=args.years, seed=args.seed)
        report = run.run(time_limit=args.time_limit)
    print(f"kills                  {report.kills}")
    print(f"restarts               {report.restarts}")
    print(f"button presses         {report.presses}")
    print(f"confirmed decisions    {len(report.confirmed)}")
    print(f"resends marked uncertain (message in flight at a kill): "
          f"{report.duplicates_uncertain}")
    print(f"seconds                {report.seconds:.1f}")
    print(f"problems               {len(report.problems)}")
    for problem in report.problems:
        print(f"  - {problem}")
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
