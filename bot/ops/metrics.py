"""What an operator measures: Prometheus metrics of the running bot.

The bot's code calls the one-line functions below at the points where things happen (the
poller, the outbox sender, the store's atomic write, reminders, transitions); the outbox's
depth and age are read from the store when ``/metrics`` is scraped. Everything lives in one
registry, :data:`REGISTRY`, rendered by :func:`render`.

Metric names (all prefixed ``sopbot_``):

- ``updates_total{outcome}`` — updates from Telegram: handled, skipped (already handled
  before a restart), failed (a handler failed; Telegram delivers it again);
- ``polls_total{outcome}`` — getUpdates calls: ok, network, conflict, token, rate_limited;
  ``last_poll_success_timestamp_seconds``;
- ``decisions_total{action}`` — transitions stored (start, done, approve, revise, …);
- ``messages_sent_total``; ``send_failures_total{reason}`` — blocked (403), chat_not_found,
  refused (other 400), unrenderable, network, timeout; ``rate_limited_total`` — 429 answers;
- ``outbox_pending``, ``outbox_undeliverable``, ``outbox_oldest_age_seconds``;
- ``reminders_sent_total{kind}``, ``reminder_lag_seconds`` (planned moment → sent);
- ``store_write_seconds`` — one atomic write of a data file, fsyncs included;
- the process's own (CPU, memory, open files) from prometheus-client.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

__all__ = [
    "REGISTRY", "decision", "last_poll_age", "message_sent",
    "poll_failed", "poll_succeeded", "rate_limited", "refresh_outbox", "reminder_sent",
    "render", "send_failed", "store_write", "update_done",
]

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

UPDATES = Counter("sopbot_updates", "Updates from Telegram, by outcome (handled, skipped, "
                  "failed)", ["outcome"], registry=REGISTRY)
POLLS = Counter("sopbot_polls", "getUpdates calls, by outcome", ["outcome"], registry=REGISTRY)
LAST_POLL = Gauge("sopbot_last_poll_success_timestamp_seconds",
                  "Unix time of the last getUpdates call that succeeded", registry=REGISTRY)
DECISIONS = Counter("sopbot_decisions", "Transitions stored, by action", ["action"],
                    registry=REGISTRY)
SENT = Counter("sopbot_messages_sent", "Outbox items delivered to Telegram", registry=REGISTRY)
SEND_FAILURES = Counter("sopbot_send_failures", "Outbox deliveries that failed, by reason",
                        ["reason"], registry=REGISTRY)
RATE_LIMITED = Counter("sopbot_rate_limited", "429 Too Many Requests answers from Telegram",
                       registry=REGISTRY)
OUTBOX_PENDING = Gauge("sopbot_outbox_pending", "Messages still to deliver", registry=REGISTRY)
OUTBOX_UNDELIVERABLE = Gauge("sopbot_outbox_undeliverable",
                             "Messages to officials who blocked the bot", registry=REGISTRY)
OUTBOX_OLDEST = Gauge("sopbot_outbox_oldest_age_seconds",
                      "Age of the oldest message still to deliver (0 when none)",
                      registry=REGISTRY)
REMINDERS = Counter("sopbot_reminders_sent", "Reminders queued, by kind", ["kind"],
                    registry=REGISTRY)
REMINDER_LAG = Histogram("sopbot_reminder_lag_seconds",
                         "From a reminder's planned moment to its sending",
                         buckets=(1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86400, float("inf")),
                         registry=REGISTRY)
STORE_WRITE = Histogram("sopbot_store_write_seconds",
                        "One atomic write of a data file (fsyncs included)",
                        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                                 2.5, float("inf")),
                        registry=REGISTRY)

_last_poll_monotonic: float | None = None


# --- one-line instrumentation calls ---------------------------------------------------------


def update_done(outcome: str) -> None:
    """An update was handled, skipped as already handled, or failed."""
    UPDATES.labels(outcome).inc()


def poll_succeeded() -> None:
    """getUpdates answered (with or without updates)."""
    telegram_answered()
    POLLS.labels("ok").inc()


def telegram_answered() -> None:
    """Polling mode reached Telegram (a getUpdates, or deleteWebhook before the first one)."""
    global _last_poll_monotonic
    _last_poll_monotonic = time.monotonic()
    LAST_POLL.set(time.time())


def poll_failed(reason: str) -> None:
    """getUpdates failed: network, conflict, token, rate_limited."""
    POLLS.labels(reason).inc()


def last_poll_age() -> float | None:
    """Seconds since the last successful getUpdates in this process, or None (never)."""
    if _last_poll_monotonic is None:
        return None
    return time.monotonic() - _last_poll_monotonic


def decision(action: str) -> None:
    """A transition was stored."""
    DECISIONS.labels(action).inc()


def message_sent() -> None:
    SENT.inc()


def send_failed(reason: str) -> None:
    """A delivery failed: blocked, chat_not_found, refused, unrenderable, network, timeout."""
    SEND_FAILURES.labels(reason).inc()


def rate_limited() -> None:
    """Telegram answered 429."""
    RATE_LIMITED.inc()


def reminder_sent(kind: str, lag_seconds: float) -> None:
    """A reminder was queued `lag_seconds` after its planned moment."""
    REMINDERS.labels(kind).inc()
    REMINDER_LAG.observe(max(0.0, lag_seconds))


def store_write(seconds: float) -> None:
    """A data file was written atomically in `seconds`."""
    STORE_WRITE.observe(seconds)


# --- scraping -------------------------------------------------------------------------------


def refresh_outbox(store: Any, now: datetime | None = None) -> dict[str, float | int]:
    """Read the outbox's depth and oldest item from the store into the gauges; the facts.

    Raises what the store raises when the data cannot be read.
    """
    now = now or datetime.now(UTC)
    with store.transaction(record_update=False) as repo:
        pending = repo.outbox("pending")
        undeliverable = len(repo.outbox("undeliverable"))
    oldest = min((item.created_at for item in pending), default=None)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    OUTBOX_PENDING.set(len(pending))
    OUTBOX_UNDELIVERABLE.set(undeliverable)
    OUTBOX_OLDEST.set(age)
    return {"pending": len(pending), "undeliverable": undeliverable,
            "oldest_age_seconds": round(age, 1)}


def render() -> tuple[str, bytes]:
    """``(content type, body)`` of ``/metrics`` in the Prometheus text format."""
    return CONTENT_TYPE_LATEST, generate_latest(REGISTRY)
