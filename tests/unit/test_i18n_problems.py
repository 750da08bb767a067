"""Flow, configuration and invitation problems are message ids plus parameters.

The engine records the English template and its values; the command line renders them in the
reader's language. English output stays exactly what it always was.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import (
    ConfigError,
    ConfigProblem,
    invite_ttl_from,
    render_problems,
    settings_from_env,
)
from bot.engine.loader import FlowError, Problem, load_flows, parse_flow
from bot.i18n import Message
from bot.services import Services, UnknownUnitOrRole
from bot.storage import Store
from tests.support.paths import DATA_DIR, FLOWS_DIR, ROOT

MINI = (DATA_DIR / "mini.yaml").read_text(encoding="utf-8")

# A tiny Indonesian catalog, only for the messages these tests meet.
INDONESIAN = {
    "unknown field (known: {known})": "kolom tidak dikenal (yang dikenal: {known})",
    "expected a whole number, got {kind}": "seharusnya bilangan bulat, bukan {kind}",
    "a list": "daftar",
    "unknown actor {actor!r} (roles: {roles})":
        "pelaksana {actor!r} tidak dikenal (peran: {roles})",
    "{error}": "{error}",
    "(directory)": "(direktori)",
    "no such directory": "direktori tidak ada",
    "SOPBOT_INVITE_TTL_DAYS: {value!r} is not a positive number of days":
        "SOPBOT_INVITE_TTL_DAYS: {value!r} bukan jumlah hari yang positif",
    "SOPBOT_FLOWS_DIR: {path} is not a directory of flow files":
        "SOPBOT_FLOWS_DIR: {path} bukan direktori berkas alur",
    "unknown unit {unit!r}; units: {units}": "unit {unit!r} tidak dikenal; unit: {units}",
}


def indonesian(message: str) -> str:
    """A dict-based gettext: untranslated messages stay English, as with a real catalog."""
    return INDONESIAN.get(message, message)


def english(message: str) -> str:
    return message


BROKEN = (
    MINI.replace("name: Mini SOP\n", "name: Mini SOP\ncolour: 7\n", 1)
    .replace("{no: 1, title: Memerintahkan", "{no: [1], title: Memerintahkan")
    .replace("actor: staf, waktu: 2 Jam", "actor: kasubag, waktu: 2 Jam")
    .replace("waktu: 1 Hari", "waktu: 1 Tahun")
)


def flow_problems(text: str, file: str = "rusak.yaml") -> list[Problem]:
    with pytest.raises(FlowError) as info:
        parse_flow(text, file)
    return info.value.problems


def test_flow_problems_render_in_indonesian() -> None:
    problems = flow_problems(BROKEN)
    lines = [p.render(indonesian) for p in problems]
    assert lines[:3] == [
        "rusak.yaml:5: colour: kolom tidak dikenal (yang dikenal: alias, cycles, header, id, "
        "name, name_en, per_official, reporting_lines, roles, starters, steps, target, unit)",
        "rusak.yaml:27: steps[0].no: seharusnya bilangan bulat, bukan daftar",  # nested message
        "rusak.yaml:28: steps[1] (no 2).actor: pelaksana 'kasubag' tidak dikenal "
        "(peran: bidang, kepala, sekretaris, staf)",
    ]
    # A message from waktu.py is passed through as the {error} parameter.
    assert lines[3].startswith("rusak.yaml:29: steps[2] (no 3).waktu: unknown unit 'Tahun'")
    with pytest.raises(FlowError) as info:
        load_flows(ROOT / "no-such-directory")
    (line,) = info.value.render(indonesian)
    assert line == f"{ROOT / 'no-such-directory'}:1: (direktori): direktori tidak ada"


def test_flow_problems_in_english_are_unchanged() -> None:
    problems = flow_problems(BROKEN)
    for p in problems:
        assert p.render(english) == str(p) == f"{p.file}:{p.line}: {p.field}: {p.message}"
    assert problems[2].message == ("unknown actor 'kasubag' (roles: bidang, kepala, sekretaris, "
                                   "staf)")
    assert problems[1].message == "expected a whole number, got a list"


def test_problems_still_sort_and_hash_by_their_text() -> None:
    a = Problem.of("f.yaml", 3, "id", "unknown role {role!r}", role="x")
    b = Problem("f.yaml", 3, "id", "unknown role 'x'")  # built from ready text
    assert a == b and hash(a) == hash(b) and sorted([b, a]) == [b, a]
    assert b.message_id == "{error}" and b.params == {"error": "unknown role 'x'"}
    assert b.render(indonesian) == str(b)


BROKEN_FILES = [
    BROKEN,
    "just text",
    "id: [unclosed",
    MINI.replace("kind: decision, on_revise: 2, waktu: 1 Jam", "kind: maybe, waktu: 1 Jam"),
    MINI.replace("on_revise: 2, waktu: 1 Jam", "on_revise: 9, waktu: 1 Jam")
    .replace("on_revise: 2, waktu: 10 Menit", "on_revise: 5, waktu: 10 Menit"),
    MINI.replace("{no: 3, title: Mengisi", "{no: 2, title: Mengisi")
    .replace("{id: staf, title: Staf}", "{id: kepala, title: Staf}"),
    MINI.replace("unit: {id: kantor, name: Kantor Uji}",
                 "unit: {id: Kantor, name: Kantor Uji, timezone: Mars/Base, office_hours: 8}")
    .replace("nomor_sop: \"1\"", "nomor_sop: {a: 1}\n  jumlah_waktu: 1 Jam\n  warna: merah"),
    MINI + "starters: [raja]\nreporting_lines: [x]\ncycles:\n"
           "  - {id: c, name: C, period: weekly, steps: [99], due: {}, applies_to: subject}\n",
    MINI.replace("roles:\n", "roles:\n  - {id: atasan, title: A, relation: boss}\n")
    + "per_official: {subject: staf, atasan: kepala, levels: [kepala, nobody]}\n",
    MINI.replace("{no: 5, title: Menandatangani, actor: kepala, kind: decision, on_revise: 2,",
                 "{no: 5, title: Menandatangani, actor: kepala, next: 2, on_revise: 2,"),
]


def fields_of(template: str) -> set[str]:
    """The placeholder names of a ``str.format`` template ({{ and }} are not placeholders)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def message_trees(message_id: str, params: Mapping[str, Any]) -> Iterator[tuple[str, set[str]]]:
    """Each template with the parameter names it is given, nested messages included."""
    yield message_id, set(params)
    for value in params.values():
        if isinstance(value, Message):
            yield from message_trees(value.template, value.params)


