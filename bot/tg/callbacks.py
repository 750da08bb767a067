"""Callback data of inline buttons: short, versioned, and never over Telegram's 64 bytes.

A step button carries ``s:<instance>:<step>:<round>:<action>``. It names no unit: whoever
presses it is checked against the instance's unit and the step's role by the services, so a
crafted callback cannot reach another unit's instance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64

ADVANCE = "d"  # Selesai (task) / Setujui (decision)
REVISE = "r"  # Revisi
ACTIONS = (ADVANCE, REVISE)

STEP_PATTERN = r"^s:"
LANGUAGE_PATTERN = r"^l:"
CYCLE_PATTERN = r"^k:"
CONFIRM_PATTERN = r"^c1:"
WITHDRAW_PATTERN = r"^w1:"
DETAILS_PATTERN = r"^i1:"
_STEP = re.compile(r"^s:([0-9a-f]{4,16}):(\d{1,4}):(\d{1,4}):([dr])$")
_LANGUAGE = re.compile(r"^l:([a-z]{2})$")
_CYCLE = re.compile(r"^k:([0-9a-f]{12})$")
_CYCLE_REVISE = re.compile(r"^k:([0-9a-f]{12}):r$")  # 🔁 Revisi of a duty's evaluation


@dataclass(frozen=True)
class StepButton:
    """A decision button on a step message."""

    instance_id: str
    step_no: int
    round: int
    action: str

    def encode(self) -> str:
        data = f"s:{self.instance_id}:{self.step_no}:{self.round}:{self.action}"
        if len(data.encode()) > MAX_BYTES:  # cannot happen with the id format; guard anyway
            raise ValueError(f"callback data too long: {data!r}")
        return data

    @classmethod
    def decode(cls, data: str) -> StepButton | None:
        """The button, or None for data that is not ours (crafted or from an old version)."""
        match = _STEP.match(data or "")
        if not match:
            return None
        instance_id, step_no, round_no, action = match.groups()
        return cls(instance_id, int(step_no), int(round_no), action)


def language_button(language: str) -> str:
    """Callback data of a /bahasa choice."""
    return f"l:{language}"


def decode_language(data: str) -> str | None:
    match = _LANGUAGE.match(data or "")
    return match.group(1) if match else None


def cycle_button(task_id: str) -> str:
    """Callback data of a recurring duty's "done" button."""
    return f"k:{task_id}"


def decode_cycle(data: str) -> str | None:
    match = _CYCLE.match(data or "")
    return match.group(1) if match else None


def cycle_revise_button(task_id: str) -> str:
    """Callback data of the 🔁 Revisi button of a duty's evaluation (the atasan's)."""
    return f"k:{task_id}:r"


def decode_cycle_revise(data: str) -> str | None:
    match = _CYCLE_REVISE.match(data or "")
    return match.group(1) if match else None


# A confirmation asked before acting on typed text (issue 12): version 1 of ``c1:``.
CONFIRM_YES = "y"  # Ya: do what the official's message was understood to ask
CONFIRM_NO = "n"  # Tidak: do nothing
_CONFIRM = re.compile(r"^c1:([0-9a-f]{4,16}):(\d{1,4}):(\d{1,4}):([dr]):([yn]):(-?\d{1,20})$")


@dataclass(frozen=True)
class ConfirmButton:
    """Ya / Tidak under "Apakah Bapak menyetujui langkah 9 …?".

    Bound to the official who was asked (`member_id`), the step and its round: a press by
    someone else, or after the step moved on, does nothing. `action` is the step action the
    Ya performs (ADVANCE or REVISE); `answer` is CONFIRM_YES or CONFIRM_NO.
    """

    instance_id: str
    step_no: int
    round: int
    action: str
    answer: str
    member_id: str

    def encode(self) -> str:
        data = (f"c1:{self.instance_id}:{self.step_no}:{self.round}:{self.action}:"
                f"{self.answer}:{self.member_id}")
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data too long: {data!r}")
        return data

    @classmethod
    def decode(cls, data: str) -> ConfirmButton | None:
        match = _CONFIRM.match(data or "")
        if not match:
            return None
        instance_id, step_no, round_no, action, answer, member_id = match.groups()
        return cls(instance_id, int(step_no), int(round_no), action, answer, member_id)

    @property
    def step(self) -> StepButton:
        return StepButton(self.instance_id, self.step_no, self.round, self.action)


_WITHDRAW = re.compile(r"^w1:([0-9a-f]{4,16}):(\d{1,4}):(\d{1,4})$")


@dataclass(frozen=True)
class WithdrawButton:
    """"Tarik kembali" on a decided step message: withdraw that decision (version 1, ``w1:``).

    Only the official who decided may, within SOPBOT_UNDO_MINUTES, while nobody has acted
    since: the engine checks all of it when pressed."""

    instance_id: str
    step_no: int
    round: int

    def encode(self) -> str:
        return f"w1:{self.instance_id}:{self.step_no}:{self.round}"

    @classmethod
    def decode(cls, data: str) -> WithdrawButton | None:
        match = _WITHDRAW.match(data or "")
        if not match:
            return None
        instance_id, step_no, round_no = match.groups()
        return cls(instance_id, int(step_no), int(round_no))


_DETAILS = re.compile(r"^i1:([0-9a-f]{4,16}):(\d{1,4}):(\d{1,4})$")


@dataclass(frozen=True)
class DetailsButton:
    """"Rincian" under a step notification: the whole step, its note in full (``i1:``)."""

    instance_id: str
    step_no: int
    round: int

    def encode(self) -> str:
        return f"i1:{self.instance_id}:{self.step_no}:{self.round}"

    @classmethod
    def decode(cls, data: str) -> DetailsButton | None:
        match = _DETAILS.match(data or "")
        if not match:
            return None
        instance_id, step_no, round_no = match.groups()
        return cls(instance_id, int(step_no), int(round_no))
