"""Use cases: load state → ask the engine → store the result and the messages it causes.

No Telegram here. One module per responsibility — :mod:`.membership` (units, roles,
invitations, officials), :mod:`.workflow` (start, decide, ask a reason, attach),
:mod:`.notifications` (pure: events → notices), :mod:`.outbox` (delivery bookkeeping),
:mod:`.views` (status, tasks), :mod:`.reminders` — over the storage protocol. Their errors
are in :mod:`.errors`, what they take and return in :mod:`.results`.

:class:`Services` is all of them over one store and the loaded flows; build it with
:func:`bot.bootstrap.build_services`.
"""

from bot.services.base import handling_update
from bot.services.conversation import ConversationService
from bot.services.errors import (
    AlreadyRunning,
    AmbiguousFlow,
    BadQuery,
    FlowNotFound,
    InviteProblem,
    NotAMember,
    NotStarted,
    Refused,
    ServiceError,
    StaleStep,
    UnknownInstance,
    UnknownUnitOrRole,
)
from bot.services.flowops import FlowOpsService
from bot.services.outbox import OutboxService
from bot.services.oversight import OversightService
from bot.services.people_delegation import DelegationService
from bot.services.people_mutasi import MutasiService
from bot.services.results import (
    ActiveStepView,
    Decided,
    InstanceStatus,
    Joined,
    PerOfficialStatus,
    ReasonAsked,
    Started,
    Task,
    TelegramUser,
    UnitOverview,
)
from bot.services.views import ViewService
from bot.services.workflow import WorkflowService
from bot.storage import StoreError
from bot.storage.records import Member, OutboxItem, PendingReason, StepMessage


class Services(MutasiService, ConversationService, FlowOpsService, OversightService,
               WorkflowService, ViewService, OutboxService, DelegationService):
    """Every use case of the bot, over one store and the loaded flows."""


__all__ = [
    "ActiveStepView", "AlreadyRunning", "AmbiguousFlow", "BadQuery", "Decided", "FlowNotFound",
    "InstanceStatus", "InviteProblem", "Joined", "Member", "NotAMember", "NotStarted",
    "OutboxItem", "PendingReason", "PerOfficialStatus", "ReasonAsked", "Refused",
    "ServiceError", "Services", "StaleStep", "Started", "StepMessage", "StoreError", "Task",
    "TelegramUser", "UnitOverview", "UnknownInstance", "UnknownUnitOrRole", "handling_update",
]
