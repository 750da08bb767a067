"""Webhook mode: an aiohttp server feeding the bot.

Telegram POSTs every update to ``<public URL>/telegram`` with the secret chosen at
``setWebhook`` in the ``X-Telegram-Bot-Api-Secret-Token`` header. The server answers 200 only
once the update's effects are stored (:meth:`bot.tg.poller.DurablePoller.process`); if the
process dies first, or handling cannot finish (500), Telegram delivers the update again, and
an update already handled is recognised and skipped. Requests are served concurrently; the
updates of one chat are handled one at a time, in order, as with polling. A transient fault
(disk, Bot API) is retried inside the request for up to :data:`RETRY_WINDOW` seconds before
the 500 hands the retry to Telegram.

aiohttp (already the ops endpoint's server, :mod:`bot.ops.http`) parses HTTP; this module adds
what an exposed server needs: at most ``SOPBOT_WEBHOOK_MAX_CONNECTIONS`` open connections
(when full, the oldest idle one is closed to make room; when all are busy, the new one); a
client that sends no whole request within :data:`READ_TIMEOUT` seconds is disconnected; the
secret header is checked before the body is read; the body is bounded (:data:`MAX_BODY`);
malformed or deeply nested JSON gets a 400; warnings an attacker can trigger are rate-limited.

``GET /health`` tells a load balancer or an uptime check whether the bot is ready (200) or not
(503), with a little state: the bot's username, the flows loaded, the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.ops.http import ops_metrics
from bot.redact import Throttle
from bot.services import StoreError
from bot.tg.app import ALLOWED_UPDATES, running
from bot.tg.poller import DurablePoller

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram"
HEALTH_PATH = "/health"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Updates are a few kB; anything larger is not from Telegram.
MAX_BODY = 1024 * 1024
#: Telegram's updates nest about ten levels deep; much deeper is an attack on the parser.
MAX_DEPTH = 64
#: Seconds a connection may take to send a whole request (head and body), and may stay idle.
READ_TIMEOUT = 20.0
#: Open connections served at once (``SOPBOT_WEBHOOK_MAX_CONNECTIONS``); Telegram itself uses
#: at most 100 (setWebhook's max_connections, 40 by default).
MAX_CONNECTIONS = 200
#: Seconds a request retries a transient fault before answering 500 (Telegram retries later).
RETRY_WINDOW = 25.0
#: Seconds a stopping server gives the requests in flight to finish.
SHUTDOWN_GRACE = 20.0

JSON = dict[str, Any]

_throttle = Throttle(60.0)


@dataclass(frozen=True)
class WebhookConfig:
    """Where Telegram reaches the bot and how it proves it is Telegram."""

    base_url: str  #: the public https base URL, without a trailing slash
    secret: str  #: the ``secret_token`` of setWebhook (1–256 of ``A-Za-z0-9_-``)
    host: str = "0.0.0.0"
    port: int = 8080
    max_connections: int = MAX_CONNECTIONS

    @property
    def url(self) -> str:
        """The webhook URL given to Telegram: ``<base URL>/telegram``."""
        return self.base_url + WEBHOOK_PATH

    @property
    def paths(self) -> frozenset[str]:
        """Paths that take updates: ``/telegram``, and the public URL's own path when the base
        URL has one (a reverse proxy that passes ``/sopbot/telegram`` through unchanged)."""
        return frozenset({WEBHOOK_PATH, urlsplit(self.url).path})


@dataclass
class Response:
    status: HTTPStatus
    payload: JSON
    headers: dict[str, str] = field(default_factory=dict)
    raw: tuple[str, bytes] | None = None  #: (content type, body) instead of JSON: /metrics

    def web(self) -> web.Response:
        content_type, body = self.raw or (
            "application/json; charset=utf-8",
            json.dumps(self.payload, ensure_ascii=False).encode("utf-8"))
        return web.Response(status=self.status.value, body=body,
                            headers={"Content-Type": content_type, "Cache-Control": "no-store",
                                     **self.headers})


def _error(status: HTTPStatus, message: str, **headers: str) -> Response:
    return Response(status, {"ok": False, "error": message}, headers)


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed JSON value nests deeper than `limit` (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def parse_update(body: bytes) -> JSON | Response:
    """The JSON object of an update, or the 400 that refuses it."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return _error(HTTPStatus.BAD_REQUEST, "the body is not JSON")
    if too_deep(data):
        return _error(HTTPStatus.BAD_REQUEST, "the body nests too deeply")
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return _error(HTTPStatus.BAD_REQUEST, "the body is not a Telegram Update")
    return data


