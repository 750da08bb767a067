"""What the people features say in chat: delegations begun and ended, a successor's hand-over,
the unit's member list (/anggota)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.engine.model import Flow
from bot.formatting import format_short
from bot.i18n import Translator
from bot.services.notices import (
    Ack,
    DelegationActiveAck,
    DelegationEndedAck,
    MutasiOfferAck,
    SuccessorAck,
    decode,
)
from bot.services.people import MemberRow
from bot.tg import render as base  # (render imports this module late: names looked up late)


def role_and_zone(flows: dict[str, Flow], unit: str, role: str, t: Translator) -> tuple[str, str]:
    """The role's title (in the reader's language where the flow gives one) and the zone."""
    for flow in flows.values():
        if flow.unit.id == unit and flow.has_role(role):
            # The office's own title: "Plh. Camat" is how the designation is written.
            return flow.role(role).title, flow.unit.timezone
    return role, "Asia/Jakarta"


def people_ack_text(ack: SuccessorAck | DelegationActiveAck | MutasiOfferAck,
                    flows: dict[str, Flow], t: Translator) -> str:
    """A people notice: a successor's hand-over, a delegation begun or ended."""
    _ = t.gettext
    if isinstance(ack, SuccessorAck):
        return _("You take over from {name}; their open steps are now yours (see /tugas).").format(
            name=ack.name)
    if isinstance(ack, MutasiOfferAck):
        flow = flows[ack.flow_id]
        step = flow.step(ack.step_no)
        return _("Mutasi: {new} takes over from {old}. {flow} has a step for a change of "
                 "official (step {no}: {title}). Start it now for the successor's PK?").format(
            new=ack.new, old=ack.old, no=step.no, title=base.step_title(step, t),
            flow=base.flow_label(flow, ack.year, None, t))
    title, zone = role_and_zone(flows, ack.unit_id, ack.role_id, t)
    acting = f"{ack.acting.capitalize()}. {title}"
    n = ack.steps
    if isinstance(ack, DelegationEndedAck):
        return _("The {acting} period has ended: {role} is back with {holder}.").format(
            acting=acting, role=title, holder=ack.holder) + (
            " " + t.ngettext("{n} waiting step went back.",
                             "{n} waiting steps went back.", n).format(n=n) if n else "")
    return _("{acting}: {delegate} acts for {holder} until {until}. Steps and reminders "
             "of {role} go to {delegate}.").format(
        acting=acting, delegate=ack.delegate, holder=ack.holder, role=title,
        until=format_short(datetime.fromisoformat(ack.until), zone, t)) + (
        " " + t.ngettext("{n} waiting step moved with it.",
                         "{n} waiting steps moved with it.", n).format(n=n) if n else "")


def people_keyboard(notice: Mapping[str, Any] | Ack,
                    t: Translator) -> InlineKeyboardMarkup | None:
    """The buttons of a people notice: [Ya] [Tidak] on a mutasi offer, else none."""
    offer = decode("ack", notice) if isinstance(notice, Mapping) else notice
    if not isinstance(offer, MutasiOfferAck):
        return None
    data = f"mt:{offer.instance_id}:{offer.step_no}:{offer.successor}"
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t.gettext("Ya"), callback_data=f"{data}:y"),
        InlineKeyboardButton(t.gettext("Tidak"), callback_data=f"{data}:n")]])


def members_text(unit_name: str, rows: Sequence[MemberRow], titles: dict[str, str],
                 t: Translator) -> str:
    """/anggota: who holds what, who has not joined, current delegations."""
    _ = t.gettext
    lines = [_("👥 Members of {unit}").format(unit=unit_name)]
    joined = [r for r in rows if r.bound]
    waiting = [r for r in rows if not r.bound]
    for r in joined:
        roles = ", ".join(titles.get(x, x) for x in r.roles)
        lines.append(f"• {r.name} — {roles}" + (f" (NIP {r.nip})" if r.nip else ""))
        for d in r.delegations:
            if d["as"] == "delegate":
                lines.append("   " + _("{kind}. {role} for {other} until {until}").format(
                    kind=d["kind"].capitalize(), role=titles.get(d["role"], d["role"]),
                    other=d["other"], until=d["until"][:10]))
    if waiting:
        lines.append("")
        lines.append(_("Not joined yet ({n}):").format(n=len(waiting)))
        lines += [f"• {r.name} — {', '.join(titles.get(x, x) for x in r.roles)}"
                  for r in waiting]
    return "\n".join(lines)
