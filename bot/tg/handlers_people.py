"""Chat handlers for people: /anggota (the unit admin's member list) and /delegasi (a holder
hands a role to a Plt/Plh for some days, with buttons)."""

from __future__ import annotations

import re
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.formatting import format_short
from bot.i18n import N_
from bot.services import Refused
from bot.services.people import PeopleProblem
from bot.tg.handlers import Caller, Context, member_only, refusal_text, reply, run
from bot.tg.render_people import members_text, role_and_zone

DELEGATION_PATTERN = r"^dg:"
MUTASI_PATTERN = r"^mt:"
_MUTASI = re.compile(r"^mt:([0-9a-f]{4,16}):(\d{1,4}):(\d{1,20}):([yn])$")
DAYS = (1, 2, 3, 5, 7, 14)


@member_only
async def anggota(update: Update, context: Context, caller: Caller) -> None:
    """``/anggota``: for a unit's admin, who holds what, who has not joined, delegations."""
    rt, member, t = caller
    if not member.admin_of:
        await reply(update, t.gettext("Only the unit's admin sees the member list."))
        return
    services = rt.services
    parts = []
    for unit in member.admin_of:
        rows = await run(services.member_rows, unit, rt.clock())
        parts.append(members_text(services.units().get(unit, unit), rows,
                                  services.roles_of_unit(unit), t))
    await reply(update, "\n\n".join(parts))


async def _choices(caller: Caller) -> list[tuple[str, str]]:
    """(unit, role) pairs the official may hand to a Plt/Plh (an atasan: their pairing)."""
    rt, member, _t = caller
    return await run(rt.services.delegable, member)


@member_only
async def delegasi(update: Update, context: Context, caller: Caller) -> None:
    """``/delegasi``: pick the role (when several), then the Plh, then how many days."""
    rt, _member, t = caller
    choices = await _choices(caller)
    if not choices:
        await reply(update, t.gettext("You hold no role that is handed to a Plt/Plh."))
        return
    buttons = [[InlineKeyboardButton(rt.services.role_title(u, r), callback_data=f"dg:r:{i}")]
               for i, (u, r) in enumerate(choices)]
    await reply(update, t.gettext("Which role is the Plh for?"),
                reply_markup=InlineKeyboardMarkup(buttons))


@member_only
async def delegation_pressed(update: Update, context: Context, caller: Caller) -> None:
    """The buttons of /delegasi: ``dg:r:<choice>``, ``dg:m:<choice>:<member>``,
    ``dg:d:<choice>:<member>:<days>``."""
    rt, member, t = caller
    _ = t.gettext
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    choices = await _choices(caller)
    try:
        unit, role = choices[int(parts[2])]
    except (IndexError, ValueError):
        await query.answer(_("This choice is no longer valid; send /delegasi again."))
        return
    await query.answer()
    if parts[1] == "r":
        rows = await run(rt.services.member_rows, unit, rt.clock())
        buttons = [[InlineKeyboardButton(r.name, callback_data=f"dg:m:{parts[2]}:{r.member_id}")]
                   for r in rows if r.bound and r.member_id != member.id][:30]
        await reply(update, _("Who acts as Plh. {role}?").format(
            role=rt.services.role_title(unit, role)), reply_markup=InlineKeyboardMarkup(buttons))
    elif parts[1] == "m" and len(parts) == 4:
        row = [InlineKeyboardButton(_("{n} days").format(n=n) if n > 1 else _("1 day"),
                                    callback_data=f"dg:d:{parts[2]}:{parts[3]}:{n}")
               for n in DAYS]
        await reply(update, _("For how long, from today?"),
                    reply_markup=InlineKeyboardMarkup([row[:3], row[3:]]))
    elif parts[1] == "d" and len(parts) == 5:
        now = rt.clock()
        try:
            d = await run(rt.services.delegate, unit=unit, role=role, to_member=parts[3],
                          holder_member=member.id, start=now,
                          until=now + timedelta(days=int(parts[4])), kind="plh", now=now)
        except (PeopleProblem, ValueError) as exc:
            text = exc.message.render(_) if isinstance(exc, PeopleProblem) else str(exc)
            await reply(update, text)
            return
        rt.changed()
        _title, zone = role_and_zone(rt.services.flows, unit, role, t)
        await reply(update, _("Done: {name} is Plh. {role} until {until}.").format(
            name=rt.services.member_name(d.delegate), role=rt.services.role_title(unit, role),
            until=format_short(d.until, zone, t)))


@member_only
async def mutasi_pressed(update: Update, context: Context, caller: Caller) -> None:
    """[Ya] / [Tidak] on a mutasi offer: ``mt:<instance>:<step>:<successor>:<y|n>``."""
    rt, member, t = caller
    _ = t.gettext
    query = update.callback_query
    assert query is not None
    match = _MUTASI.match(query.data or "")
    if match is None:
        await query.answer(_("This offer is no longer valid."))
        return
    instance_id, step_no, successor, answer = match.groups()
    if answer == "n":
        await query.answer()
        await query.edit_message_reply_markup(None)
        await reply(update, _("Not started. It can still be started later with "
                              "\"revisi <flow> <year> <reason>\"."))
        return
    try:
        await run(rt.services.mutasi_trigger, member, instance_id, int(step_no), successor,
                  _(REASON), rt.clock())
    except PeopleProblem as exc:
        await query.answer(exc.message.render(_), show_alert=True)
        return
    except Refused as exc:  # already running, cancelled meanwhile
        await query.answer(refusal_text(exc, t), show_alert=True)
        return
    rt.changed()
    await query.answer(_("Started."))
    await query.edit_message_reply_markup(None)
    await reply(update, _("Started: the event step goes to its holders for the successor's "
                          "PK."))


#: The cause recorded with the event step (``{name}``: the successor).
REASON = N_("Mutasi: {name} takes over")
