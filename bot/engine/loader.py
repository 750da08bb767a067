"""Load and validate flow files.

A flow file is checked completely before anything uses it: every problem is collected
(never just the first), and each names the file, the line and the field, so that the person
editing the YAML can fix them all in one pass.

Why this module is long (about 1,000 lines): it is the one validating reader of the whole
flow format (header, roles, steps, waits, events, cycles, targets), and each check stands
beside the field it reads so that the format and its error messages are read together;
calendar.yaml reuses its line-aware reader (:mod:`bot.calendar_file`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

import yaml

from bot.engine.calendar import CalendarError, OfficeHours, resolve_timezone
from bot.engine.model import (
    END,
    HEADER_KEYS,
    HEADER_LIST_KEYS,
    Cycle,
    ExternalWait,
    Flow,
    Header,
    Period,
    PerOfficial,
    Relation,
    ReportingLine,
    Role,
    Step,
    StepKind,
    Target,
    Trigger,
    Unit,
)
from bot.engine.waktu import Waktu, WaktuError, WaktuTotal, parse_total, parse_waktu
from bot.i18n_message import N_ as N_  # re-exported: the flow-file modules mark with it
from bot.i18n_message import Message

FLOW_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ROLE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")


Gettext = Callable[[str], str]

# Fields that are not paths in the YAML but stand for the whole file or directory.
PSEUDO_FIELDS: tuple[str, ...] = (N_("(yaml)"), N_("(file)"), N_("(directory)"))


def nested(message_id: str, **params: Any) -> Message:
    """A message used as the parameter of another message (rendered in the same language)."""
    return Message(message_id, **params)


def render_message(message_id: str, params: Mapping[str, Any], gettext: Gettext) -> str:
    """Translate a template with `gettext`, then fill in its parameters (nested ones too)."""
    return Message(message_id, **params).render(gettext)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a flow file.

    `message` is the English text; `text` is the same as a :class:`bot.i18n.Message` (its
    ``N_()`` template and the values that fill it, nested messages included), so that
    :meth:`render` can show it in any language. A problem built from ready text passes it
    through untranslated (template ``{error}``).
    """

    file: str
    line: int
    field: str
    message: str
    text: Message = dc_field(default=Message(""), compare=False)

    def __post_init__(self) -> None:
        if not self.text.template:  # built from ready text: pass it through untranslated
            object.__setattr__(self, "text", Message(N_("{error}"), error=self.message))

    @classmethod
    def of(cls, file: str, line: int, field: str, message_id: str, /, **params: Any) -> Problem:
        """A problem from a template and its parameters (the English text is derived)."""
        text = Message(message_id, **params)
        return cls(file, line, field, str(text), text)

    @property
    def message_id(self) -> str:
        """The message's template."""
        return self.text.template

    @property
    def params(self) -> dict[str, Any]:
        """The values that fill the template."""
        return dict(self.text.params)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"

    def render(self, gettext: Gettext) -> str:
        """``FILE:LINE: FIELD: message`` with the message (and a pseudo-field) translated."""
        field = gettext(self.field) if self.field in PSEUDO_FIELDS else self.field
        return f"{self.file}:{self.line}: {field}: {self.text.render(gettext)}"


class FlowError(Exception):
    """A flow file (or a set of them) is invalid; `problems` lists every problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def render(self, gettext: Gettext) -> list[str]:
        """Every problem as a line in the language of `gettext`."""
        return [p.render(gettext) for p in self.problems]


# --- YAML with line numbers ---------------------------------------------------------------


class _Map(dict[str, Any]):
    """A mapping that remembers the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _Seq(list[Any]):
    """A sequence that remembers the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


#: libyaml's parser when PyYAML was built with it (the wheels are): reading the five flows
#: took 0.34 s of every start-up with the pure-Python parser, 0.03 s with libyaml's.
_SafeBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeBase):  # type: ignore[misc]
    """SafeLoader that records where each mapping key and list item stands."""


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)
# YAML 1.1 reads `no:` (our step number key!), yes/on/off as booleans and ISO dates as
# date objects. Flow files follow YAML 1.2 here: only true/false are booleans, dates stay text.
_LineLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers
         if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


# --- validation -------------------------------------------------------------------------


class _Checker:
    """Collects problems while turning parsed YAML into model objects."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, line: int, field: str, message_id: str, /, **params: Any) -> None:
        """Record a problem: `message_id` is an ``N_()`` template, `params` fill it in."""
        self.problems.append(Problem.of(self.file, line, field, message_id, **params))

    @staticmethod
    def line_of(node: Any, key: str | int | None = None, default: int = 1) -> int:
        if isinstance(node, _Map) and isinstance(key, str) and key in node.key_lines:
            return node.key_lines[key]
        if isinstance(node, _Seq) and isinstance(key, int) and key < len(node.item_lines):
            return node.item_lines[key]
        return getattr(node, "line", default) or default

    def text(self, node: _Map, key: str, field: str, *, required: bool) -> str | None:
        """A string field (numbers are accepted and turned into text)."""
        if key not in node:
            if required:
                self.add(node.line, field, N_("required field is missing"))
            return None
        value = node[key]
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(self.line_of(node, key), field, N_("must not be empty"))
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add(self.line_of(node, key), field, N_("expected text, got {kind}"),
                     kind=_kind(value))
            return None
        return str(value).strip()

    def mapping(self, node: Any, key: str, field: str, *, required: bool) -> _Map | None:
        if not isinstance(node, _Map) or key not in node:
            if required:
                self.add(getattr(node, "line", 1), field, N_("required field is missing"))
            return None
        value = node[key]
        if not isinstance(value, _Map):
            self.add(self.line_of(node, key), field, N_("expected a mapping, got {kind}"),
                     kind=_kind(value))
            return None
        return value

    def sequence(self, node: _Map, key: str, field: str, *, required: bool) -> _Seq | None:
        if key not in node or node[key] is None:
            if required:
                self.add(node.line, field, N_("required field is missing"))
            return None
        value = node[key]
        if not isinstance(value, _Seq):
            self.add(self.line_of(node, key), field, N_("expected a list, got {kind}"),
                     kind=_kind(value))
            return None
        return value