@pytest.mark.parametrize("text", BROKEN_FILES)
def test_placeholders_are_exactly_the_params(text: str) -> None:
    problems = flow_problems(text)
    assert problems
    for p in problems:
        for template, names in message_trees(p.message_id, p.params):
            assert fields_of(template) == names, (template, names)


def test_config_error_renders_each_item_through_gettext(tmp_path: Path) -> None:
    asked: list[str] = []

    def gettext(message: str) -> str:
        asked.append(message)
        return indonesian(message)

    with pytest.raises(ConfigError) as info:
        settings_from_env({"TELEGRAM_BOT_TOKEN": "1:x", "SOPBOT_INVITE_TTL_DAYS": "-1",
                           "SOPBOT_FLOWS_DIR": str(tmp_path / "none")})
    exc = info.value
    assert exc.problems == [
        f"SOPBOT_FLOWS_DIR: {tmp_path / 'none'} is not a directory of flow files",
        "SOPBOT_INVITE_TTL_DAYS: '-1' is not a positive number of days",
    ]
    assert all(type(p) is str for p in exc.problems)  # plain English text, as before
    assert exc.items == [
        ("SOPBOT_FLOWS_DIR: {path} is not a directory of flow files",
         {"path": str(tmp_path / "none")}),
        ("SOPBOT_INVITE_TTL_DAYS: {value!r} is not a positive number of days", {"value": "-1"}),
    ]
    assert exc.render(gettext) == [
        f"SOPBOT_FLOWS_DIR: {tmp_path / 'none'} bukan direktori berkas alur",
        "SOPBOT_INVITE_TTL_DAYS: '-1' bukan jumlah hari yang positif",
    ]
    assert asked == [template for template, _ in exc.items]
    assert exc.render(english) == exc.problems
    for template, params in exc.items:
        assert fields_of(template) == set(params)


def test_config_problems_outside_a_config_error() -> None:
    problems: list[str] = []
    invite_ttl_from({"SOPBOT_INVITE_TTL_DAYS": "nol"}, problems)
    assert problems == ["SOPBOT_INVITE_TTL_DAYS: 'nol' is not a positive number of days"]
    assert render_problems([*problems, "plain text"], indonesian) == [
        "SOPBOT_INVITE_TTL_DAYS: 'nol' bukan jumlah hari yang positif", "plain text"]
    assert ConfigProblem("a {b}", b="c") == "a c"


