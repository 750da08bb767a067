"""The flow model: an SOP as the engine sees it, validated once when loaded.

A :class:`Flow` is the *definition* (the signed SOP); a running case of it is an
:class:`~bot.engine.instance.Instance`. Everything here is immutable.
"""

from __future__ import annotations

import calendar as _months
import enum
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, lru_cache

from bot.engine.calendar import OfficeHours, WorkCalendar
from bot.engine.calendar_overrides import CalendarOverrides
from bot.engine.waktu import Waktu, WaktuTotal

#: Header keys every flow file must carry (value may be null when the SOP leaves it blank).
HEADER_KEYS: tuple[str, ...] = (
    "nomor_sop",
    "tanggal_pembuatan",
    "tanggal_revisi",
    "tanggal_pengesahan",
    "tanggal_efektif",
    "disahkan_oleh",
    "nama_sop",
    "dasar_hukum",
    "kualifikasi_pelaksana",
    "keterkaitan",
    "peralatan_perlengkapan",
    "peringatan",
    "pencatatan_pendataan",
)

#: Header keys that hold lists of items (a single string is accepted as a one-item list).
HEADER_LIST_KEYS: frozenset[str] = frozenset(
    {
        "dasar_hukum",
        "kualifikasi_pelaksana",
        "keterkaitan",
        "peralatan_perlengkapan",
        "peringatan",
        "pencatatan_pendataan",
    }
)


class StepKind(enum.StrEnum):
    """A task is done and handed on; a decision (◇) is approved or sent back."""

    TASK = "task"
    DECISION = "decision"


class Trigger(enum.StrEnum):
    """How a step becomes active: in the normal sequence, or by an outside event."""

    SEQUENCE = "sequence"
    EVENT = "event"
    CYCLE = "cycle"  # run only inside a recurring duty (siklus), never in the sequence


class Relation(enum.StrEnum):
    """Roles of a per-official procedure that are bound to one person per instance."""

    SUBJECT = "subject"  # the official the instance runs for (pegawai)
    ATASAN = "atasan"  # that official's direct superior (atasan langsung)


class Period(enum.StrEnum):
    """The period of a recurring duty (siklus)."""

    QUARTER = "quarter"  # triwulan
    SEMESTER = "semester"
    YEAR = "year"


#: `next: end` in a flow file: the flow is finished after this step.
END = 0


@dataclass(frozen=True)
class Role:
    """A Pelaksana column of the SOP (a jabatan)."""

    id: str
    title: str
    title_en: str | None = None
    relation: Relation | None = None
    external: bool = False  # outside the office (Bupati, Bagian Organisasi): never invited
    secretary: bool = False  # the unit's Sekretaris/Sekcam: may cancel any instance


@dataclass(frozen=True)
class ExternalWait:
    """After a step, the document is with someone outside the office until it comes back.

    No one in the office is late while it is outside: the wait has no deadline, only an
    optional expected duration (``waktu``) from the SOP. A holder of ``recorded_by`` records
    that it came back ("Sudah kembali"); the flow then continues with the next step.
    """

    waits_for: tuple[str, ...]  # external role ids, e.g. ("bagian_organisasi", "bupati")
    recorded_by: str  # office role that records the return
    waktu: Waktu  # expected duration; Waktu with unit None when the SOP gives none
    label: str | None = None  # what happens outside, as the SOP says it
    label_en: str | None = None


@dataclass(frozen=True)
class Step:
    """One row of the SOP's step table (uraian prosedur + mutu baku)."""

    no: int
    title: str
    actor: str
    kind: StepKind
    waktu: Waktu
    kelengkapan: str | None = None
    output: str | None = None
    keterangan: str | None = None
    on_revise: int | None = None
    next: int | None = None  # None: the following step of the sequence; END: finish
    fan_out: bool = False
    trigger: Trigger = Trigger.SEQUENCE
    when: str | None = None
    title_en: str | None = None
    output_en: str | None = None
    # What the holder is asked to do, from the holder's own viewpoint, where the SOP's uraian
    # is written from someone else's ("Menugaskan Pejabat Fungsional ..." shown to the
    # Fungsional). None: the uraian itself.
    holder_title: str | None = None
    holder_title_en: str | None = None
    wait: ExternalWait | None = None  # after this step the document is outside the office
    continue_at: int | None = None  # event step: where the sequence resumes once it is done

    @property
    def is_decision(self) -> bool:
        """Whether this is a ◇ step (approve / revise)."""
        return self.kind is StepKind.DECISION

    def prompt(self, lang: str = "id") -> str:
        """The line shown to the step's holder: their own viewpoint when the flow gives one."""
        if lang == "en":
            return self.holder_title_en or self.title_en or self.holder_title or self.title
        return self.holder_title or self.title


