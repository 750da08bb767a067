"""A fake Telegram Bot API server for end-to-end tests, benchmarks and the offline demo.

Standard library only. It listens on 127.0.0.1 (an ephemeral port by default) and speaks the
Bot API over HTTP the way ``api.telegram.org`` does, so python-telegram-bot's real
``Bot``/``Application`` (and its httpx stack) can run against it::

    with FakeBotApi() as api:
        alice = api.user(1001, "Alice")
        bot = Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
        ...
        alice.send_text("/start")
        reply = await api.await_message(alice, "Selamat datang")
        alice.press(reply, "menu:izin")

The test side (``user()``, ``messages()``, ``wait_for()``, ``fail_next()``...) is plain
thread-safe Python; the bot side is HTTP.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ._errors import ApiError, default_description
from ._http import FakeHTTPServer, _Handler, normalize_params, parse_body
from ._inspect import ApiCall
from ._limits import LIMITED_METHODS, FloodControl, TelegramLimits
from ._records import JSON, Fault
from ._simulation import Simulation
from ._users import FakeUser

__all__ = ["ApiCall", "FakeBotApi", "FakeUser"]

_LOG = logging.getLogger("fakeapi")


class FakeBotApi(Simulation):
    """A fake Telegram Bot API server plus simulated users.

    Args:
        token: The bot token the server accepts (``<bot id>:<secret>``); other tokens get
            ``401 Unauthorized``.
        bot_username: ``username`` returned by ``getMe``.
        bot_name: ``first_name`` returned by ``getMe``.
        port: TCP port on 127.0.0.1; 0 picks a free ephemeral port.
        clock: Source of unix time for ``date`` fields (override to simulate time).
        limits: Enforce Telegram's flood limits (``True`` for the documented ones, or a
            :class:`TelegramLimits`): messages over them get ``429`` with ``retry_after``.
        limits_clock: Monotonic seconds for the flood limits (real time by default).
    """

    def __init__(
        self,
        token: str = "123:TEST",
        bot_username: str = "sopbot_test_bot",
        *,
        bot_name: str = "SOP Bot",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        limits: bool | TelegramLimits = False,
        limits_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(token, bot_username, bot_name, clock)
        if limits is True:
            limits = TelegramLimits()
        self._flood = FloodControl(limits, limits_clock) if limits else None
        self._requested_port = port
        self._httpd: FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._log: list[ApiCall] = []
        self._faults: list[Fault] = []
        self._users: dict[int, FakeUser] = {}
        self._in_flight = 0
        self._last_activity = time.monotonic()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotApi:
        """Start serving in a background thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("FakeBotApi is already running")
        self._stopping.clear()
        httpd = FakeHTTPServer(self._requested_port, self)
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fakeapi-{httpd.server_port}",
            daemon=True,
        )
        self._httpd, self._thread = httpd, thread
        thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server: wake long polls, close all connections, join all threads."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        with self._cond:
            self._touch()
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections(timeout)
        thread.join(timeout)
        self._httpd = self._thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> FakeBotApi:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._httpd is not None

    @property
    def port(self) -> int:
        """The TCP port the server listens on (only valid while running)."""
        if self._httpd is None:
            raise RuntimeError("FakeBotApi is not running")
        return self._httpd.server_port

    @property
    def api_root(self) -> str:
        """``http://127.0.0.1:PORT``: methods live at ``<root>/bot<token>/<method>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url`` (PTB appends the token)."""
        return f"{self.api_root}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url`` (PTB appends the token)."""
        return f"{self.api_root}/file/bot"

    @property
    def bot_user(self) -> JSON:
        """The bot's own ``User`` object (as ``getMe`` returns it)."""
        return self._get_me({})

    # ------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = 500,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        delay: float | None = None,
        disconnect: bool = False,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail.

        ``method`` is a Bot API method name (case-insensitive) or ``"*"`` for any method
        except getUpdates.  ``status``: the HTTP/Bot API error code (429 adds
        ``parameters.retry_after`` = ``retry_after`` or 1; 502 answers an HTML page like
        a failing proxy).  ``delay``: seconds to sleep before answering; with
        ``status=None`` the call is *executed* and only its answer is delayed (provokes a
        client timeout for a call that did take effect).  ``disconnect``: close the
        connection without answering (after ``delay``).
        """
        if method != "*" and method.lower() not in self._methods:
            raise ValueError(f"unknown Bot API method {method!r}")
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._cond:
            self._faults.append(
                Fault(method.lower(), status, count, retry_after, description, delay, disconnect)
            )

    def clear_faults(self) -> None:
        """Drop all pending injected faults."""
        with self._cond:
            self._faults.clear()

    def _take_fault(self, method: str) -> Fault | None:
        lowered = method.lower()
        with self._cond:
            for fault in self._faults:
                if fault.method == lowered or (fault.method == "*" and lowered != "getupdates"):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ---------------------------------------------------------------------- HTTP

    def _handle_http(self, handler: _Handler) -> None:
        started = time.time()
        split = urlsplit(handler.path)
        path = unquote(split.path)
        try:
            body = handler.read_body()
        except (ApiError, ValueError, OSError) as exc:
            handler.close_connection = True
            status = exc.status if isinstance(exc, ApiError) else 400
            handler.respond(
                status,
                json.dumps({"ok": False, "error_code": status, "description": str(exc)}).encode(),
            )
            return
        if path.startswith("/file/bot"):
            self._serve_file(handler, path[len("/file/bot") :], started)
            return
        if not path.startswith("/bot"):
            self._finish(handler, "?", {}, started, error=ApiError(404, "Not Found"))
            return
        token, _, method = path[len("/bot") :].partition("/")
        method = method.strip("/")
        if token != self.token:
            self._finish(handler, method or "?", {}, started, error=ApiError(401, "Unauthorized"))
            return
        entry = self._methods.get(method.lower()) if method else None
        if entry is None:
            self._finish(handler, method or "?", {}, started, error=ApiError(404, "Not Found"))
            return
        name, implementation = entry
        raw: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))
        try:
            raw.update(parse_body(handler.headers.get("Content-Type"), body))
            params = normalize_params(raw)
        except ApiError as exc:
            self._finish(handler, name, raw, started, error=exc)
            return
        fault = self._take_fault(name)
        tracked = name != "getUpdates"
        if tracked:
            with self._cond:
                self._in_flight += 1
        try:
            if fault is not None and (fault.status is not None or fault.disconnect):
                if fault.delay:
                    self._stopping.wait(fault.delay)
                if fault.disconnect:
                    handler.close_connection = True
                    self._record(name, params, started, 0, description="disconnected")
                    return
                assert fault.status is not None
                raise self._fault_error(fault)
            with self._cond:
                self._check_flood(name, params)
                result = implementation(params)
            if fault is not None and fault.delay:
                self._stopping.wait(fault.delay)
            self._finish(handler, name, params, started, result=result)
        except ApiError as exc:
            self._finish(handler, name, params, started, error=exc)
        except Exception as exc:
            _LOG.exception("fake Bot API crashed in %s", name)
            self._finish(
                handler,
                name,
                params,
                started,
                error=ApiError(500, f"Internal Server Error: {exc!r}"),
            )
        finally:
            if tracked:
                with self._cond:
                    self._in_flight -= 1
                    self._last_activity = time.monotonic()
                    self._touch()

    def _check_flood(self, method: str, params: dict[str, Any]) -> None:
        """With flood limits on, a message over them is refused like Telegram does."""
        if self._flood is None or method.lower() not in LIMITED_METHODS:
            return
        chat = self._chats.get(params.get("chat_id"))  # type: ignore[arg-type]
        if chat is None:
            return  # the method itself answers "chat not found"
        wait = self._flood.admit(chat["id"], private=chat["type"] == "private")
        if wait is not None:
            raise ApiError(
                429, default_description(429, wait), {"retry_after": wait}
            )

    @staticmethod
    def _fault_error(fault: Fault) -> ApiError:
        status = fault.status or 500
        description = fault.description or default_description(status, fault.retry_after)
        if status == 429:
            return ApiError(status, description, {"retry_after": fault.retry_after or 1})
        if status == 502 and fault.description is None:
            page = b"<html><head><title>502 Bad Gateway</title></head></html>"
            return ApiError(status, "Bad Gateway", raw_body=page)
        return ApiError(status, description)

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        started: float,
        status: int,
        *,
        result: Any = None,
        description: str | None = None,
    ) -> None:
        call = ApiCall(
            method=method,
            params=dict(params),
            time=started,
            status=status,
            result=result,
            description=description,
            duration=time.time() - started,
        )
        with self._cond:
            self._log.append(call)
            self._touch()

    def _finish(
        self,
        handler: _Handler,
        method: str,
        params: dict[str, Any],
        started: float,
        *,
        result: Any = None,
        error: ApiError | None = None,
    ) -> None:
        if error is None:
            body = json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()
            self._record(method, params, started, 200, result=copy.deepcopy(result))
            handler.respond(200, body)
            return
        self._record(method, params, started, error.status, description=error.description)
        if error.raw_body is not None:
            handler.respond(error.status, error.raw_body, "text/html")
        else:
            handler.respond(error.status, json.dumps(error.payload(), ensure_ascii=False).encode())

    def _serve_file(self, handler: _Handler, rest: str, started: float) -> None:
        token, _, file_path = rest.partition("/")
        params = {"file_path": file_path}
        if token != self.token:
            self._finish(
                handler, "downloadFile", params, started, error=ApiError(401, "Unauthorized")
            )
            return
        with self._cond:
            record = self._files_by_path.get(file_path)
        if record is None:
            self._finish(handler, "downloadFile", params, started, error=ApiError(404, "Not Found"))
            return
        self._record("downloadFile", params, started, 200, result=len(record.content))
        handler.respond(200, record.content, record.mime_type or "application/octet-stream")
