"""``/health`` and ``/metrics`` over HTTP, for polling mode (``SOPBOT_HTTP_PORT``).

Webhook mode has its own server (:mod:`bot.tg.webhook`) and serves the same two paths there.
In polling mode nothing listens unless ``SOPBOT_HTTP_PORT`` is set; then a small aiohttp
server runs on the bot's own event loop, bound to ``SOPBOT_HTTP_HOST`` (default
``127.0.0.1``; ``0.0.0.0`` in a container so the platform's health check and Prometheus
reach it):

- ``GET /health`` — 200 with JSON facts when the bot is ready: the store reads and the last
  getUpdates succeeded less than :data:`POLL_MAX_AGE` seconds ago; 503 with the same facts
  otherwise (starting, Telegram unreachable, data unreadable)::

      {"status": "ok", "mode": "polling", "bot": "sop_nganjuk_bot", "flows": 5, "units": 5,
       "store": "ok", "last_poll_age_seconds": 3.2,
       "outbox": {"pending": 0, "undeliverable": 0, "oldest_age_seconds": 0.0}}

- ``GET /metrics`` — the Prometheus text format (:mod:`bot.ops.metrics`).

aiohttp rather than the standard library: a maintained asyncio HTTP server that parses
requests, keeps connections alive and enforces limits, and runs on the same loop as the bot,
so the health check sees the bot's own state without threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from bot.ops import metrics

if TYPE_CHECKING:  # aiohttp is imported when the server starts: most bots never start it
    from aiohttp import web
    from telegram.ext import Application

__all__ = ["DEFAULT_HOST", "POLL_MAX_AGE", "OpsServer", "health_facts", "http_address_from",
           "ops_metrics", "ops_server"]

log = logging.getLogger(__name__)

#: A long poll answers within its timeout (30 s); three missed ones mean Telegram is unreachable.
POLL_MAX_AGE = 120.0
DEFAULT_HOST = "127.0.0.1"


def http_address_from(env: Mapping[str, str]) -> tuple[str, int] | str | None:
    """``(host, port)`` from ``SOPBOT_HTTP_HOST``/``SOPBOT_HTTP_PORT``; None when the port is
    unset; the problem (text) when it is not a port."""
    raw = (env.get("SOPBOT_HTTP_PORT") or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 65535:
        return f"SOPBOT_HTTP_PORT: {raw!r} is not a TCP port (1-65535)"
    return (env.get("SOPBOT_HTTP_HOST") or "").strip() or DEFAULT_HOST, int(raw)


def _bot_username(app: Application) -> str | None:
    try:
        return app.bot.username
    except RuntimeError:  # getMe not done yet
        return None


async def health_facts(app: Application, *, mode: str = "polling",
                       poll_max_age: float = POLL_MAX_AGE) -> tuple[bool, dict[str, Any]]:
    """Whether the bot is ready, and the facts ``/health`` shows."""
    rt = app.bot_data["runtime"]
    services = rt.services
    facts: dict[str, Any] = {
        "status": "starting", "mode": mode, "bot": _bot_username(app),
        "flows": len(services.flows),
        "units": len({f.unit.id for f in services.flows.values()}),
    }
    store_ok = True
    try:
        facts["outbox"] = await asyncio.to_thread(metrics.refresh_outbox, services.store,
                                                  rt.clock())
        facts["store"] = "ok"
    except Exception as exc:  # the data cannot be read: that is what /health reports
        log.error("health check: the data cannot be read (%s)", type(exc).__name__)
        facts["store"] = "unreadable"
        store_ok = False
    age = metrics.last_poll_age()
    facts["last_poll_age_seconds"] = round(age, 1) if age is not None else None
    polled = age is not None and age <= poll_max_age
    ready = store_ok and (polled or mode != "polling")
    if ready:
        facts["status"] = "ok"
    elif not store_ok:
        facts["status"] = "error"
    elif age is not None:
        facts["status"] = "telegram unreachable"
    return ready, facts


class OpsServer:
    """The aiohttp server of ``/health`` and ``/metrics``."""

    def __init__(self, app: Application, host: str = DEFAULT_HOST, port: int = 0, *,
                 poll_max_age: float = POLL_MAX_AGE) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.poll_max_age = poll_max_age
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one picked for port 0 too)."""
        assert self._site is not None and self._site._server is not None
        return int(self._site._server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    async def start(self) -> None:
        from aiohttp import web

        web_app = web.Application(client_max_size=1024)
        web_app.router.add_get("/health", self._health)
        web_app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self.requested_port)
        await self._site.start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = self._site = None

    async def _health(self, request: web.Request) -> web.Response:
        from aiohttp import web

        ready, facts = await health_facts(self.app, poll_max_age=self.poll_max_age)
        return web.json_response(facts, status=200 if ready else 503,
                                 headers={"Cache-Control": "no-store"})

    async def _metrics(self, request: web.Request) -> web.Response:
        from aiohttp import web

        content_type, body = await ops_metrics(self.app)
        return web.Response(body=body, headers={"Content-Type": content_type})


async def ops_metrics(app: Application) -> tuple[str, bytes]:
    """``(content type, body)`` of ``/metrics`` with the outbox gauges read from the store
    (webhook mode's server serves it too)."""
    rt = app.bot_data["runtime"]
    try:
        await asyncio.to_thread(metrics.refresh_outbox, rt.services.store, rt.clock())
    except Exception as exc:  # still serve the counters
        log.error("metrics: the outbox cannot be read (%s)", type(exc).__name__)
    return metrics.render()


@contextlib.asynccontextmanager
async def ops_server(app: Application, env: Mapping[str, str]) -> AsyncIterator[int]:
    """While the block lasts, /health and /metrics beside the bot when ``SOPBOT_HTTP_PORT``
    is set. Yields 0, or the exit status when the endpoint cannot start (the caller stops)."""
    address = http_address_from(env)
    if isinstance(address, str):
        log.critical("%s", address)
        yield 2
        return
    if address is None:
        yield 0
        return
    server = OpsServer(app, *address)
    try:
        await server.start()
    except OSError as exc:
        log.critical("cannot listen on %s:%s for /health and /metrics: %s (check "
                     "SOPBOT_HTTP_PORT and SOPBOT_HTTP_HOST)", address[0], address[1],
                     exc.strerror or exc)
        yield 1
        return
    log.info("/health and /metrics on http://%s:%d", address[0], server.port)
    try:
        yield 0
    finally:
        await server.stop()