@dataclass(frozen=True)
class Unit:
    """The office (OPD, kecamatan, sekretariat …) that owns the SOP."""

    id: str
    name: str
    instansi: str | None = None
    subunit: str | None = None
    address: str | None = None
    timezone: str = "Asia/Jakarta"
    office_hours: OfficeHours = field(default_factory=OfficeHours.default)
    #: the unit's own days from a calendar file (bot.calendar_file), applied after loading
    calendar_overrides: CalendarOverrides = field(default_factory=CalendarOverrides)

    def calendar(self) -> WorkCalendar:
        """The unit's working-day calendar (time zone, office hours, holidays)."""
        return _calendar(self.timezone, self.office_hours, self.calendar_overrides)


@lru_cache(maxsize=64)
def _calendar(timezone: str, office_hours: OfficeHours,
              overrides: CalendarOverrides) -> WorkCalendar:
    # One calendar per (zone, hours, overrides): its holiday tables are cached inside it.
    return WorkCalendar(timezone, office_hours, overrides=overrides)


@dataclass(frozen=True)
class Header:
    """The SOP's identity block, as written on the signed document."""

    values: tuple[tuple[str, str | tuple[str, ...] | None], ...]
    jumlah_waktu: WaktuTotal | None = None

    def get(self, key: str) -> str | tuple[str, ...] | None:
        """The value of one header field (None when the SOP leaves it blank)."""
        return dict(self.values).get(key)


@dataclass(frozen=True)
class ReportingLine:
    """`role` reports to `atasan` (both org roles of the unit)."""

    role: str
    atasan: str


@dataclass(frozen=True)
class PerOfficial:
    """A procedure run once per official, between the official and the direct superior."""

    subject: str
    atasan: str
    levels: tuple[str, ...]


@dataclass(frozen=True)
class Cycle:
    """A recurring duty declared by the SOP (triwulan measurement, semester report …)."""

    id: str
    name: str
    period: Period
    steps: tuple[int, ...]
    due_working_days_after_period_end: int
    applies_to: str
    done_when: str | None = None
    collector: str | None = None  # role that collects the duty: gets the recap too


@dataclass(frozen=True)
class Target:
    """A deadline for the whole flow, counted from a date given when it is started.

    PermenPAN-RB 53/2014: the PK within a month of the DPA's approval — ``basis: DPA``,
    ``months: 1``. The date is asked at ``mulai`` (or typed: ``mulai PK 2026 DPA 15-01-2026``).
    """

    basis: str  # one word the official types before the date: "DPA"
    label: str  # what the date is, for the question and the status: "pengesahan DPA"
    months: int = 0
    days: int = 0
    label_en: str | None = None
    regulation: str | None = None  # where the deadline comes from

    def due(self, start: date) -> date:
        """The last day of the target: ``start`` plus the months (clamped) and the days."""
        month0 = start.month - 1 + self.months
        year, month = start.year + month0 // 12, month0 % 12 + 1
        day = min(start.day, _months.monthrange(year, month)[1])
        return date(year, month, day) + timedelta(days=self.days)


