"""Errors of the use cases, which every chat reply and CLI message explains.

Each is a :class:`ServiceError`; what the reply needs is in its attributes. A message meant
for people travels as one :class:`bot.i18n.Message` (template + parameters), whatever layer
shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.engine.instance import Disposition, DomainError, Instance
from bot.engine.model import Flow
from bot.i18n import Message
from bot.storage.records import Invite


class ServiceError(Exception):
    """A request that cannot be done; subclasses carry what the reply needs."""


class InviteProblem(ServiceError):
    """An invitation code that is unknown, used or expired (`reason` says which)."""

    def __init__(self, reason: str, invite: Invite | None = None) -> None:
        self.reason = reason
        self.invite = invite
        super().__init__(reason)


class UnknownUnitOrRole(ServiceError):
    """`sopbot invite` named a unit or role that no flow declares.

    ``str()`` is the English text; `message` (with its `template` and `params`) shows it in
    the reader's language through :meth:`render`.
    """

    def __init__(self, template: str, /, **params: str) -> None:
        self.message = Message(template, **params)
        self.template = template
        self.params = params
        super().__init__(str(self.message))

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


class AmbiguousFlow(ServiceError):
    """The alias exists in several of the official's units."""

    def __init__(self, key: str, flows: Sequence[Flow]) -> None:
        self.key = key
        self.flows = list(flows)
        super().__init__(key)


class BadQuery(ServiceError):
    """A command whose words are not understood (e.g. no year)."""

    def __init__(self, usage: str) -> None:
        self.usage = usage
        super().__init__(usage)


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


class NotStarted(ServiceError):
    """Nobody has started that flow for that year."""

    def __init__(self, flow: Flow, year: int) -> None:
        self.flow = flow
        self.year = year
        super().__init__(f"{flow.id} {year}")


class UnknownInstance(ServiceError):
    """A button or reply that points at no instance the official may see."""
