"""Moved to :mod:`bot.services.reminders` (this name is kept for existing imports)."""

from bot.services.reminders import HORIZON, LOOKBACK, Planned, Reminders, task_id

__all__ = ["HORIZON", "LOOKBACK", "Planned", "Reminders", "task_id"]
