"""Webhook mode: a small HTTP server (standard-library asyncio streams) feeding the bot.

Telegram POSTs every update to ``<public URL>/telegram`` with the secret chosen at
``setWebhook`` in the ``X-Telegram-Bot-Api-Secret-Token`` header. The server answers 200 only
after :func:`bot.tg.app.handle_update` has returned, i.e. once the update's effects are stored;
if the process dies first, or handling fails (500), Telegram delivers the update again, and an
update already handled is recognised and skipped. Updates are handled one at a time, in the
order they arrive, as with polling.

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

from telegram.error import TelegramError
from telegram.ext import Application

from bot.ops.http import ops_metrics
from bot.services import StoreError
from bot.tg.app import ALLOWED_UPDATES, handle_update, running
from bot.tg.poller import UpdateFailed

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram"
HEALTH_PATH = "/health"
SECRET_HEADER = "x-telegram-bot-api-secret-token"
#: Updates are a few kB; anything larger is not from Telegram.
MAX_BODY = 1024 * 1024
#: Request line plus headers.
MAX_HEAD = 16 * 1024
#: Seconds to wait for a request (head or body) on an open connection.
READ_TIMEOUT = 60.0
#: Seconds a stopping server gives the requests in flight to finish.
SHUTDOWN_GRACE = 20.0

JSON = dict[str, Any]

@dataclass(frozen=True)
class WebhookConfig:
    """Where Telegram reaches the bot and how it proves it is Telegram."""

    base_url: str  #: the public https base URL, without a trailing slash
    secret: str  #: the ``secret_token`` of setWebhook (1–256 of ``A-Za-z0-9_-``)
    host: str = "0.0.0.0"
    port: int = 8080

    @property
    def url(self) -> str:
        """The webhook URL given to Telegram: ``<base URL>/telegram``."""
        return self.base_url + WEBHOOK_PATH

    @property
    def paths(self) -> frozenset[str]:
        """Paths that take updates: ``/telegram``, and the public URL's own path when the base
        URL has one (a reverse proxy that passes ``/sopbot/telegram`` through unchanged)."""
        return frozenset({WEBHOOK_PATH, urlsplit(self.url).path})


class HttpError(Exception):
    """A request that gets an error answer (and whose connection is then closed)."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    version: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


@dataclass
class Response:
    status: HTTPStatus
    payload: JSON
    headers: dict[str, str] = field(default_factory=dict)
    raw: tuple[str, bytes] | None = None  #: (content type, body) instead of JSON: /metrics


