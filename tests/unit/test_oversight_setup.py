"""The oversight unit's declaration (SOPBOT_OVERSIGHT_UNIT) and the flow's `target` field:
validated, loaded, invited to, counted."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.bootstrap import build_services
from bot.config import ConfigError, oversight_from
from bot.engine.loader import FlowError, load_flows, parse_flow
from bot.engine.model import Target
from bot.services.oversight import BadTargetDate, split_target_date
from bot.storage import MemoryStore
from tests.support.paths import DATA_DIR, FLOWS_DIR, WIB

MINI = (DATA_DIR / "mini.yaml").read_text(encoding="utf-8")
TARGET = """target:
  basis: DPA
  label: pengesahan DPA
  months: 1
  regulation: PermenPAN-RB 53/2014
"""


def test_target_due_adds_calendar_months_clamped() -> None:
    pk = Target("DPA", "pengesahan DPA", months=1)
    assert pk.due(date(2026, 1, 15)) == date(2026, 2, 15)
    assert pk.due(date(2026, 1, 31)) == date(2026, 2, 28)
    assert pk.due(date(2026, 12, 10)) == date(2027, 1, 10)
    assert Target("X", "x", days=10).due(date(2026, 1, 25)) == date(2026, 2, 4)


def test_the_pk_flows_declare_the_dpa_target() -> None:
    flows = {f.id: f for f in load_flows(FLOWS_DIR)}
    for flow_id in ("pk-kec-neglasari", "pk-kec-sooko", "pk-kesbangpol-jateng",
                    "pk-inspektorat-nganjuk"):
        target = flows[flow_id].target
        assert target is not None and (target.basis, target.months) == ("DPA", 1)
        assert target.regulation == "PermenPAN-RB 53/2014"
    assert flows["pengumpulan-data-kinerja-dprd-nganjuk"].target is None


def test_loader_reads_and_checks_the_target() -> None:
    flow = parse_flow(MINI + TARGET, "mini.yaml")
    assert flow.target == Target("DPA", "pengesahan DPA", months=1,
                                 regulation="PermenPAN-RB 53/2014")
    broken = MINI + "target:\n  basis: two words\n  months: -1\n  weeks: 2\n"
    with pytest.raises(FlowError) as info:
        parse_flow(broken, "broken.yaml")
    found = {(p.field, p.message) for p in info.value.problems}
    assert ("target.weeks",
            "unknown field (known: basis, label, label_en, months, days, regulation)") in found
    assert ("target.basis", "one word of letters, digits and '-' (e.g. PK)") in found
    assert ("target.label", "required field is missing") in found
    assert ("target", "give months and/or days after the date, at least one above zero") in found


def test_the_date_typed_after_the_basis_word() -> None:
    flows = load_flows(FLOWS_DIR)
    assert split_target_date(flows, "PK 2026 DPA 15-01-2026") == ("PK 2026", "DPA",
                                                                  date(2026, 1, 15))
    assert split_target_date(flows, "PK 2026 kec-sooko dpa 1/2/2026") == (
        "PK 2026 kec-sooko", "DPA", date(2026, 2, 1))
    assert split_target_date(flows, "PK 2026") == ("PK 2026", None, None)
    with pytest.raises(BadTargetDate):
        split_target_date(flows, "PK 2026 DPA 30-02-2026")
    with pytest.raises(BadTargetDate):
        split_target_date(flows, "PK 2026 DPA")


def test_oversight_unit_is_validated_and_invited_like_any_unit() -> None:
    flows = load_flows(FLOWS_DIR)
    problems: list[str] = []
    assert oversight_from({}, problems) is None
    assert oversight_from({"SOPBOT_OVERSIGHT_UNIT": "Setda Jateng"}, problems) is None
    assert oversight_from({"SOPBOT_OVERSIGHT_UNIT": "kec-sooko"}, problems,
                          {f.unit.id for f in flows}) is None
    assert [str(p) for p in problems] == [
        "SOPBOT_OVERSIGHT_UNIT: 'Setda Jateng' is not a unit id (lowercase letters, digits "
        "and '-')",
        "SOPBOT_OVERSIGHT_UNIT: 'kec-sooko' is already a unit of the flows; give the "
        "oversight unit its own id"]
    with pytest.raises(ConfigError):
        build_services(flows, MemoryStore(), env={"SOPBOT_OVERSIGHT_UNIT": "kec-sooko"})
    services = build_services(flows, MemoryStore(), env={
        "SOPBOT_OVERSIGHT_UNIT": "setda-jateng", "SOPBOT_OVERSIGHT_NAME": "Biro Organisasi"})
    assert services.units()["setda-jateng"] == "Biro Organisasi"
    assert services.roles_of_unit("setda-jateng") == {
        "bagian_organisasi": "Bagian Organisasi Setda", "inspektorat": "Inspektorat",
        "sekda": "Sekretaris Daerah"}
    invite = services.create_invite(unit="setda-jateng", role="sekda",
                                    now=datetime(2026, 1, 5, 8, tzinfo=WIB))
    assert services.role_title(invite.unit, invite.role) == "Sekretaris Daerah"
    plain = build_services(flows, MemoryStore(), env={})
    assert plain.oversight is None and "setda-jateng" not in plain.units()
