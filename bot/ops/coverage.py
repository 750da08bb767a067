"""Does the calendar know the cuti bersama of the years the bot is about to schedule?

The government publishes the next year's cuti bersama (an SKB of three ministers) in the
autumn, and the ``holidays`` library ships them some weeks later. Until the installed library
(or the calendar file) has them, deadlines in the next year ignore those days off. From
1 November the bot warns at start-up, and ``sopbot doctor`` says it any time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.engine.model import Flow

__all__ = ["WARN_FROM", "CoverageGap", "coverage_gaps", "warn_about_coverage"]

#: (month, day) from which next year's missing cuti bersama are worth a warning.
WARN_FROM = (11, 1)


@dataclass(frozen=True)
class CoverageGap:
    """A year whose cuti bersama are not known for these units."""

    year: int
    units: tuple[str, ...]


def coverage_gaps(flows: Iterable[Flow], today: date, *,
                  next_year_always: bool = False) -> list[CoverageGap]:
    """Years without known cuti bersama: this year always, next year from 1 November (or
    always with `next_year_always`)."""
    units = {f.unit.id: f.unit for f in flows}
    years = [today.year]
    if next_year_always or (today.month, today.day) >= WARN_FROM:
        years.append(today.year + 1)
    gaps = []
    for year in years:
        missing = tuple(sorted(uid for uid, unit in units.items()
                               if not unit.calendar().cuti_bersama_known(year)))
        if missing:
            gaps.append(CoverageGap(year, missing))
    return gaps


def warn_about_coverage(flows: Iterable[Flow], today: date,
                        log: logging.Logger | None = None) -> list[CoverageGap]:
    """Log a warning per year whose cuti bersama are unknown (see :func:`coverage_gaps`)."""
    log = log or logging.getLogger("sopbot")
    gaps = coverage_gaps(flows, today)
    for gap in gaps:
        log.warning("the cuti bersama of %d are not known yet (units: %s): deadlines in %d do "
                    "not skip them; upgrade the holidays package (pip install -U holidays) or "
                    "list them in calendar.yaml (see docs/deployment.md)", gap.year,
                    ",".join(gap.units), gap.year)
    return gaps