class _Guarded(asyncio.Protocol):
    """One connection: refused when the server is full, closed when it is too slow.

    Wraps aiohttp's own protocol (its :class:`~aiohttp.web_protocol.RequestHandler`), which
    does the HTTP.
    """

    def __init__(self, inner: Any, server: WebhookServer) -> None:
        self.inner = inner
        self.server = server
        self.transport: asyncio.Transport | None = None
        self._requests = 0
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        server = self.server
        if len(server.connections) >= server.config.max_connections and not server.evict():
            server.refused += 1
            _throttle.warn(log, "full", "webhook: %d connections open, the most allowed "
                           "(SOPBOT_WEBHOOK_MAX_CONNECTIONS), all busy; a new one was closed",
                           len(server.connections))
            transport.abort()
            return
        self.transport = transport
        server.connections[self] = None
        self.inner.connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.server.read_timeout, self._check)

    def _check(self) -> None:
        """No whole request in `read_timeout` seconds and none in flight: close."""
        count = self.inner._request_count
        if self.transport is None:
            return
        if count == self._requests and self.transport not in self.server.busy:
            self.server.timed_out += 1
            _throttle.warn(log, "slow", "webhook: closed a connection that sent no whole "
                           "request in %.0fs", self.server.read_timeout)
            self.transport.close()
            return
        self._requests = count
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self.server.connections.pop(self, None)
        self.transport = None
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return bool(self.inner.eof_received())

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class WebhookServer:
    """The HTTP side of webhook mode; :attr:`ready` is set once the webhook is registered."""

    def __init__(self, app: Application, config: WebhookConfig, *,
                 max_body: int = MAX_BODY, read_timeout: float = READ_TIMEOUT,
                 retry_window: float = RETRY_WINDOW) -> None:
        self.app = app
        self.config = config
        self.max_body = max_body
        self.read_timeout = read_timeout
        self.retry_window = retry_window
        self.ready = False
        self.connections: dict[_Guarded, None] = {}  # oldest first
        self.busy: set[asyncio.BaseTransport] = set()
        self.refused = 0  #: connections closed at once because the server was full
        self.timed_out = 0  #: connections closed for sending no whole request in time
        self.evicted = 0  #: idle connections closed to make room for new ones
        self._secret = config.secret.encode("ascii")
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None
        self._stopping = False

    def evict(self) -> bool:
        """Close the oldest connection that has no request in flight (an idle or slow one)
        to make room for a new one; False when every connection is busy."""
        for conn in self.connections:
            if conn.transport is not None and conn.transport not in self.busy:
                self.evicted += 1
                _throttle.warn(log, "evict", "webhook: %d connections open, the most allowed "
                               "(SOPBOT_WEBHOOK_MAX_CONNECTIONS); closing the oldest idle one",
                               len(self.connections))
                conn.transport.abort()  # connection_lost() takes it out of the table
                self.connections.pop(conn, None)
                return True
        return False

    @property
    def port(self) -> int:
        """The TCP port listened on (the configured one, or the one picked for port 0)."""
        if self._server is None:
            raise RuntimeError("the webhook server is not running")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen (answers 503 until :attr:`ready`)."""
        self._stopping = False
        web_app = web.Application(client_max_size=self.max_body)
        for path in self.config.paths:
            web_app.router.add_route("*", path, self._update)
        web_app.router.add_route("*", HEALTH_PATH, self._health)
        web_app.router.add_route("*", "/metrics", self._metrics)
        web_app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(web_app, access_log=None, handle_signals=False,
                                     keepalive_timeout=self.read_timeout,
                                     shutdown_timeout=SHUTDOWN_GRACE)
        await self._runner.setup()
        factory = self._runner.server
        assert factory is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Guarded(factory(), self), self.config.host, self.config.port,
            backlog=128)

    async def stop(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Stop listening, let the requests in flight finish (up to `grace` s), close the rest."""
        server, self._server = self._server, None
        runner, self._runner = self._runner, None
        if server is None or runner is None:
            return
        self.ready = False
        self._stopping = True
        server.close()
        for conn in list(self.connections):
            if conn.transport is not None and conn.transport not in self.busy:
                conn.transport.close()  # idle keep-alive connections
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self.busy and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if self.busy:
            log.warning("a webhook request did not finish in %.0fs; Telegram will deliver "
                        "its update again", grace)
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await server.wait_closed()
        await runner.cleanup()

    # -- requests ------------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error(HTTPStatus.NOT_FOUND, "not found").web()

    async def _metrics(self, request: web.Request) -> web.Response:
        if request.method not in ("GET", "HEAD"):
            return _error(HTTPStatus.METHOD_NOT_ALLOWED, "GET only", Allow="GET, HEAD").web()
        return Response(HTTPStatus.OK, {}, raw=await ops_metrics(self.app)).web()

    async def _health(self, request: web.Request) -> web.Response:
        if request.method not in ("GET", "HEAD"):
            return _error(HTTPStatus.METHOD_NOT_ALLOWED, "GET only", Allow="GET, HEAD").web()
        return (await self.health()).web()

    async def _update(self, request: web.Request) -> web.Response:
        transport = request.transport
        if transport is not None:
            self.busy.add(transport)
        try:
            return (await self._take_update(request)).web()
        finally:
            if transport is not None:
                self.busy.discard(transport)

    async def _take_update(self, request: web.Request) -> Response:
        """One update from Telegram: 200 once its effects are stored."""
        if request.method != "POST":
            return _error(HTTPStatus.METHOD_NOT_ALLOWED, "POST only", Allow="POST")
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self._secret):  # before a byte of the body is read
            _throttle.warn(log, "secret", "webhook request without the right secret token "
                           "refused")
            return _error(HTTPStatus.FORBIDDEN, "wrong secret token")
        if not self.ready:
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, "not ready")
        if request.content_length is not None and request.content_length > self.max_body:
            return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                          f"the body is larger than {self.max_body} bytes")
        try:
            async with asyncio.timeout(self.read_timeout):
                body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                          f"the body is larger than {self.max_body} bytes")
        except TimeoutError:
            return _error(HTTPStatus.REQUEST_TIMEOUT, "the body came too slowly")
        data = parse_update(body)
        if isinstance(data, Response):
            return data
        return await self._handle(data)

    async def _handle(self, data: JSON) -> Response:
        update_id = data["update_id"]
        poller: DurablePoller = self.app.bot_data["poller"]
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception:  # well-formed JSON that is no Update
            return _error(HTTPStatus.BAD_REQUEST, "the body is not a Telegram Update")
        try:
            done = await poller.process(update, give_up_after=self.retry_window)
        except Exception:
            log.exception("update %s could not be handled; Telegram will retry", update_id)
            return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "not handled")
        if not done:
            log.warning("update %s still waits for a fault to clear; Telegram will deliver "
                        "it again", update_id)
            return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "not handled yet")
        log.debug("update %s handled", update_id)
        return Response(HTTPStatus.OK, {"ok": True})

    async def health(self) -> Response:
        """200 with a little state when the bot is ready, else 503."""
        services = self.app.bot_data["runtime"].services
        state: JSON = {
            "status": "ok" if self.ready else ("stopping" if self._stopping else "starting"),
            "bot": self.app.bot.username if self.ready else None,
            "flows": len(services.flows),
            "units": len({f.unit.id for f in services.flows.values()}),
        }

        try:
            state["outbox"] = await asyncio.to_thread(services.outbox_counts)
        except (StoreError, OSError, ValueError) as exc:
            log.error("health check: the data cannot be read (%s)", type(exc).__name__)
            state.update(status="error", error="the data cannot be read")
        ok = self.ready and state["status"] == "ok"
        return Response(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, state)