def _kind(value: Any) -> Message:
    """What a YAML value is, as a nested message ("a list", "int 5", ...)."""
    if isinstance(value, Mapping):
        return nested(N_("a mapping"))
    if isinstance(value, list):
        return nested(N_("a list"))
    if value is None:
        return nested(N_("nothing"))
    return nested(N_("{type} {value!r}"), type=type(value).__name__, value=value)


def parse_flow(text: str, file: str = "<flow>") -> Flow:
    """Parse and validate one flow file's text. Raises :class:`FlowError` listing all problems."""
    try:
        doc = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise FlowError([Problem.of(file, line, "(yaml)", N_("{error}"),
                                    error=str(exc.problem or exc))]) from exc
    except yaml.YAMLError as exc:
        raise FlowError([Problem.of(file, 1, "(yaml)", N_("{error}"), error=str(exc))]) from exc
    if not isinstance(doc, _Map):
        raise FlowError([Problem.of(file, 1, "(file)",
                                    N_("a flow file must be a YAML mapping"))])
    return _build_flow(doc, file)


def load_flow(path: str | Path) -> Flow:
    """Load and validate one flow file. Raises :class:`FlowError` listing all problems."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError([Problem.of(str(path), 1, "(file)", N_("cannot read: {error}"),
                                    error=str(exc))]) from exc
    return parse_flow(text, str(path))


def _build_flow(doc: _Map, file: str) -> Flow:
    c = _Checker(file)
    known = {
        "id", "alias", "name", "name_en", "unit", "header", "roles", "starters", "steps",
        "per_official", "reporting_lines", "cycles", "target",
    }  # fmt: skip
    for key in doc:
        if key not in known:
            c.add(c.line_of(doc, key), str(key), N_("unknown field (known: {known})"),
                  known=", ".join(sorted(known)))

    flow_id = c.text(doc, "id", "id", required=True)
    if flow_id and not FLOW_ID.match(flow_id):
        c.add(c.line_of(doc, "id"), "id", N_("use lowercase letters, digits and '-'"))
    alias = c.text(doc, "alias", "alias", required=True)
    if alias and not ALIAS.match(alias):
        c.add(c.line_of(doc, "alias"), "alias",
              N_("one word of letters, digits and '-' (e.g. PK)"))
    name = c.text(doc, "name", "name", required=True)
    name_en = c.text(doc, "name_en", "name_en", required=False)

    unit = _build_unit(c, doc)
    header = _build_header(c, doc)
    roles = _build_roles(c, doc)
    role_ids = {r.id for r in roles}
    steps = _build_steps(c, doc, role_ids)
    external = {r.id for r in roles if r.external}
    starters = _build_starters(c, doc, role_ids, steps, external)
    per_official, lines = _build_per_official(c, doc, roles)
    cycles = _build_cycles(c, doc, role_ids, {s.no for s in steps}, per_official)
    target = _build_target(c, doc)

    if c.problems:
        raise FlowError(c.problems)
    assert flow_id and alias and name and unit and header  # guaranteed when no problems
    flow = Flow(
        id=flow_id,
        alias=alias,
        name=name,
        name_en=name_en,
        unit=unit,
        header=header,
        roles=tuple(roles),
        steps=tuple(steps),
        starters=starters,
        per_official=per_official,
        reporting_lines=lines,
        cycles=cycles,
        source=file,
        target=target,
    )
    _check_graph(c, doc, flow)
    if c.problems:
        raise FlowError(c.problems)
    return flow


def _build_unit(c: _Checker, doc: _Map) -> Unit | None:
    node = c.mapping(doc, "unit", "unit", required=True)
    if node is None:
        return None
    problems_before = len(c.problems)
    unit_id = c.text(node, "id", "unit.id", required=True)
    if unit_id and not FLOW_ID.match(unit_id):
        c.add(c.line_of(node, "id"), "unit.id", N_("use lowercase letters, digits and '-'"))
    name = c.text(node, "name", "unit.name", required=True)
    tz = c.text(node, "timezone", "unit.timezone", required=False) or "Asia/Jakarta"
    try:
        tz = resolve_timezone(tz).key
    except CalendarError as exc:
        c.add(c.line_of(node, "timezone"), "unit.timezone", N_("{error}"), error=str(exc))
    hours = OfficeHours.default()
    if "office_hours" in node:
        raw = node["office_hours"]
        if not isinstance(raw, Mapping):
            c.add(c.line_of(node, "office_hours"), "unit.office_hours",
                  N_("expected a mapping such as {{mon-thu: '07:30-16:00'}}, got {kind}"),
                  kind=_kind(raw))
        else:
            try:
                hours = OfficeHours.parse({str(k): v for k, v in raw.items()})
            except CalendarError as exc:
                c.add(c.line_of(node, "office_hours"), "unit.office_hours", N_("{error}"),
                      error=str(exc))
    if len(c.problems) > problems_before or not unit_id or not name:
        return None
    return Unit(
        id=unit_id,
        name=name,
        instansi=c.text(node, "instansi", "unit.instansi", required=False),
        subunit=c.text(node, "subunit", "unit.subunit", required=False),
        address=c.text(node, "address", "unit.address", required=False),
        timezone=tz,
        office_hours=hours,
    )


def _build_header(c: _Checker, doc: _Map) -> Header | None:
    node = c.mapping(doc, "header", "header", required=True)
    if node is None:
        return None
    values: list[tuple[str, str | tuple[str, ...] | None]] = []
    for key in HEADER_KEYS:
        field = f"header.{key}"
        if key not in node:
            c.add(c.line_of(doc, "header"), field,
                  N_("required header field is missing (write null if the SOP leaves it blank)"))
            continue
        raw = node[key]
        if key in HEADER_LIST_KEYS and isinstance(raw, list):
            items = []
            for i, item in enumerate(raw):
                if not isinstance(item, str | int | float) or isinstance(item, bool):
                    c.add(c.line_of(raw, i), f"{field}[{i}]", N_("expected text, got {kind}"),
                          kind=_kind(item))
                else:
                    items.append(str(item).strip())
            values.append((key, tuple(items)))
        elif key in HEADER_LIST_KEYS and isinstance(raw, str):
            values.append((key, (raw.strip(),)))
        else:
            values.append((key, c.text(node, key, field, required=key == "nama_sop")))
    jumlah: WaktuTotal | None = None
    if node.get("jumlah_waktu") is not None:
        try:
            jumlah = parse_total(str(node["jumlah_waktu"]))
        except WaktuError as exc:
            c.add(c.line_of(node, "jumlah_waktu"), "header.jumlah_waktu", N_("{error}"),
                  error=str(exc))
    for key in node:
        if key not in HEADER_KEYS and key != "jumlah_waktu":
            c.add(c.line_of(node, key), f"header.{key}", N_("unknown header field"))
    return Header(values=tuple(values), jumlah_waktu=jumlah)


def _build_roles(c: _Checker, doc: _Map) -> list[Role]:
    seq = c.sequence(doc, "roles", "roles", required=True)
    roles: list[Role] = []
    seen: dict[str, int] = {}
    for i, node in enumerate(seq or []):
        field = f"roles[{i}]"
        line = c.line_of(seq, i)
        if not isinstance(node, _Map):
            c.add(line, field, N_("expected a mapping with id and title, got {kind}"),
                  kind=_kind(node))
            continue
        role_id = c.text(node, "id", f"{field}.id", required=True)
        title = c.text(node, "title", f"{field}.title", required=True)
        relation = None
        if node.get("relation") is not None:
            try:
                relation = Relation(str(node["relation"]))
            except ValueError:
                c.add(c.line_of(node, "relation"), f"{field}.relation",
                      N_("must be one of {values}"),
                      values=", ".join(r.value for r in Relation))
        flags = {key: _bool_field(c, node, key, f"{field}.{key}")
                 for key in ("external", "secretary")}
        if flags["external"] and flags["secretary"]:
            c.add(c.line_of(node, "secretary"), f"{field}.secretary",
                  N_("an external role cannot be the unit's secretary"))
        if flags["external"] and relation is not None:
            c.add(c.line_of(node, "external"), f"{field}.external",
                  N_("a per-official relation role is held in the office; it cannot be "
                     "external"))
        if role_id is None or title is None:
            continue
        if not ROLE_ID.match(role_id):
            c.add(c.line_of(node, "id"), f"{field}.id",
                  N_("use lowercase letters, digits and '_'"))
        if role_id in seen:
            c.add(c.line_of(node, "id"), f"{field}.id",
                  N_("duplicate role id {role!r} (first at line {first})"),
                  role=role_id, first=seen[role_id])
            continue
        seen[role_id] = c.line_of(node, "id")
        roles.append(Role(role_id, title, c.text(node, "title_en", f"{field}.title_en",
                                                 required=False), relation,
                          flags["external"], flags["secretary"]))
    if seq is not None and not roles and not c.problems:
        c.add(seq.line, "roles", N_("a flow needs at least one role"))
    return roles


def _bool_field(c: _Checker, node: _Map, key: str, field: str) -> bool:
    value = node.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        c.add(c.line_of(node, key), field, N_("must be true or false"))
        return False
    return value


def _int_field(c: _Checker, node: _Map, key: str, field: str) -> int | None:
    value = node.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        c.add(c.line_of(node, key), field, N_("expected a whole number, got {kind}"),
              kind=_kind(value))
        return None
    return value


def _build_steps(c: _Checker, doc: _Map, role_ids: set[str]) -> list[Step]:
    """``steps:``, each step checked field by field.

    Long (about 130 lines) for the reason the module gives: each field's check and its
    message stand in the order the step's fields are written, one after the other, and the
    checks that relate two fields (a decision's on_revise, an event step's continue_at)
    need the values read just before them.
    """
    seq = c.sequence(doc, "steps", "steps", required=True)
    steps: list[Step] = []
    seen: dict[int, int] = {}
    known = {
        "no", "title", "title_en", "actor", "kind", "on_revise", "next", "fan_out",
        "kelengkapan", "waktu", "output", "output_en", "keterangan", "trigger", "when",
        "holder_title", "holder_title_en", "wait", "continue_at",
    }  # fmt: skip
    for i, node in enumerate(seq or []):
        field = f"steps[{i}]"
        if not isinstance(node, _Map):
            c.add(c.line_of(seq, i), field, N_("expected a mapping, got {kind}"),
                  kind=_kind(node))
            continue
        for key in node:
            if key not in known:
                c.add(c.line_of(node, key), f"{field}.{key}", N_("unknown step field"))
        before = len(c.problems)
        no = _int_field(c, node, "no", f"{field}.no") if "no" in node else None
        if "no" not in node:
            c.add(node.line, f"{field}.no", N_("required field is missing"))
        if no is not None:
            field = f"steps[{i}] (no {no})"
            if no < 1:
                c.add(c.line_of(node, "no"), f"{field}.no", N_("step numbers start at 1"))
            elif no in seen:
                c.add(c.line_of(node, "no"), f"{field}.no",
                      N_("duplicate step number {no} (first at line {first})"),
                      no=no, first=seen[no])
            else:
                seen[no] = c.line_of(node, "no")
        title = c.text(node, "title", f"{field}.title", required=True)
        actor = c.text(node, "actor", f"{field}.actor", required=True)
        if actor is not None and actor not in role_ids:
            if role_ids:
                c.add(c.line_of(node, "actor"), f"{field}.actor",
                      N_("unknown actor {actor!r} (roles: {roles})"),
                      actor=actor, roles=", ".join(sorted(role_ids)))
            else:
                c.add(c.line_of(node, "actor"), f"{field}.actor",
                      N_("unknown actor {actor!r} (roles: none)"), actor=actor)
        kind = StepKind.TASK
        if node.get("kind") is not None:
            try:
                kind = StepKind(str(node["kind"]))
            except ValueError:
                c.add(c.line_of(node, "kind"), f"{field}.kind",
                      N_("must be 'task' or 'decision'"))
        waktu: Waktu | None = None
        if "waktu" not in node:
            c.add(node.line, f"{field}.waktu",
                  N_("required field is missing (write '-' for none)"))
        else:
            try:
                waktu = parse_waktu(None if node["waktu"] is None else str(node["waktu"]))
            except WaktuError as exc:
                c.add(c.line_of(node, "waktu"), f"{field}.waktu", N_("{error}"),
                      error=str(exc))
        on_revise = None
        if node.get("on_revise") is not None:
            on_revise = _int_field(c, node, "on_revise", f"{field}.on_revise")
        if kind is StepKind.DECISION and "on_revise" not in node:
            c.add(node.line, f"{field}.on_revise",
                  N_("a decision step needs on_revise: the earlier step a revision goes back "
                     "to"))
        if kind is StepKind.TASK and on_revise is not None:
            c.add(c.line_of(node, "on_revise"), f"{field}.on_revise",
                  N_("only decision steps can send work back (set kind: decision)"))
        nxt = None
        if node.get("next") == "end":
            nxt = END
        elif node.get("next") is not None:
            nxt = _int_field(c, node, "next", f"{field}.next")
        fan_out = node.get("fan_out", False)
        if not isinstance(fan_out, bool):
            c.add(c.line_of(node, "fan_out"), f"{field}.fan_out", N_("must be true or false"))
            fan_out = False
        if fan_out and kind is StepKind.DECISION:
            c.add(c.line_of(node, "fan_out"), f"{field}.fan_out",
                  N_("a decision is taken by one official; only task steps can fan out"))
        trigger = Trigger.SEQUENCE
        if node.get("trigger") is not None:
            try:
                trigger = Trigger(str(node["trigger"]))
            except ValueError:
                c.add(c.line_of(node, "trigger"), f"{field}.trigger",
                      N_("must be 'sequence' (default), 'event' or 'cycle'"))
        if trigger is Trigger.EVENT and kind is StepKind.DECISION:
            c.add(c.line_of(node, "trigger"), f"{field}.trigger",
                  N_("an event-triggered step must be a task"))
        continue_at = None
        if node.get("continue_at") is not None:
            continue_at = _int_field(c, node, "continue_at", f"{field}.continue_at")
            if trigger is not Trigger.EVENT:
                c.add(c.line_of(node, "continue_at"), f"{field}.continue_at",
                      N_("only an event-triggered step (trigger: event) says where the flow "
                         "continues"))
        wait = _build_wait(c, node, field, role_ids)
        if len(c.problems) > before or no is None or not title or not actor or waktu is None:
            continue
        steps.append(
            Step(
                no=no,
                title=title,
                actor=actor,
                kind=kind,
                waktu=waktu,
                kelengkapan=c.text(node, "kelengkapan", f"{field}.kelengkapan", required=False),
                output=c.text(node, "output", f"{field}.output", required=False),
                keterangan=c.text(node, "keterangan", f"{field}.keterangan", required=False),
                on_revise=on_revise,
                next=nxt,
                fan_out=fan_out,
                trigger=trigger,
                when=c.text(node, "when", f"{field}.when", required=False),
                title_en=c.text(node, "title_en", f"{field}.title_en", required=False),
                output_en=c.text(node, "output_en", f"{field}.output_en", required=False),
                holder_title=c.text(node, "holder_title", f"{field}.holder_title",
                                    required=False),
                holder_title_en=c.text(node, "holder_title_en", f"{field}.holder_title_en",
                                       required=False),
                wait=wait,
                continue_at=continue_at,
            )
        )
    if seq is not None and not any(s.trigger is Trigger.SEQUENCE for s in steps) and not c.problems:
        c.add(seq.line, "steps", N_("a flow needs at least one step in its normal sequence"))
    return steps


def _build_wait(
    c: _Checker, step: _Map, field: str, role_ids: set[str]
) -> ExternalWait | None:
    """``wait:``: after the step the document is outside the office until it comes back."""
    node = c.mapping(step, "wait", f"{field}.wait", required=False)
    if node is None:
        return None
    field = f"{field}.wait"
    before = len(c.problems)
    for key in node:
        if key not in ("for", "recorded_by", "waktu", "label", "label_en"):
            c.add(c.line_of(node, key), f"{field}.{key}", N_("unknown field (known: {known})"),
                  known="for, label, label_en, recorded_by, waktu")
    raw = node.get("for")
    waits_for: list[str] = []
    if raw is None:
        c.add(node.line, f"{field}.for",
              N_("required field is missing (the external role(s) the document goes to)"))
    else:
        items = raw if isinstance(raw, list) else [raw]
        for item in items:
            if not isinstance(item, str) or item not in role_ids:
                c.add(c.line_of(node, "for"), f"{field}.for", N_("unknown role {role!r}"),
                      role=item)
            else:
                waits_for.append(item)
    recorded_by = c.text(node, "recorded_by", f"{field}.recorded_by", required=True)
    if recorded_by is not None and recorded_by not in role_ids:
        c.add(c.line_of(node, "recorded_by"), f"{field}.recorded_by",
              N_("unknown role {role!r}"), role=recorded_by)
    waktu = parse_waktu(None)
    if node.get("waktu") is not None:
        try:
            waktu = parse_waktu(str(node["waktu"]))
        except WaktuError as exc:
            c.add(c.line_of(node, "waktu"), f"{field}.waktu", N_("{error}"), error=str(exc))
    if len(c.problems) > before or recorded_by is None or not waits_for:
        return None
    return ExternalWait(tuple(waits_for), recorded_by, waktu,
                        c.text(node, "label", f"{field}.label", required=False),
                        c.text(node, "label_en", f"{field}.label_en", required=False))


def _build_starters(
    c: _Checker, doc: _Map, role_ids: set[str], steps: list[Step], external: set[str]
) -> tuple[str, ...]:
    seq = c.sequence(doc, "starters", "starters", required=False)
    if seq is None:
        first = min((s for s in steps if s.trigger is Trigger.SEQUENCE), key=lambda s: s.no,
                    default=None)
        return (first.actor,) if first else ()
    starters = []
    for i, item in enumerate(seq):
        if item not in role_ids:
            c.add(c.line_of(seq, i), f"starters[{i}]", N_("unknown role {role!r}"), role=item)
        elif item in external:
            c.add(c.line_of(seq, i), f"starters[{i}]",
                  N_("{role!r} is external: only officials of the office can start a flow"),
                  role=item)
        else:
            starters.append(str(item))
    return tuple(starters)


def _build_per_official(
    c: _Checker, doc: _Map, roles: list[Role]
) -> tuple[PerOfficial | None, tuple[ReportingLine, ...]]:
    role_ids = {r.id for r in roles}
    lines: list[ReportingLine] = []
    seq = c.sequence(doc, "reporting_lines", "reporting_lines", required=False)
    for i, node in enumerate(seq or []):
        field = f"reporting_lines[{i}]"
        if not isinstance(node, _Map):
            c.add(c.line_of(seq, i), field, N_("expected {{role: ..., atasan: ...}}"))
            continue
        role = c.text(node, "role", f"{field}.role", required=True)
        atasan = c.text(node, "atasan", f"{field}.atasan", required=True)
        for key, value in (("role", role), ("atasan", atasan)):
            if value is not None and value not in role_ids:
                c.add(c.line_of(node, key), f"{field}.{key}", N_("unknown role {role!r}"),
                      role=value)
        if role and atasan:
            if any(line.role == role for line in lines):
                c.add(c.line_of(node, "role"), f"{field}.role",
                      N_("{role!r} already has an atasan"), role=role)
            lines.append(ReportingLine(role, atasan))
    node = c.mapping(doc, "per_official", "per_official", required=False)
    if node is None:
        for r in roles:
            if r.relation is not None:
                c.add(doc.key_lines.get("roles", 1), f"roles ({r.id}).relation",
                      N_("relation is only meaningful in a per_official flow"))
        return None, tuple(lines)
    subject = c.text(node, "subject", "per_official.subject", required=True)
    atasan = c.text(node, "atasan", "per_official.atasan", required=True)
    by_id = {r.id: r for r in roles}
    for key, value, relation in (("subject", subject, Relation.SUBJECT),
                                 ("atasan", atasan, Relation.ATASAN)):
        if value is None:
            continue
        if value not in by_id:
            c.add(c.line_of(node, key), f"per_official.{key}", N_("unknown role {role!r}"),
                  role=value)
        elif by_id[value].relation is not relation:
            c.add(c.line_of(node, key), f"per_official.{key}",
                  N_("role {role!r} must be declared with relation: {relation}"),
                  role=value, relation=relation.value)
    levels_seq = c.sequence(node, "levels", "per_official.levels", required=True)
    levels: list[str] = []
    for i, item in enumerate(levels_seq or []):
        field = f"per_official.levels[{i}]"
        if item not in role_ids:
            c.add(c.line_of(levels_seq, i), field, N_("unknown role {role!r}"), role=item)
        elif not any(line.role == item for line in lines):
            c.add(c.line_of(levels_seq, i), field,
                  N_("no reporting line says who the atasan of {role!r} is"), role=item)
        else:
            levels.append(str(item))
    if subject is None or atasan is None or not levels:
        return None, tuple(lines)
    return PerOfficial(subject, atasan, tuple(levels)), tuple(lines)


TARGET_KEYS = ("basis", "label", "label_en", "months", "days", "regulation")


def _build_target(c: _Checker, doc: _Map) -> Target | None:
    """``target``: a deadline for the whole flow, from a date given at start (see Target)."""
    node = c.mapping(doc, "target", "target", required=False)
    if node is None:
        return None
    for key in node:
        if key not in TARGET_KEYS:
            c.add(c.line_of(node, key), f"target.{key}", N_("unknown field (known: {known})"),
                  known=", ".join(TARGET_KEYS))
    basis = c.text(node, "basis", "target.basis", required=True)
    if basis and not ALIAS.match(basis):
        c.add(c.line_of(node, "basis"), "target.basis",
              N_("one word of letters, digits and '-' (e.g. PK)"))
    label = c.text(node, "label", "target.label", required=True)
    amounts = {key: _int_field(c, node, key, f"target.{key}") if key in node else 0
               for key in ("months", "days")}
    if any(v is not None and v < 0 for v in amounts.values()) or not any(amounts.values()):
        c.add(node.line, "target", N_("give months and/or days after the date, at least one "
                                      "above zero"))
    if basis is None or label is None or None in amounts.values():
        return None
    return Target(basis=basis, label=label, months=amounts["months"] or 0,
                  days=amounts["days"] or 0,
                  label_en=c.text(node, "label_en", "target.label_en", required=False),
                  regulation=c.text(node, "regulation", "target.regulation", required=False))


def _build_cycles(
    c: _Checker, doc: _Map, role_ids: set[str], step_nos: set[int],
    per_official: PerOfficial | None,
) -> tuple[Cycle, ...]:
    # (About 60 lines: one check per field of a cycle, in the order they are written.)
    seq = c.sequence(doc, "cycles", "cycles", required=False)
    cycles: list[Cycle] = []
    for i, node in enumerate(seq or []):
        field = f"cycles[{i}]"
        if not isinstance(node, _Map):
            c.add(c.line_of(seq, i), field, N_("expected a mapping, got {kind}"),
                  kind=_kind(node))
            continue
        before = len(c.problems)
        cycle_id = c.text(node, "id", f"{field}.id", required=True)
        name = c.text(node, "name", f"{field}.name", required=True)
        period = None
        try:
            period = Period(str(node.get("period")))
        except ValueError:
            c.add(c.line_of(node, "period"), f"{field}.period", N_("must be one of {values}"),
                  values=", ".join(p.value for p in Period))
        steps_seq = c.sequence(node, "steps", f"{field}.steps", required=True)
        nos = []
        for j, no in enumerate(steps_seq or []):
            if no not in step_nos:
                c.add(c.line_of(steps_seq, j), f"{field}.steps[{j}]", N_("no step {no!r}"),
                      no=no)
            else:
                nos.append(int(no))
        due = c.mapping(node, "due", f"{field}.due", required=True)
        days = None
        if due is not None:
            if "working_days_after_period_end" not in due:
                c.add(due.line, f"{field}.due.working_days_after_period_end",
                      N_("required field is missing"))
            else:
                days = _int_field(c, due, "working_days_after_period_end",
                                  f"{field}.due.working_days_after_period_end")
                if days is not None and days < 0:
                    c.add(c.line_of(due, "working_days_after_period_end"),
                          f"{field}.due.working_days_after_period_end",
                          N_("must be 0 or more"))
        applies = c.text(node, "applies_to", f"{field}.applies_to", required=True)
        if applies == "subject" and per_official is None:
            c.add(c.line_of(node, "applies_to"), f"{field}.applies_to",
                  N_("'subject' needs a per_official flow"))
        elif applies is not None and applies != "subject" and applies not in role_ids:
            c.add(c.line_of(node, "applies_to"), f"{field}.applies_to",
                  N_("unknown role {role!r} (or 'subject')"), role=applies)
        collector = c.text(node, "collector", f"{field}.collector", required=False)
        if collector is not None and collector not in role_ids:
            c.add(c.line_of(node, "collector"), f"{field}.collector",
                  N_("unknown role {role!r}"), role=collector)
        if len(c.problems) > before or not (cycle_id and name and period and applies):
            continue
        if days is None:
            continue
        cycles.append(Cycle(cycle_id, name, period, tuple(nos), days, applies,
                            c.text(node, "done_when", f"{field}.done_when", required=False),
                            collector))
    return tuple(cycles)


def _check_graph(c: _Checker, doc: _Map, flow: Flow) -> None:
    """Checks that need the whole step table: revise targets, next targets, reachability.

    (About 60 lines: each check over the table beside the message it gives.)"""
    seq_node = doc["steps"]
    lines: dict[int, tuple[int, _Map]] = {}
    for i, node in enumerate(seq_node):
        if isinstance(node, _Map) and isinstance(node.get("no"), int):
            lines.setdefault(node["no"], (i, node))

    def where(no: int, key: str) -> tuple[int, str]:
        i, node = lines[no]
        return c.line_of(node, key), f"steps[{i}] (no {no}).{key}"

    for step in flow.steps:
        if step.on_revise is not None:
            line, field = where(step.no, "on_revise")
            if not flow.has_step(step.on_revise):
                c.add(line, field, N_("revise target {target} does not exist"),
                      target=step.on_revise)
            elif step.on_revise >= step.no:
                c.add(line, field, N_("revise target {target} must be an earlier step than {no}"),
                      target=step.on_revise, no=step.no)
            elif flow.step(step.on_revise).trigger is Trigger.EVENT:
                c.add(line, field, N_("revise target {target} is an event-triggered step"),
                      target=step.on_revise)
            elif (step.trigger is not Trigger.CYCLE
                  and flow.step(step.on_revise).trigger is Trigger.CYCLE):
                c.add(line, field, N_("revise target {target} runs only in a recurring duty"),
                      target=step.on_revise)
        if step.next not in (None, END):
            line, field = where(step.no, "next")
            if not flow.has_step(step.next):
                c.add(line, field, N_("next step {next} does not exist"), next=step.next)
            elif step.next <= step.no:
                c.add(line, field, N_("next must be a later step (use a decision's on_revise "
                                      "to go back)"))
        if step.trigger is not Trigger.SEQUENCE and step.next is not None:
            line, field = where(step.no, "next")
            c.add(line, field, N_("an event-triggered step does not continue the sequence"))
        _check_step_roles(c, flow, step, where)
    _check_cycle_steps(c, doc, flow, where)
    if c.problems:
        return
    reachable: set[int] = set()
    todo = [flow.first_step.no]
    while todo:
        no = todo.pop()
        if no in reachable:
            continue
        reachable.add(no)
        nxt = flow.successor(no)
        if nxt is not None:
            todo.append(nxt.no)
        back = flow.step(no).on_revise
        if back is not None:
            todo.append(back)
    for step in flow.sequence:
        if step.no not in reachable:
            line, field = where(step.no, "no")
            c.add(line, field, N_("step {no} can never be reached from step {first}"),
                  no=step.no, first=flow.first_step.no)
    if flow.header.jumlah_waktu is not None and flow.header.jumlah_waktu != flow.total_waktu:
        node = doc["header"]
        c.add(c.line_of(node, "jumlah_waktu"), "header.jumlah_waktu",
              N_("the SOP prints {printed} but the steps add up to {total}"),
              printed=str(flow.header.jumlah_waktu), total=str(flow.total_waktu))


#: Where a step's field is in the file: (step no, field) -> (line, field).
_Where = Callable[[int, str], tuple[int, str]]


def _check_step_roles(c: _Checker, flow: Flow, step: Step, where: _Where) -> None:
    """External roles never act; waits go outside and come back through an office role;
    an event step resumes the sequence at one of its steps."""
    if flow.is_external(step.actor):
        line, field = where(step.no, "actor")
        c.add(line, field, N_("{role!r} is external and cannot act in the office; put a wait "
                              "on the step that sends the document out"), role=step.actor)
    if step.wait is not None:
        line, field = where(step.no, "wait")
        for role in step.wait.waits_for:
            if not flow.is_external(role):
                c.add(line, f"{field}.for",
                      N_("{role!r} is an office role; a wait is for someone outside the office "
                         "(mark the role external: true)"), role=role)
        if flow.is_external(step.wait.recorded_by):
            c.add(line, f"{field}.recorded_by",
                  N_("{role!r} is external; the return is recorded by an office role"),
                  role=step.wait.recorded_by)
        if step.trigger is not Trigger.SEQUENCE or flow.successor(step.no) is None:
            c.add(line, field, N_("a wait needs a later step of the sequence to continue with"))
    if step.continue_at is not None:
        line, field = where(step.no, "continue_at")
        if not flow.has_step(step.continue_at):
            c.add(line, field, N_("next step {next} does not exist"), next=step.continue_at)
        elif flow.step(step.continue_at).trigger is not Trigger.SEQUENCE:
            c.add(line, field, N_("step {no} is not in the normal sequence"),
                  no=step.continue_at)


def _check_cycle_steps(c: _Checker, doc: _Map, flow: Flow, where: _Where) -> None:
    """A `trigger: cycle` step lives only in a recurring duty: some cycle must list it."""
    listed = {no for cycle in flow.cycles for no in cycle.steps}
    for step in flow.steps:
        if step.trigger is Trigger.CYCLE and step.no not in listed:
            line, field = where(step.no, "trigger")
            c.add(line, field, N_("no cycle lists step {no}; a cycle step runs only in a "
                                  "recurring duty"), no=step.no)
    for i, cycle in enumerate(flow.cycles):
        if cycle.collector is not None and flow.is_external(cycle.collector):
            node = doc["cycles"][i]
            c.add(c.line_of(node, "collector"), f"cycles[{i}].collector",
                  N_("{role!r} is external; the return is recorded by an office role"),
                  role=cycle.collector)
        _check_cycle_decisions(c, flow, cycle, where)


def _check_cycle_decisions(c: _Checker, flow: Flow, cycle: Cycle, where: _Where) -> None:
    """A decision inside a recurring duty (the DPRD semester evaluation) is the atasan's and
    sends the official back to one of his own earlier steps of the same cycle."""
    for pos, no in enumerate(cycle.steps):
        step = flow.step(no)
        if not step.is_decision:
            continue
        if flow.role(step.actor).relation is not Relation.ATASAN:
            line, field = where(no, "actor")
            c.add(line, field, N_("a decision in cycle {cycle!r} is the atasan's: its actor "
                                  "needs relation: atasan"), cycle=cycle.id)
        if step.on_revise is None or not flow.has_step(step.on_revise):
            continue
        line, field = where(no, "on_revise")
        if step.on_revise not in cycle.steps[:pos]:
            c.add(line, field, N_("revise target {target} is not an earlier step of cycle "
                                  "{cycle!r}: a revision in a recurring duty goes back within "
                                  "it"), target=step.on_revise, cycle=cycle.id)
        elif flow.role(flow.step(step.on_revise).actor).relation is Relation.ATASAN:
            c.add(line, field, N_("revise target {target} is the atasan's own step; a revision "
                                  "goes back to the official"), target=step.on_revise)


# --- a directory of flows ---------------------------------------------------------------


def flow_files(directory: str | Path) -> list[Path]:
    """The flow files in a directory, in a stable order."""
    directory = Path(directory)
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
                  and p.name not in ("calendar.yaml", "calendar.yml"))  # bot.calendar_file


def load_flows(directory: str | Path) -> list[Flow]:
    """Load every flow file in `directory`; problems in any file are all raised together."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FlowError([Problem.of(str(directory), 1, "(directory)", N_("no such directory"))])
    problems: list[Problem] = []
    flows: list[Flow] = []
    files = flow_files(directory)
    if not files:
        problems.append(Problem.of(str(directory), 1, "(directory)",
                                   N_("no flow files (*.yaml) here")))
    for path in files:
        try:
            flows.append(load_flow(path))
        except FlowError as exc:
            problems.extend(exc.problems)
    problems.extend(_cross_file_problems(flows))
    if problems:
        raise FlowError(problems)
    return flows


