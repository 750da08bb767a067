"""Errors of the use cases, which every chat reply and CLI message explains.

Each is a :class:`ServiceError`; what the reply needs is in its attributes. A message meant
for people travels as one :class:`bot.i18n.Message` (template + parameters), whatever layer
shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.engine.instance import Disposition, DomainError, Instance
from bot.engine.model import Flow
from bot.i18n import N_, Message
from bot.storage.records import Invite


class ServiceError(Exception):
    """A request that cannot be done; subclasses carry what the reply needs.

    `message` is what the official is told, as a :class:`~bot.i18n.Message` (the English
    ``str()`` of the error until a subclass says better).
    """

    @property
    def message(self) -> Message:
        return Message(N_("{error}"), error=str(self))


#: What an official is told of an invitation code that cannot be redeemed, by `reason`.
INVITE_PROBLEMS: dict[str, str] = {
    "unknown": N_("This invitation code is not valid. Check the link, or ask your admin for "
                  "a new one."),
    "used": N_("This invitation has already been used. Ask your admin for a new one."),
    "expired": N_("This invitation has expired. Ask your admin for a new one."),
    "external": N_("This invitation is for a role outside the office, which cannot join the "
                   "bot. Ask your admin for an invitation to your own role."),
}


class InviteProblem(ServiceError):
    """An invitation code that is unknown, used or expired (`reason` says which)."""

    def __init__(self, reason: str, invite: Invite | None = None) -> None:
        self.reason = reason
        self.invite = invite
        super().__init__(reason)

    @property
    def message(self) -> Message:
        return Message(INVITE_PROBLEMS[self.reason])


class UnknownUnitOrRole(ServiceError):
    """`sopbot invite` named a unit or role that no flow declares.

    ``str()`` is the English text; `message` (with its `template` and `params`) shows it in
    the reader's language through :meth:`render`.
    """

    def __init__(self, template: str, /, **params: str) -> None:
        self._message = Message(template, **params)
        self.template = template
        self.params = params
        super().__init__(str(self._message))

    @property
    def message(self) -> Message:
        return self._message

    def render(self, gettext: Callable[[str], str]) -> str:
        """The message in the language of `gettext`: translate the template, then fill it."""
        return self.message.render(gettext)


class NotAMember(ServiceError):
    """The Telegram user has not joined any unit."""


class FlowNotFound(ServiceError):
    """No flow in the official's units matches what they typed."""

    def __init__(self, key: str, known: Sequence[Flow]) -> None:
        self.key = key
        self.known = list(known)
        super().__init__(key)

    @property
    def message(self) -> Message:
        known = ", ".join(sorted({f"{f.alias} ({f.name})" for f in self.known}))
        return Message(N_("I know no flow {key!r} in your units. Known: {known}."),
                       key=self.key, known=known or "-")


class AmbiguousFlow(ServiceError):
    """The alias exists in several of the official's units."""

    def __init__(self, key: str, flows: Sequence[Flow]) -> None:
        self.key = key
        self.flows = list(flows)
        super().__init__(key)

    @property
    def message(self) -> Message:
        """The question; the units to choose from (`flows`) are listed after it."""
        return Message(N_("{key!r} exists in several of your units; add the unit after the "
                          "year, e.g. \"{key} 2025 {unit}\":"),
                       key=self.key, unit=self.flows[0].unit.id)


class BadQuery(ServiceError):
    """A command whose words are not understood (e.g. no year)."""

    def __init__(self, usage: str) -> None:
        self.usage = usage
        super().__init__(usage)

    @property
    def message(self) -> Message:
        return Message(N_("Write the flow and the year, e.g. \"{usage} PK 2025\"."),
                       usage=self.usage)


class AlreadyRunning(ServiceError):
    """That flow and year already exist in the unit."""

    def __init__(self, flow: Flow, instances: list[Instance]) -> None:
        self.flow = flow
        self.instances = instances
        super().__init__(flow.id)


class StaleStep(ServiceError):
    """The step was already decided (or the instance moved on)."""

    def __init__(self, instance: Instance, step_no: int, decided: Disposition | None) -> None:
        self.instance = instance
        self.step_no = step_no
        self.decided = decided
        super().__init__(step_no)


class Refused(ServiceError):
    """The engine refused the action; `error` is the domain error."""

    def __init__(self, error: DomainError) -> None:
        self.error = error
        super().__init__(str(error))

    @property
    def message(self) -> Message:
        return self.error.message


class NotStarted(ServiceError):
    """Nobody has started that flow for that year."""

    def __init__(self, flow: Flow, year: int) -> None:
        self.flow = flow
        self.year = year
        super().__init__(f"{flow.id} {year}")

    @property
    def message(self) -> Message:
        return Message(N_("{alias} {year} has not been started. Start it with \"mulai {alias} "
                          "{year}\"."), alias=self.flow.alias, year=self.year)


class UnknownInstance(ServiceError):
    """A button or reply that points at no instance the official may see."""