def test_unknown_unit_renders_in_indonesian(tmp_path: Path) -> None:
    services = Services(Store(tmp_path), load_flows(FLOWS_DIR), invite_ttl=timedelta(days=1))
    with pytest.raises(UnknownUnitOrRole) as info:
        services.create_invite(unit="nowhere", role="staf", now=datetime.now(UTC))
    exc = info.value
    assert str(exc).startswith("unknown unit 'nowhere'; units: ")
    assert exc.render(english) == str(exc)
    assert exc.render(indonesian).startswith("unit 'nowhere' tidak dikenal; unit: ")
    assert fields_of(exc.template) == set(exc.params)
    unit = next(iter(services.units()))
    with pytest.raises(UnknownUnitOrRole) as info:
        services.create_invite(unit=unit, role="raja", now=datetime.now(UTC))
    assert str(info.value).startswith(f"unknown role 'raja' in {unit}; roles: ")
    assert fields_of(info.value.template) == set(info.value.params)


# --- every template is a literal marked with N_ -------------------------------------------


def _is_marked_literal(node: ast.expr) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "N_" and len(node.args) == 1 and not node.keywords
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))


def _calls(path: Path) -> list[tuple[ast.Call, set[str]]]:
    """Every call in a module, with the parameter names of the function it stands in."""
    found: list[tuple[ast.Call, set[str]]] = []

    def visit(node: ast.AST, params: set[str]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            a = node.args
            params = {arg.arg for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
        if isinstance(node, ast.Call):
            found.append((node, params))
        for child in ast.iter_child_nodes(node):
            visit(child, params)

    visit(ast.parse(path.read_text(encoding="utf-8")), set())
    return found


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else "?"
        return f"{owner}.{func.attr}"
    return func.id if isinstance(func, ast.Name) else "?"


# call name -> position of the message id among its arguments
TEMPLATE_ARGUMENT: dict[str, dict[str, int]] = {
    "bot/engine/loader.py": {"c.add": 2, "self.add": 2, "Problem.of": 3, "nested": 0},
    "bot/config.py": {"ConfigProblem": 0},
    "bot/services/membership.py": {"UnknownUnitOrRole": 0},
}


@pytest.mark.parametrize("relative", sorted(TEMPLATE_ARGUMENT))
def test_every_template_is_a_marked_literal(relative: str) -> None:
    positions = TEMPLATE_ARGUMENT[relative]
    seen = dict.fromkeys(positions, 0)
    for call, params in _calls(ROOT / relative):
        name = _name(call)
        if name in positions:
            seen[name] += 1
            arg = call.args[positions[name]]
            if isinstance(arg, ast.Name) and arg.id in params:
                continue  # a helper passing on the template it was given (checked at its callers)
            assert _is_marked_literal(arg), (
                f"{relative}:{call.lineno}: {name}() needs N_(\"literal template\"), "
                f"got {ast.unparse(arg)}")
        if name == "N_":
            assert _is_marked_literal(call), f"{relative}:{call.lineno}: N_() of a non-literal"
        # Nothing builds a problem from ready text any more.
        assert name != "Problem", f"{relative}:{call.lineno}: use Problem.of(N_(...), ...)"
        if name == "problems.append" and relative == "bot/config.py":
            (arg,) = call.args
            assert isinstance(arg, ast.Call) and _name(arg) == "ConfigProblem", (
                f"{relative}:{call.lineno}: append ConfigProblem(N_(...), ...), not text")
    assert all(seen.values()), seen


def test_the_engine_marker_is_the_identity() -> None:
    from bot.engine import loader

    assert loader.N_("x {y}") == "x {y}"
    source = (ROOT / "bot" / "engine" / "loader.py").read_text(encoding="utf-8")
    # The engine carries Message from the pure bot.i18n_message, never the catalogs (Babel).
    assert "from bot.i18n import" not in source and "import bot.i18n\n" not in source
    tree = ast.parse((ROOT / "bot" / "i18n_message.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported <= {"__future__", "collections.abc"}, imported


def test_ttl_problem_types() -> None:
    problems: list[str] = []
    invite_ttl_from({"SOPBOT_INVITE_TTL_DAYS": "0"}, problems)
    (problem,) = problems
    assert isinstance(problem, ConfigProblem) and problem.params == {"value": "0"}
