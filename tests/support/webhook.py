"""The webhook server as a process or in the loop: ports, requests, updates."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any, TypeVar

from fakeapi import FakeUser
from tests.support.cli import SOPBOT as SOPBOT  # the one copy of each (re-exported)
from tests.support.cli import env_for as env_for

SECRET = "s3cr3t_Webhook-Token"


PUBLIC_URL = "https://bot.example.go.id"


T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])



def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One HTTP request to the bot; (status, decoded JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None
    finally:
        conn.close()


def post_update(port: int, update: dict[str, Any] | bytes, secret: str | None = SECRET
                ) -> int:
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    status, _ = request(port, "POST", "/telegram", body, headers)
    return status


def start_update(user: FakeUser, code: str) -> dict[str, Any]:
    """The Update Telegram would deliver for the user's ``/start <code>``."""
    sent = user.send_text(f"/start {code}")
    return next(u for u in user.api.pending_updates()
                if u.get("message", {}).get("message_id") == sent["message_id"]
                and u["message"]["chat"]["id"] == user.id)
