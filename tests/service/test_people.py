"""People use cases on both backends: roster import, binding by NIP, delegation, mutasi."""

from __future__ import annotations

from datetime import timedelta

from bot.engine.instance import Action
from bot.services import TelegramUser
from bot.services.commands import Decide, Decision, Join, Start
from tests.support.services import NEGLASARI, World

SETWAN = "setwan-nganjuk"
HEAD = ("nip", "nama", "sapaan", "unit", "role", "atasan_nip", "telegram")


def rows(*lines: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    return [(i + 2, dict(zip(HEAD, (*line, *[""] * (7 - len(line))), strict=True)))
            for i, line in enumerate(lines)]


NEG = rows(("1001", "Budi Camat", "Bapak", NEGLASARI, "camat"),
           ("1002", "Sri Sekcam", "Ibu", NEGLASARI, "Sekretaris Camat", "1001"),
           ("1003", "Ani Perenkeu", "Ibu", NEGLASARI, "kasubag_perenkeu", "1002"),
           ("1004", "Dedi Umpeg", "Bapak", NEGLASARI, "kasubag_umpeg", "1002"),
           ("1005", "Eko Umpeg", "Bapak", NEGLASARI, "pejabat_unit_kerja", "1002"))


def bind_all(world: World, report_invitations: list) -> dict[str, str]:
    """Each official opens their link: NIP -> member id."""
    ids = {}
    for entry, invite in report_invitations:
        world._next_id += 1
        user = TelegramUser(id=world._next_id, chat_id=world._next_id, name="tg",
                            language_code="id")
        joined = world.services.redeem(Join(invite.code, user, world.now))
        world.people[entry.name] = joined.member
        ids[entry.nip] = joined.member.id
    return ids


def test_a_bad_roster_reports_every_problem_and_changes_nothing(world: World) -> None:
    bad = rows(("1001", "A", "Bapak", NEGLASARI, "camat"),
               ("1001", "B", "Tuan", "kec-x", "camat"),
               ("1003", "C", "Ibu", NEGLASARI, "camat", "999"),
               ("1004", "D", "Ibu", "inspektorat-nganjuk", "Bupati"),
               ("1005", "", "Ibu", NEGLASARI, "lurah"))
    report = world.services.import_roster(bad, world.now)
    found = {(p.row, p.column, p.message.template.split(" ")[0]) for p in report.problems}
    assert (3, "nip", "NIP") in found  # duplicate
    assert (3, "sapaan", "Bapak") in found
    assert (3, "unit", "unknown") in found
    assert (4, "role", "{role}") in found  # a second Camat
    assert (4, "atasan_nip", "atasan") in found
    assert (5, "role", "{role!r}") in found  # external
    assert (6, "nama", "empty") in found and (6, "role", "unknown") in found
    assert world.services.member_rows(None, world.now) == []


def test_import_binds_by_nip_and_reimport_reports_changes(world: World) -> None:
    report = world.services.import_roster(NEG, world.now)
    assert not report.problems and len(report.added) == 5 and len(report.invitations) == 5
    rows_before = world.services.member_rows(NEGLASARI, world.now)
    assert {r.bound for r in rows_before} == {False}
    ids = bind_all(world, report.invitations[:2])
    listed = {r.nip: r for r in world.services.member_rows(NEGLASARI, world.now)}
    assert listed["1002"].bound and listed["1002"].salutation == "Ibu"
    assert listed["1002"].roles == ["sekcam"] and listed["1002"].atasan_nip == "1001"
    assert not listed["1003"].bound
    with world.store.transaction(record_update=False) as repo:
        sekcam = repo.member(ids["1002"])
    assert sekcam is not None and sekcam.roles[0].atasan == ids["1001"]
    changed = rows(*[(*r[1].values(),) for r in NEG])
    changed[2][1]["nama"] = "Ani Perenkeu, S.E."
    again = world.services.import_roster(changed, world.now)
    assert again.added == [] and again.changed == [("1003", ["name"])]
    # the unbound keep their still-valid invitations (their slips stand): nothing new issued
    assert again.unchanged == 4 and again.invitations == []
    with world.store.transaction(record_update=False) as repo:
        entries = {e.nip: e for e in repo.roster()}
        codes = {i.code for _e, i in report.invitations}
        # the roster keeps an invitation's hash, never a usable code
        assert not codes & {e.invite_code for e in entries.values()}
        first = {e.nip: i for e, i in report.invitations}
        assert entries["1003"].invite_code == first["1003"].code_hash
        assert repo.invite(first["1003"].code) is not None  # the slip's code still works


def start_pk(world: World) -> str:
    camat = world.people["Budi Camat"]
    inst = world.services.start(Start(camat, "PK 2026", world.now)).instances[0]
    world.services.decide(Decide(world.people["Budi Camat"], inst.id, 1, None,
                                 Decision.ADVANCE, world.later(timedelta(minutes=5))))
    for step in (2, 3):
        world.services.decide(Decide(world.people["Ani Perenkeu"], inst.id, step, None,
                                     Decision.ADVANCE, world.later(timedelta(minutes=5))))
    return inst.id


def test_plh_receives_the_waiting_step_decides_and_the_role_returns(world: World) -> None:
    report = world.services.import_roster(NEG, world.now)
    ids = bind_all(world, report.invitations)
    inst_id = start_pk(world)  # step 4 (Camat's approval) waits
    d = world.services.delegate(unit=NEGLASARI, role="camat", to_nip="1002",
                                start=world.now, until=world.now + timedelta(days=3),
                                kind="plh", now=world.now)
    assert d.state == "active"
    with world.store.transaction(record_update=False) as repo:
        inst = repo.instance(inst_id)
    assert inst is not None and inst.active(4).pending == [ids["1002"]]
    told = [i.payload["ack"] for i in world.outbox("Sri Sekcam", "ack")]
    assert "people_delegation_active" in told
    decided = world.services.decide(Decide(world.people["Sri Sekcam"], inst_id, 4, None,
                                           Decision.ADVANCE, world.later(timedelta(hours=1))))
    assert decided.disposition.acting_for == ids["1001"]
    assert decided.disposition.acting_kind == "plh"
    assert decided.disposition.action is Action.APPROVE
    # step 5 (Camat's task) is activated during the delegation: it goes to the Plh
    assert decided.instance.active(5).pending == [ids["1002"]]
    world.later(timedelta(days=3))
    assert world.services.tick(world.now) == 1
    with world.store.transaction(record_update=False) as repo:
        inst = repo.instance(inst_id)
    assert inst is not None and inst.active(5).pending == [ids["1001"]]
    assert "people_delegation_ended" in [i.payload["ack"]
                                         for i in world.outbox("Budi Camat", "ack")]


def test_mutasi_hands_the_open_step_to_the_successor(world: World) -> None:
    roster = [*NEG, *rows(("1006", "Fajar Perenkeu", "Bapak", NEGLASARI,
                           "pejabat_unit_kerja", "1002"))]
    report = world.services.import_roster(roster, world.now)
    ids = bind_all(world, report.invitations)
    inst = world.services.start(Start(world.people["Budi Camat"], "PK 2026",
                                      world.now)).instances[0]
    world.services.decide(Decide(world.people["Budi Camat"], inst.id, 1, None,
                                 Decision.ADVANCE, world.later(timedelta(minutes=5))))
    done = world.services.replace_member("1003", "1006", world.now)
    assert (done.old, done.new, done.steps) == ("Ani Perenkeu", "Fajar Perenkeu", 1)
    assert done.events == []  # Neglasari's PK declares no event step for a mutasi
    with world.store.transaction(record_update=False) as repo:
        assert repo.member(ids["1003"]) is None
        successor = repo.member(ids["1006"])
        assert successor is not None and "kasubag_perenkeu" in successor.roles_in(NEGLASARI)
    world.services.decide(Decide(successor, inst.id, 2, None, Decision.ADVANCE,
                                 world.later(timedelta(minutes=5))))


def test_remove_member_unbinds_and_voids_the_invitation(world: World) -> None:
    report = world.services.import_roster(NEG, world.now)
    assert world.services.remove_member("1005", world.now) == "Eko Umpeg"
    assert "1005" not in {r.nip for r in world.services.member_rows(None, world.now)}
    code = next(i.code for e, i in report.invitations if e.nip == "1005")
    user = TelegramUser(id=9, chat_id=9, name="x", language_code="id")
    try:
        world.services.redeem(Join(code, user, world.now))
    except Exception as exc:  # InviteProblem: expired
        assert getattr(exc, "reason", None) == "expired"
    else:
        raise AssertionError("a removed official's invitation still worked")


def test_delegation_refusals(world: World) -> None:
    report = world.services.import_roster(NEG, world.now)
    bind_all(world, report.invitations)
    from bot.services.people import PeopleProblem

    for kwargs in ({"unit": "x"}, {"role": "lurah"}, {"kind": "wakil"}, {"to_nip": "1001"},
                   {"to_nip": "42"}):
        args = {"unit": NEGLASARI, "role": "camat", "to_nip": "1002", "start": world.now,
                "until": world.now + timedelta(days=1), "kind": "plh", "now": world.now,
                **kwargs}
        try:
            world.services.delegate(**args)
        except PeopleProblem:
            continue
        raise AssertionError(f"accepted {kwargs}")


def test_notify_holder_sends_the_holder_a_copy_of_new_steps(world: World) -> None:
    report = world.services.import_roster(NEG, world.now)
    ids = bind_all(world, report.invitations)
    world.services.delegate(unit=NEGLASARI, role="camat", to_nip="1002", start=world.now,
                            until=world.now + timedelta(days=3), kind="plt", now=world.now,
                            notify_holder=True)
    inst = world.services.start(Start(world.people["Sri Sekcam"], "PK 2026",
                                      world.now)).instances[0]
    assert inst.active(1).pending == [ids["1002"]]  # step 1 is the Camat's: the Plt's now
    for name in ("Sri Sekcam", "Budi Camat"):
        steps = [i.payload for i in world.outbox(name, "step")]
        assert [(p["instance_id"], p["step_no"]) for p in steps] == [(inst.id, 1)], name


def test_a_new_atasan_in_the_roster_reaches_a_joined_official(world: World) -> None:
    report = world.services.import_roster(NEG, world.now)
    ids = bind_all(world, report.invitations)
    moved = rows(*[(*r[1].values(),) for r in NEG])
    moved[3][1]["atasan_nip"] = "1001"  # Dedi now reports to the Camat directly
    again = world.services.import_roster(moved, world.now)
    assert again.changed == [("1004", ["atasan_nip"])]
    with world.store.transaction(record_update=False) as repo:
        dedi = repo.member(ids["1004"])
    assert dedi is not None
    assert [(m.role, m.atasan, m.atasan_nip) for m in dedi.roles] == [
        ("kasubag_umpeg", ids["1001"], "1001")]


def test_an_official_with_open_steps_is_not_removed(world: World) -> None:
    from bot.services.people import PeopleProblem

    report = world.services.import_roster(NEG, world.now)
    bind_all(world, report.invitations)
    world.services.start(Start(world.people["Budi Camat"], "PK 2026", world.now))
    try:
        world.services.remove_member("1001", world.now)
    except PeopleProblem as exc:
        assert "members replace" in str(exc)
    else:
        raise AssertionError("removed an official whose step was waiting")
    assert "1001" in {r.nip for r in world.services.member_rows(None, world.now)}


SETWAN_ROSTER = rows(("2001", "Djoko Sekwan", "Bapak", SETWAN, "sekwan"),
                     ("2002", "Kabag Umum", "Ibu", SETWAN, "kabag", "2001"),
                     ("2003", "Kasubag Satu", "Bapak", SETWAN, "kasubag", "2002"),
                     ("2004", "Kasubag Dua", "Bapak", SETWAN, "kasubag", "2002"),
                     ("2005", "Staf Satu", "Ibu", SETWAN, "staf", "2003"),
                     ("2006", "Staf Dua", "Ibu", SETWAN, "staf", "2004"),
                     ("2007", "Arsiparis TU", "Ibu", SETWAN, "kasubag_tu", "2002"))


def test_an_atasan_away_the_plh_receives_the_pdk_approvals_of_their_staff(
        world: World) -> None:
    """`sopbot delegate --nip ATASAN --to NIP`: Kasubag Satu is away; the approval of Staf
    Satu's PDK goes to Kasubag Dua (Plh); Kasubag Dua's own Staf stays theirs when the
    period ends, Staf Satu's pairing returns to Kasubag Satu."""
    report = world.services.import_roster(SETWAN_ROSTER, world.now)
    ids = bind_all(world, report.invitations)
    started = world.services.start(Start(world.people["Arsiparis TU"], "PDK 2026", world.now))
    inst = {i.subject: i for i in started.instances}
    satu, dua = inst[ids["2005"]], inst[ids["2006"]]
    for staf, i in (("Staf Satu", satu), ("Staf Dua", dua)):
        world.services.decide(Decide(world.member(staf), i.id, 1, None, Decision.ADVANCE,
                                     world.later(timedelta(minutes=5))))
    d = world.services.delegate_atasan(atasan_nip="2003", to_nip="2004", start=world.now,
                                       until=world.now + timedelta(days=2), kind="plh",
                                       now=world.now)
    assert (d.holder, d.delegate, d.state, d.role) == (ids["2003"], ids["2004"], "active",
                                                        "atasan")
    with world.store.transaction(record_update=False) as repo:
        now_satu, now_dua = repo.instance(satu.id), repo.instance(dua.id)
    assert now_satu is not None and now_dua is not None
    assert now_satu.active(2).pending == [ids["2004"]]  # the Plh approves Staf Satu's IKI
    assert now_dua.active(2).pending == [ids["2004"]]  # and their own Staf's, as before
    steps = {(p.payload["instance_id"], p.payload["step_no"])
             for p in world.outbox("Kasubag Dua", "step")}
    assert (satu.id, 2) in steps
    decided = world.services.decide(Decide(world.member("Kasubag Dua"), satu.id, 2, None,
                                           Decision.ADVANCE, world.later(timedelta(hours=1))))
    assert decided.disposition.acting_for == ids["2003"]
    assert decided.disposition.acting_kind == "plh"
    world.later(timedelta(days=2))
    assert world.services.tick(world.now) == 1
    with world.store.transaction(record_update=False) as repo:
        after_satu, after_dua = repo.instance(satu.id), repo.instance(dua.id)
    assert after_satu is not None and after_dua is not None
    assert after_satu.bindings["atasan"] == ids["2003"]  # the pairing is Kasubag Satu's again
    assert after_dua.bindings["atasan"] == ids["2004"]
    assert after_dua.active(2).pending == [ids["2004"]]  # not handed to Kasubag Satu


def test_an_atasan_delegation_is_refused_for_who_is_nobody_s_atasan(world: World) -> None:
    from bot.services.people import PeopleProblem

    report = world.services.import_roster(SETWAN_ROSTER, world.now)
    bind_all(world, report.invitations)
    for atasan, to in (("2005", "2004"), ("9999", "2004"), ("2003", "2003")):
        try:
            world.services.delegate_atasan(atasan_nip=atasan, to_nip=to, start=world.now,
                                           until=world.now + timedelta(days=1), kind="plh",
                                           now=world.now)
        except PeopleProblem:
            continue
        raise AssertionError(f"accepted {atasan} -> {to}")


def test_a_reimport_with_a_new_holder_of_a_role_replaces_the_official(world: World) -> None:
    """The roster file now names Fajar (a new NIP) as Kasubag Perencanaan and no longer Ani:
    the import reports the replacement; Ani stays on until Fajar opens his link, then her
    open step, her role and her chat pass to him."""
    report = world.services.import_roster(NEG, world.now)
    ids = bind_all(world, report.invitations)
    started = world.services.start(Start(world.people["Budi Camat"], "PK 2026", world.now))
    inst = started.instances[0]
    world.services.decide(Decide(world.people["Budi Camat"], inst.id, 1, None,
                                 Decision.ADVANCE, world.later(timedelta(minutes=5))))
    lines = [(*r[1].values(),) for r in NEG]
    lines[2] = ("1006", "Fajar Perenkeu", "Bapak", NEGLASARI, "kasubag_perenkeu", "1002")
    again = world.services.import_roster(rows(*lines), world.now)
    assert [(o.nip, n.nip, done) for o, n, done in again.replaced] == [("1003", "1006", "on_join")]
    assert again.added == ["1006"] and [e.nip for e, _i in again.invitations] == ["1006"]
    listed = {r.nip: r for r in world.services.member_rows(NEGLASARI, world.now)}
    assert listed["1003"].bound and not listed["1006"].bound  # Ani acts until Fajar joins
    fajar = bind_all(world, again.invitations)["1006"]
    with world.store.transaction(record_update=False) as repo:
        assert repo.member(ids["1003"]) is None  # her chat is unbound
        assert repo.roster_entry("1003") is None
        successor = repo.member(fajar)
        now = repo.instance(inst.id)
    assert successor is not None and "kasubag_perenkeu" in successor.roles_in(NEGLASARI)
    assert now is not None and now.active(2).pending == [fajar]
    told = [(i.kind, i.payload.get("ack")) for i in world.outbox("Fajar Perenkeu")]
    assert told == [("ack", "joined"), ("ack", "people_successor"), ("step", None)]
    listed = {r.nip: r for r in world.services.member_rows(NEGLASARI, world.now)}
    assert "1003" not in listed and listed["1006"].bound