async def _read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        max_body: int) -> Request | None:
    """The next request on a connection; None when the client closed it between requests."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise HttpError(HTTPStatus.BAD_REQUEST, "incomplete request") from exc
    except asyncio.LimitOverrunError as exc:
        raise HttpError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers too large") from exc
    except TimeoutError:
        return None  # an idle keep-alive connection: just close it
    lines = head[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(HTTPStatus.BAD_REQUEST, "not an HTTP/1.x request")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        raw, colon, value = line.partition(":")
        name = raw.lower()
        if not colon or not name or name != name.strip() or " " in name or "\t" in name:
            raise HttpError(HTTPStatus.BAD_REQUEST, "malformed header")
        if name in headers and name in ("content-length", "transfer-encoding", SECRET_HEADER):
            raise HttpError(HTTPStatus.BAD_REQUEST, f"repeated {name} header")
        headers[name] = value.strip()
    request = Request(method, target.split("?", 1)[0], version, headers)
    if "transfer-encoding" in headers:
        raise HttpError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
    length_text = headers.get("content-length", "0")
    if not (length_text.isascii() and length_text.isdigit()):
        raise HttpError(HTTPStatus.BAD_REQUEST, "invalid Content-Length")
    length = int(length_text)
    if length > max_body:
        raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        f"the body is larger than {max_body} bytes")
    if length:
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            request.body = await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT)
        except (asyncio.IncompleteReadError, TimeoutError) as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, "incomplete body") from exc
    return request


async def _write_response(writer: asyncio.StreamWriter, response: Response, *,
                          keep_alive: bool, head_only: bool = False) -> None:
    content_type, body = response.raw or (
        "application/json; charset=utf-8",
        json.dumps(response.payload, ensure_ascii=False).encode("utf-8"))
    lines = [f"HTTP/1.1 {response.status.value} {response.status.phrase}",
             f"Content-Type: {content_type}",
             f"Content-Length: {len(body)}",
             "Cache-Control: no-store",
             f"Connection: {'keep-alive' if keep_alive else 'close'}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    if not head_only:
        writer.write(body)
    await asyncio.wait_for(writer.drain(), READ_TIMEOUT)


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Before closing after an error, read (and drop) what the client still sends.

    Closing a socket with unread data makes the kernel reset the connection, and the client may
    then lose the error answer (a 413, say) that was already on its way.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.0
    with contextlib.suppress(ConnectionError, TimeoutError, OSError):
        if writer.can_write_eof():
            writer.write_eof()
        while (remaining := deadline - loop.time()) > 0:
            if not await asyncio.wait_for(reader.read(64 * 1024), remaining):
                break


def _error(status: HTTPStatus, message: str, **headers: str) -> Response:
    return Response(status, {"ok": False, "error": message}, headers)


class WebhookServer:
    """The HTTP side of webhook mode; :attr:`ready` is set once the webhook is registered."""

    def __init__(self, app: Application, config: WebhookConfig, *,
                 max_body: int = MAX_BODY) -> None:
        self.app = app
        self.config = config
        self.max_body = max_body
        self.ready = False
        self._secret = config.secret.encode("ascii")
        self._server: asyncio.Server | None = None
        self._stopping = False
        self._connections: dict[asyncio.Task[Any], bool] = {}  # task -> busy with a request

    @property
    def port(self) -> int:
        """The TCP port listened on (the configured one, or the one picked for port 0)."""
        if self._server is None:
            raise RuntimeError("the webhook server is not running")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen (answers 503 until :attr:`ready`)."""
        self._stopping = False
        self._server = await asyncio.start_server(self._connection, self.config.host,
                                                  self.config.port, limit=MAX_HEAD)

    async def stop(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Stop listening, let the requests in flight finish (up to `grace` s), close the rest."""
        server, self._server = self._server, None
        if server is None:
            return
        self.ready = False
        self._stopping = True
        server.close()
        for task, busy in list(self._connections.items()):
            if not busy:
                task.cancel()  # idle keep-alive connections
        pending = set(self._connections)
        if pending:
            _done, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                log.warning("a webhook request did not finish in %.0fs; Telegram will deliver "
                            "its update again", grace)
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = False
        try:
            while not self._stopping:
                try:
                    request = await _read_request(reader, writer, self.max_body)
                except HttpError as exc:
                    await _write_response(writer, _error(exc.status, exc.message),
                                          keep_alive=False)
                    await _linger(reader, writer)
                    break
                if request is None:
                    break
                self._connections[task] = True
                response = await self._respond(request)
                keep_alive = request.keep_alive and not self._stopping
                await _write_response(writer, response, keep_alive=keep_alive,
                                      head_only=request.method == "HEAD")
                self._connections[task] = False
                if not keep_alive:
                    break
        except (ConnectionError, TimeoutError):
            pass  # the client went away; Telegram retries what it did not get an answer for
        except asyncio.CancelledError:
            pass  # stop(): idle, or too slow to finish (asyncio 3.11 would log it as an error)
        finally:
            self._connections.pop(task, None)
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 5)

    async def _respond(self, request: Request) -> Response:
        if request.path in self.config.paths:
            if request.method != "POST":
                return _error(HTTPStatus.METHOD_NOT_ALLOWED, "POST only", Allow="POST")
            return await self._update(request)
        if request.path == HEALTH_PATH:
            if request.method not in ("GET", "HEAD"):
                return _error(HTTPStatus.METHOD_NOT_ALLOWED, "GET only", Allow="GET, HEAD")
            return await self.health()
        if request.path == "/metrics" and request.method in ("GET", "HEAD"):
            return Response(HTTPStatus.OK, {}, raw=await ops_metrics(self.app))
        return _error(HTTPStatus.NOT_FOUND, "not found")

    async def _update(self, request: Request) -> Response:
        """One update from Telegram: 200 once its effects are stored."""
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook request without the right secret token refused")
            return _error(HTTPStatus.FORBIDDEN, "wrong secret token")
        if not self.ready:
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, "not ready")
        try:
            data = json.loads(request.body)
        except ValueError:
            return _error(HTTPStatus.BAD_REQUEST, "the body is not JSON")
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return _error(HTTPStatus.BAD_REQUEST, "the body is not a Telegram Update")
        try:
            await handle_update(self.app, data)  # one at a time, like polling
        except UpdateFailed as exc:
            log.error("update %s failed (%s); Telegram will retry", update_id, exc)
            return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "not handled")
        except Exception:
            log.exception("update %s could not be handled; Telegram will retry", update_id)
            return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "not handled")
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
            log.error("health check: the data cannot be read (%s)", exc)
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
                log.critical("Telegram refused the webhook %s: %s", config.url, exc)
                return 1
            server.ready = True
            log.info("webhook %s registered; listening on %s:%d", config.url, config.host,
                     server.port)
            await stop.wait()
            log.info("stopping")
            await server.stop()  # finish the updates in flight while the bot still runs
    except TelegramError as exc:  # at start-up: getMe, setMyCommands
        log.critical("cannot start the bot: %s", exc)
        return 1
    finally:
        await server.stop()
    log.info("stopped; the webhook stays set and Telegram keeps new updates until restart")
    return 0