async def serve_webhook(app: Application, config: WebhookConfig,
                        stop: asyncio.Event | None = None) -> int:
    """``sopbot web``: serve until SIGINT or SIGTERM (or `stop`); the exit status.

    The HTTP server listens first (platforms want the port bound quickly; it answers 503
    meanwhile), then the bot starts without polling and registers the webhook. On stopping,
    the requests in flight finish before the bot stops; the webhook stays set, so Telegram
    keeps the updates until the bot is back.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = WebhookServer(app, config)
    try:
        await server.start()
    except OSError as exc:
        log.critical("cannot listen on %s:%s: %s", config.host, config.port, exc)
        return 1
    try:
        async with running(app, poll=False):
            try:
                await app.bot.set_webhook(url=config.url, secret_token=config.secret,
                                          allowed_updates=ALLOWED_UPDATES,
                                          drop_pending_updates=False)
            except TelegramError as exc:
                log.critical("Telegram refused the webhook %s (%s): check SOPBOT_WEBHOOK_URL "
                             "and TELEGRAM_API_URL", config.url, exc)
                return 1
            server.ready = True
            log.info("webhook %s registered; listening on %s:%d", config.url, config.host,
                     server.port)
            await stop.wait()
            log.info("stopping")
            await server.stop()  # finish the updates in flight while the bot still runs
    except TelegramError as exc:  # at start-up: getMe, setMyCommands
        log.critical("cannot start the bot: the Bot API at %s answered %s (%s): check "
                     "TELEGRAM_BOT_TOKEN, TELEGRAM_API_URL and HTTPS_PROXY",
                     app.bot.base_url.rsplit("/bot", 1)[0], type(exc).__name__, exc)
        return 1
    finally:
        await server.stop()
    log.info("stopped; the webhook stays set and Telegram keeps new updates until restart")
    return 0
