"""HTTP plumbing of the fake Bot API: a loopback-only threading server and body decoding."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import socketserver
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from ._errors import ApiError, bad_request

if TYPE_CHECKING:
    from .server import FakeBotApi

_LOG = logging.getLogger("fakeapi")

MAX_BODY = 64 * 1024 * 1024  # a bit above Telegram's 50 MB upload limit


@dataclass(frozen=True, repr=False)
class UploadedFile:
    """A file part of a multipart/form-data request."""

    filename: str | None
    content: bytes
    content_type: str | None

    def __repr__(self) -> str:
        return (
            f"UploadedFile(filename={self.filename!r}, size={len(self.content)}, "
            f"content_type={self.content_type!r})"
        )


_INT_KEYS = frozenset(
    {
        "chat_id", "message_id", "offset", "limit", "timeout", "user_id", "cache_time",
        "from_chat_id", "message_thread_id", "reply_to_message_id", "max_connections",
        "width", "height", "duration",
    }
)  # fmt: skip
_BOOL_KEYS = frozenset(
    {
        "show_alert", "disable_notification", "protect_content", "drop_pending_updates",
        "allow_sending_without_reply", "disable_web_page_preview", "has_spoiler",
        "disable_content_type_detection", "show_caption_above_media", "allow_paid_broadcast",
    }
)  # fmt: skip
_JSON_KEYS = frozenset(
    {
        "reply_markup", "reply_parameters", "entities", "caption_entities", "commands",
        "scope", "allowed_updates", "link_preview_options", "media", "menu_button",
        "message_ids",
    }
)  # fmt: skip
_FLOAT_KEYS = frozenset({"timeout"})
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?\d+(\.\d*)?")


def normalize_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Decode form values the way the Bot API does (all form values arrive as strings).

    Integers/booleans/JSON objects of known parameters are decoded; ``chat_id`` stays a string
    when it is not numeric (``@channelusername``).  Values from a JSON body pass unchanged.
    """
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            if key in _FLOAT_KEYS and _FLOAT_RE.fullmatch(value.strip()):
                number = float(value)
                value = int(number) if number.is_integer() else number
            elif key in _INT_KEYS:
                if _INT_RE.fullmatch(value.strip()):
                    value = int(value)
                elif key != "chat_id":
                    raise bad_request(f"invalid {key} specified")
            elif key in _BOOL_KEYS:
                value = value.strip().lower() in ("true", "1")
            elif key in _JSON_KEYS:
                try:
                    value = json.loads(value) if value.strip() else None
                except ValueError:
                    what = "reply keyboard markup" if key == "reply_markup" else key
                    raise bad_request(f"can't parse {what} JSON object") from None
        params[key] = value
    return {k: v for k, v in params.items() if v is not None}


def _header_params(value: str) -> tuple[str, dict[str, str]]:
    main, _, rest = value.partition(";")
    found: dict[str, str] = {}
    for match in re.finditer(r'([\w*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', rest):
        key, val = match.group(1).lower(), match.group(2).strip()
        if val.startswith('"') and val.endswith('"'):
            val = re.sub(r"\\(.)", r"\1", val[1:-1]).replace("%22", '"')
        if key.endswith("*"):
            key = key[:-1]
            _charset, _, encoded = val.partition("''")
            val = unquote(encoded)
        found[key] = val
    return main.strip().lower(), found


def _parse_multipart(body: bytes, boundary: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    for raw in body.split(delimiter)[1:]:
        if raw.startswith(b"--"):
            break
        if raw.startswith(b"\r\n"):
            raw = raw[2:]
        head, sep, data = raw.partition(b"\r\n\r\n")
        if not sep:
            continue
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, val = line.partition(":")
            headers[name.strip().lower()] = val.strip()
        _disp, disp_params = _header_params(headers.get("content-disposition", ""))
        field_name = disp_params.get("name")
        if field_name is None:
            continue
        if "filename" in disp_params:
            fields[field_name] = UploadedFile(
                filename=disp_params["filename"],
                content=data,
                content_type=headers.get("content-type"),
            )
        else:
            fields[field_name] = data.decode("utf-8", "replace")
    return fields


def parse_body(content_type: str | None, body: bytes) -> dict[str, Any]:
    """Decode a JSON, urlencoded or multipart request body into a parameter dict."""
    if not body:
        return {}
    ctype, options = _header_params(content_type or "")
    if ctype == "application/json":
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(data, dict):
            raise bad_request("can't parse JSON object")
        return data
    if ctype == "multipart/form-data":
        if "boundary" not in options:
            raise bad_request("can't parse multipart/form-data request")
        return _parse_multipart(body, options["boundary"])
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to :meth:`FakeBotApi._handle_http`."""

    protocol_version = "HTTP/1.1"
    server_version = "FakeTelegramBotAPI/1.0"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls
    server: FakeHTTPServer

    def do_POST(self) -> None:
        self.server.api._handle_http(self)

    do_GET = do_POST

    def read_body(self) -> bytes:
        """The request body (Content-Length or chunked transfer encoding)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ApiError(413, "Request Entity Too Large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ApiError(413, "Request Entity Too Large")
        return self.rfile.read(length) if length else b""

    def respond(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        """Write a complete response; a client that has gone away is ignored."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        _LOG.debug("%s - %s", self.address_string(), format % args)


class FakeHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer bound to 127.0.0.1 that can close its keep-alive connections."""

    daemon_threads = True
    request_queue_size = 512  # PTB opens up to 256 parallel connections; the default is 5

    def __init__(self, port: int, api: FakeBotApi) -> None:
        self.api = api
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        super().__init__(("127.0.0.1", port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup: skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        worker = threading.Thread(
            target=self._work,
            args=(request, client_address),
            name=f"fakeapi-conn-{client_address[1]}",
            daemon=True,
        )
        with self._conn_lock:
            self._connections.add(request)
            self._workers.add(worker)
        worker.start()

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._conn_lock:
                self._connections.discard(request)
                self._workers.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        _LOG.debug("connection from %s failed", client_address, exc_info=True)

    def close_connections(self, timeout: float) -> None:
        """Shut down every open connection and wait for the worker threads to finish."""
        with self._conn_lock:
            connections = list(self._connections)
            workers = list(self._workers)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join(timeout)