@dataclass(frozen=True)
class Flow:
    """A validated SOP definition. Build it with :func:`bot.engine.loader.load_flow`."""

    id: str
    alias: str
    name: str
    unit: Unit
    header: Header
    roles: tuple[Role, ...]
    steps: tuple[Step, ...]
    starters: tuple[str, ...]
    name_en: str | None = None
    per_official: PerOfficial | None = None
    reporting_lines: tuple[ReportingLine, ...] = ()
    cycles: tuple[Cycle, ...] = ()
    source: str = ""
    target: Target | None = None  # a deadline for the whole flow (see Target)

    @cached_property
    def _steps_by_no(self) -> dict[int, Step]:
        return {s.no: s for s in self.steps}

    @cached_property
    def _roles_by_id(self) -> dict[str, Role]:
        return {r.id: r for r in self.roles}

    def step(self, no: int) -> Step:
        """The step with that number (KeyError if there is none)."""
        return self._steps_by_no[no]

    def has_step(self, no: int) -> bool:
        """Whether a step with that number exists."""
        return no in self._steps_by_no

    def role(self, role_id: str) -> Role:
        """The role with that id (KeyError if there is none)."""
        return self._roles_by_id[role_id]

    def has_role(self, role_id: str) -> bool:
        """Whether the flow declares that role."""
        return role_id in self._roles_by_id

    def is_external(self, role_id: str) -> bool:
        """Whether the role is outside the office (it can never be invited as staff)."""
        return role_id in self._roles_by_id and self._roles_by_id[role_id].external

    @property
    def office_roles(self) -> tuple[Role, ...]:
        """The roles officials of the unit can be invited to (external ones left out)."""
        return tuple(r for r in self.roles if not r.external)

    @property
    def secretary_roles(self) -> tuple[str, ...]:
        """The unit's Sekretaris role(s): they may cancel any instance of the flow."""
        return tuple(r.id for r in self.roles if r.secretary)

    def event_steps(self) -> tuple[Step, ...]:
        """The event-triggered steps (e.g. a PK revision after a mutasi)."""
        return tuple(s for s in self.steps if s.trigger is Trigger.EVENT)

    def cycle_steps(self, cycle_id: str) -> tuple[Step, ...]:
        """The steps a recurring duty repeats, in the cycle's order."""
        cycle = next(c for c in self.cycles if c.id == cycle_id)
        return tuple(self.step(no) for no in cycle.steps)

    def revises_fan_out(self, no: int) -> bool:
        """Whether decision `no` sends work back to a fan-out step (it may name parts)."""
        step = self.step(no)
        return (step.on_revise is not None and self.has_step(step.on_revise)
                and self.step(step.on_revise).fan_out)

    @cached_property
    def sequence(self) -> tuple[Step, ...]:
        """The steps of the normal sequence (event-triggered steps excluded), in order."""
        return tuple(
            sorted((s for s in self.steps if s.trigger is Trigger.SEQUENCE), key=lambda s: s.no)
        )

    @property
    def first_step(self) -> Step:
        """Where every instance starts."""
        return self.sequence[0]

    def successor(self, no: int) -> Step | None:
        """The step after `no` when it is completed or approved (None: the flow is done)."""
        step = self.step(no)
        if step.next == END:
            return None
        if step.next is not None:
            return self.step(step.next)
        later = [s for s in self.sequence if s.no > no]
        return later[0] if later else None

    def position(self, no: int) -> int:
        """1-based position of a sequence step, for "langkah n dari N"."""
        for i, s in enumerate(self.sequence, start=1):
            if s.no == no:
                return i
        raise KeyError(no)

    @cached_property
    def total_waktu(self) -> WaktuTotal:
        """The SOP's "Jumlah Waktu": standard times of the normal sequence, summed per unit."""
        return WaktuTotal.of(s.waktu for s in self.sequence)

    @property
    def is_per_official(self) -> bool:
        """Whether the procedure runs once per official (pegawai ↔ atasan)."""
        return self.per_official is not None

    def atasan_role_of(self, role_id: str) -> str | None:
        """The org role that `role_id` reports to, from the declared reporting lines."""
        for line in self.reporting_lines:
            if line.role == role_id:
                return line.atasan
        return None

    def relation_role(self, relation: Relation) -> str | None:
        """The procedure role bound to the subject or the atasan of an instance."""
        for r in self.roles:
            if r.relation is relation:
                return r.id
        return None

