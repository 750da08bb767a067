"""Validation of flow files: a broken file is refused with every problem, each located."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.loader import FlowError, load_flow, load_flows, parse_flow

MINI = (Path(__file__).parent / "data" / "mini.yaml").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    """1-based line number of the first line containing `needle`."""
    for i, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(needle)


def problems(text: str, file: str = "broken.yaml") -> list[tuple[str, int, str, str]]:
    with pytest.raises(FlowError) as info:
        parse_flow(text, file)
    return [(p.file, p.line, p.field, p.message) for p in info.value.problems]


def test_the_mini_flow_is_valid() -> None:
    flow = parse_flow(MINI, "mini.yaml")
    assert [s.no for s in flow.sequence] == [1, 2, 3, 4, 5]
    assert flow.step(6).trigger.value == "event"
    assert flow.starters == ("kepala",)  # default: the first step's actor


def test_unknown_actor_names_file_line_and_field() -> None:
    text = MINI.replace("actor: staf, waktu: 2 Jam", "actor: kasubag, waktu: 2 Jam")
    (p,) = problems(text)
    assert p[0] == "broken.yaml"
    assert p[1] == line_of(text, "actor: kasubag")
    assert p[2] == "steps[1] (no 2).actor"
    assert "unknown actor 'kasubag'" in p[3] and "roles: bidang, kepala, sekretaris, staf" in p[3]


def test_revise_target_missing_or_not_earlier() -> None:
    text = MINI.replace("on_revise: 2, waktu: 1 Jam", "on_revise: 9, waktu: 1 Jam").replace(
        "on_revise: 2, waktu: 10 Menit", "on_revise: 5, waktu: 10 Menit")
    found = problems(text)
    assert ("broken.yaml", line_of(text, "on_revise: 9"), "steps[3] (no 4).on_revise",
            "revise target 9 does not exist") in found
    assert ("broken.yaml", line_of(text, "on_revise: 5"), "steps[4] (no 5).on_revise",
            "revise target 5 must be an earlier step than 5") in found


def test_duplicate_step_numbers() -> None:
    text = MINI.replace("{no: 3, title: Mengisi", "{no: 2, title: Mengisi")
    found = problems(text)
    assert any(p[2] == "steps[2] (no 2).no" and p[1] == line_of(text, "title: Mengisi")
               and f"first at line {line_of(text, 'title: Mengonsep')}" in p[3] for p in found)


def test_unreachable_step() -> None:
    text = MINI.replace("actor: staf, waktu: 2 Jam", "actor: staf, waktu: 2 Jam, next: 4")
    (p,) = problems(text)
    assert p[1:] == (line_of(text, "{no: 3,"), "steps[2] (no 3).no",
                     "step 3 can never be reached from step 1")


def test_unparsable_waktu() -> None:
    text = MINI.replace("waktu: 1 Hari", "waktu: sebentar")
    (p,) = problems(text)
    assert p[1] == line_of(text, "sebentar") and p[2] == "steps[2] (no 3).waktu"
    assert "sebentar" in p[3]


def test_missing_required_header_fields() -> None:
    text = MINI.replace("  disahkan_oleh: Kepala\n", "").replace("  nama_sop: Mini SOP\n", "")
    found = problems(text)
    fields = {p[2] for p in found}
    assert {"header.disahkan_oleh", "header.nama_sop"} <= fields
    assert all(p[1] == line_of(text, "header:") for p in found)
    assert all("write null" in p[3] for p in found)


def test_every_problem_is_listed_at_once() -> None:
    text = (MINI.replace("actor: staf, waktu: 2 Jam", "actor: nobody, waktu: 2 Jam")
            .replace("waktu: 1 Hari", "waktu: 1 minggu")
            .replace("alias: MINI", "alias: 'two words'"))
    fields = {p[2] for p in problems(text)}
    assert {"steps[1] (no 2).actor", "steps[2] (no 3).waktu", "alias"} <= fields


def test_decision_without_revise_target() -> None:
    text = MINI.replace("kind: decision, on_revise: 2, waktu: 1 Jam",
                        "kind: decision, waktu: 1 Jam")
    (p,) = problems(text)
    assert p[2] == "steps[3] (no 4).on_revise" and "needs on_revise" in p[3]


def test_jumlah_waktu_is_checked_against_the_steps() -> None:
    text = MINI.replace("  pencatatan_pendataan: []",
                        "  pencatatan_pendataan: []\n  jumlah_waktu: 1 Hari 3 Jam 25 Menit")
    (p,) = problems(text)
    assert p[2] == "header.jumlah_waktu"
    assert p[3] == ("the SOP prints 1 Hari 3 Jam 25 Menit but the steps add up to "
                    "1 Hari 3 Jam 20 Menit")
    ok = MINI.replace("  pencatatan_pendataan: []",
                      "  pencatatan_pendataan: []\n  jumlah_waktu: 1 hari 3 jam 20 menit")
    assert str(parse_flow(ok).header.jumlah_waktu) == "1 Hari 3 Jam 20 Menit"


def test_yaml_syntax_error_is_located() -> None:
    text = MINI.replace("roles:\n", "roles:\n  - {id: x, title: [\n")
    ((file, line, field, _),) = problems(text)
    assert (file, field) == ("broken.yaml", "(yaml)") and line >= line_of(text, "{id: x")


def test_step_number_key_is_not_read_as_yaml_boolean() -> None:
    """YAML 1.1 reads `no:` as False; our loader must not."""
    assert parse_flow(MINI).step(1).no == 1


def test_bad_office_hours_and_timezone() -> None:
    text = MINI.replace("unit: {id: kantor, name: Kantor Uji}",
                        "unit: {id: kantor, name: Kantor Uji, timezone: Mars/Olympus,\n"
                        "       office_hours: {mon: '9-5'}}")
    fields = {p[2] for p in problems(text)}
    assert fields == {"unit.timezone", "unit.office_hours"}


def test_load_flows_reports_cross_file_problems(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MINI, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(MINI.replace("id: mini", "id: mini-b"), encoding="utf-8")
    with pytest.raises(FlowError) as info:
        load_flows(tmp_path)
    (p,) = info.value.problems
    assert p.file.endswith("b.yaml") and p.field == "alias"
    assert "already used in unit 'kantor'" in p.message


def test_load_flow_of_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match="cannot read"):
        load_flow(tmp_path / "nope.yaml")