def _cross_file_problems(flows: list[Flow]) -> list[Problem]:
    """Ids unique across files; aliases unique per unit; one unit described one way."""
    problems: list[Problem] = []
    by_id: dict[str, Flow] = {}
    by_alias: dict[tuple[str, str], Flow] = {}
    units: dict[str, Flow] = {}
    for flow in flows:
        if flow.id in by_id:
            problems.append(Problem.of(flow.source, 1, "id",
                                       N_("flow id {id!r} is also used by {other}"),
                                       id=flow.id, other=by_id[flow.id].source))
        by_id.setdefault(flow.id, flow)
        key = (flow.unit.id, flow.alias.casefold())
        if key in by_alias:
            problems.append(Problem.of(flow.source, 1, "alias",
                                       N_("alias {alias!r} is already used in unit {unit!r} by "
                                          "{other}"),
                                       alias=flow.alias, unit=flow.unit.id,
                                       other=by_alias[key].source))
        by_alias.setdefault(key, flow)
        other = units.setdefault(flow.unit.id, flow)
        if other is not flow and other.unit != flow.unit:
            problems.append(Problem.of(flow.source, 1, "unit",
                                       N_("unit {unit!r} is described differently in {other}"),
                                       unit=flow.unit.id, other=other.source))
    return problems
