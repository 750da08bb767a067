"""Validation of flow files: a broken file is refused with every problem, each located."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.loader import FlowError, load_flow, load_flows, parse_flow
from tests.support.paths import DATA_DIR, FLOWS_DIR

MINI = (DATA_DIR / "mini.yaml").read_text(encoding="utf-8")


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


# --- office-grade fields: external roles, waits, continue_at, cycle steps, collector ------

OFFICE = (DATA_DIR / "office.yaml").read_text(encoding="utf-8")


def test_the_office_flow_is_valid() -> None:
    flow = parse_flow(OFFICE, "office.yaml")
    assert flow.step(7).continue_at == 3
    assert flow.step(4).holder_title == "Mengirim ke Bagian Organisasi"


def test_an_external_role_cannot_act_start_or_record_a_return() -> None:
    text = OFFICE.replace("starters: [kasubag, kepala]", "starters: [kasubag, bupati]")
    assert problems(text, "office.yaml") == [
        ("office.yaml", line_of(text, "starters:"), "starters[1]",
         "'bupati' is external: only officials of the office can start a flow")]
    text = (OFFICE.replace("{no: 5, title: Menerima kembali, actor: staf",
                           "{no: 5, title: Menerima kembali, actor: bupati")
            .replace("recorded_by: staf", "recorded_by: setda"))
    found = problems(text, "office.yaml")
    assert ("office.yaml", line_of(text, "actor: bupati"), "steps[4] (no 5).actor",
            "'bupati' is external and cannot act in the office; put a wait on the step that "
            "sends the document out") in found
    assert ("office.yaml", line_of(text, "wait:"), "steps[3] (no 4).wait.recorded_by",
            "'setda' is external; the return is recorded by an office role") in found


def test_a_wait_is_for_external_roles_and_needs_a_following_step() -> None:
    text = OFFICE.replace("for: [setda, bupati]", "for: [setda, kepala, raja]")
    found = problems(text, "office.yaml")
    assert ("office.yaml", line_of(text, "for: [setda"), "steps[3] (no 4).wait.for",
            "unknown role 'raja'") in found
    text = OFFICE.replace("for: [setda, bupati]", "for: [setda, kepala]")
    found = problems(text, "office.yaml")
    assert ("office.yaml", line_of(text, "wait:"), "steps[3] (no 4).wait.for",
            "'kepala' is an office role; a wait is for someone outside the office (mark the "
            "role external: true)") in found
    text = OFFICE.replace("waktu: 10 Hari", "waktu: sebentar").replace(
        "      recorded_by: staf\n", "")
    found = problems(text, "office.yaml")
    assert ("office.yaml", line_of(text, "wait:") + 1, "steps[3] (no 4).wait.recorded_by",
            "required field is missing") in found
    assert any(p[2] == "steps[3] (no 4).wait.waktu" and "sebentar" in p[3] for p in found)


def test_continue_at_only_on_event_steps_and_to_a_sequence_step() -> None:
    text = OFFICE.replace(
        "{no: 6, title: Mengarsipkan, actor: kasubag, waktu: 15 Menit, next: end}",
        "{no: 6, title: Mengarsipkan, actor: kasubag, waktu: 15 Menit, next: end, "
        "continue_at: 2}")
    assert problems(text, "office.yaml") == [
        ("office.yaml", line_of(text, "no: 6,"), "steps[5] (no 6).continue_at",
         "only an event-triggered step (trigger: event) says where the flow continues")]
    text = OFFICE.replace("continue_at: 3}", "continue_at: 9}")
    assert problems(text, "office.yaml") == [
        ("office.yaml", line_of(text, "continue_at: 9"), "steps[6] (no 7).continue_at",
         "next step 9 does not exist")]


def test_role_flags_must_be_booleans() -> None:
    text = OFFICE.replace("external: true}", "external: ya}", 1)
    assert ("office.yaml", line_of(text, "external: ya"), "roles[5].external",
            "must be true or false") in problems(text, "office.yaml")


CYCLE_STEPS = """
  - {no: 7, title: Lapor triwulan, actor: staf, waktu: 3 Bulan, trigger: cycle}
  - {no: 8, title: Menghimpun, actor: sekretaris, waktu: 30 Menit, trigger: cycle}
cycles:
  - id: triwulan
    name: Triwulan
    period: quarter
    steps: [7]
    due: {working_days_after_period_end: 10}
    applies_to: staf
    collector: raja
"""


def test_a_cycle_step_must_be_in_a_cycle_and_the_collector_a_role() -> None:
    text = MINI + CYCLE_STEPS
    found = problems(text, "mini.yaml")
    assert ("mini.yaml", line_of(text, "no: 8,"), "steps[7] (no 8).trigger",
            "no cycle lists step 8; a cycle step runs only in a recurring duty") not in found
    assert ("mini.yaml", line_of(text, "collector:"), "cycles[0].collector",
            "unknown role 'raja'") in found
    text = text.replace("collector: raja", "collector: sekretaris")
    assert problems(text, "mini.yaml") == [
        ("mini.yaml", line_of(text, "no: 8,"), "steps[7] (no 8).trigger",
         "no cycle lists step 8; a cycle step runs only in a recurring duty")]
    flow = parse_flow(text.replace("steps: [7]", "steps: [7, 8]"), "mini.yaml")
    assert [s.no for s in flow.sequence] == [1, 2, 3, 4, 5]  # cycle steps are not in it
    assert flow.cycles[0].collector == "sekretaris"
    assert [s.no for s in flow.cycle_steps("triwulan")] == [7, 8]


def test_a_decision_in_a_cycle_is_the_atasans_and_revises_within_the_cycle() -> None:
    path = FLOWS_DIR / "pengumpulan-data-kinerja-dprd-nganjuk.yaml"
    dprd = path.read_text(encoding="utf-8")
    flow = parse_flow(dprd, "dprd.yaml")
    assert flow.step(11).on_revise == 9 and flow.step(11).is_decision
    text = dprd.replace("    on_revise: 9\n", "    on_revise: 8\n")
    assert problems(text, "dprd.yaml") == [
        ("dprd.yaml", line_of(text, "on_revise: 8"), "steps[10] (no 11).on_revise",
         "revise target 8 is not an earlier step of cycle 'semester': a revision in a "
         "recurring duty goes back within it")]
    evaluation = dprd.index("  - no: 11")
    text = dprd[:evaluation] + dprd[evaluation:].replace("actor: atasan", "actor: pegawai", 1)
    assert problems(text, "dprd.yaml") == [
        ("dprd.yaml", line_of(text[evaluation:], "actor: pegawai")
         + text[:evaluation].count("\n"), "steps[10] (no 11).actor",
         "a decision in cycle 'semester' is the atasan's: its actor needs relation: atasan")]
    text = dprd.replace("steps: [9, 10, 11, 12]", "steps: [3, 9, 10, 11, 12]").replace(
        "    on_revise: 9\n", "    on_revise: 3\n")
    assert problems(text, "dprd.yaml") == [
        ("dprd.yaml", line_of(text, "on_revise: 3"), "steps[10] (no 11).on_revise",
         "revise target 3 is the atasan's own step; a revision goes back to the official")]
