"""/health and /metrics as a platform and Prometheus scrape them, in both run modes.

Polling mode: the in-process bot against the fake Bot API with the ops server beside it, and
a real ``sopbot run`` process started through the container's entrypoint script with
``SOPBOT_HTTP_PORT``. Webhook mode: the webhook server's own ``/metrics``. The metrics text is
parsed with prometheus-client's own parser.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bot.bootstrap import build_bot, running
from bot.config import Settings
from bot.engine.loader import load_flows
from bot.ops.http import OpsServer, http_address_from
from bot.tg.webhook import WebhookConfig, WebhookServer
from fakeapi import FakeBotApi
from tests.support.bot import running_bot
from tests.support.paths import FLOWS_DIR, ROOT

ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"


def get(port: int, path: str) -> tuple[int, str, str]:
    """(status, content type, body) of one GET."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a metrics text, by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


async def wait_for(probe: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(probe)
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.1)


async def test_polling_mode_serves_health_and_metrics(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        server = OpsServer(h.app, "127.0.0.1", 0)
        await server.start()
        try:
            port = server.port
            healthy = await wait_for(lambda: get(port, "/health")[0] == 200)
            assert healthy
            status, content_type, body = await asyncio.to_thread(get, port, "/health")
            facts = json.loads(body)
            assert content_type.startswith("application/json")
            assert facts["status"] == "ok" and facts["mode"] == "polling"
            assert facts["bot"] == "sopbot_test_bot" and facts["flows"] == 5
            assert facts["store"] == "ok" and facts["last_poll_age_seconds"] < 120
            assert set(facts["outbox"]) == {"pending", "undeliverable", "oldest_age_seconds"}

            _, _, before = await asyncio.to_thread(get, port, "/metrics")
            staf = await h.join("Staf", "kec-sooko", "staf")
            h.api.fail_next("sendMessage", status=429, retry_after=1)  # the outbox waits
            await h.say(staf, "mulai PK 2025", expect="Started")
            await h.step_message(staf, "Step 1")
            await h.idle()
            status, content_type, after = await asyncio.to_thread(get, port, "/metrics")
        finally:
            await server.stop()
    assert status == 200 and content_type.startswith("text/plain")
    families = {f.name: f.type for f in text_string_to_metric_families(after)}
    for name, kind in {"sopbot_updates": "counter", "sopbot_decisions": "counter",
                       "sopbot_outbox_pending": "gauge",
                       "sopbot_outbox_oldest_age_seconds": "gauge",
                       "sopbot_send_failures": "counter", "sopbot_rate_limited": "counter",
                       "sopbot_reminder_lag_seconds": "histogram",
                       "sopbot_store_write_seconds": "histogram",
                       "sopbot_last_poll_success_timestamp_seconds": "gauge"}.items():
        assert families.get(name) == kind, (name, families.get(name))
    assert value(after, "sopbot_decisions_total", action="start") == \
        value(before, "sopbot_decisions_total", action="start") + 1
    assert value(after, "sopbot_updates_total", outcome="handled") >= \
        value(before, "sopbot_updates_total", outcome="handled") + 2  # /start, mulai
    assert value(after, "sopbot_rate_limited_total") == \
        value(before, "sopbot_rate_limited_total") + 1
    assert value(after, "sopbot_store_write_seconds_count") > \
        value(before, "sopbot_store_write_seconds_count")
    assert value(after, "sopbot_messages_sent_total") > value(before, "sopbot_messages_sent_total")
    assert value(after, "sopbot_outbox_pending") == 0


async def test_health_is_503_when_the_data_cannot_be_read_or_polling_stalls(
        tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        stale = OpsServer(h.app, "127.0.0.1", 0, poll_max_age=0.0)
        await stale.start()
        try:
            status, _, body = await asyncio.to_thread(get, stale.port, "/health")
            assert status == 503 and json.loads(body)["status"] in ("starting",
                                                                    "telegram unreachable")
            server = OpsServer(h.app, "127.0.0.1", 0)
            await server.start()
            try:
                assert await wait_for(lambda: get(server.port, "/health")[0] == 200)
                (h.data_dir / "sopbot.json").write_bytes(b"\x00garbage{")
                status, _, body = await asyncio.to_thread(get, server.port, "/health")
                assert status == 503
                assert json.loads(body)["store"] == "unreadable"
                assert json.loads(body)["status"] == "error"
                status, _, _ = await asyncio.to_thread(get, server.port, "/metrics")
                assert status == 200  # the counters are still served
            finally:
                await server.stop()
                (h.data_dir / "sopbot.json").write_text("{}")
        finally:
            await stale.stop()


async def test_webhook_mode_serves_metrics_too(tmp_path: Path) -> None:
    async with FakeBotApi() as fake:
        data_dir = tmp_path / "data"
        settings = Settings(token=fake.token, api_url=fake.api_root, data_dir=data_dir,
                            flows_dir=FLOWS_DIR)
        bot = build_bot(settings, load_flows(FLOWS_DIR), rate_limit=False, http_timeout=2.0)
        app = bot.app
        server = WebhookServer(app, WebhookConfig("https://bot.example.go.id", "secret_1",
                                                  "127.0.0.1", 0))
        await server.start()
        try:
            async with running(bot, poll=False):
                server.ready = True
                status, content_type, body = await asyncio.to_thread(get, server.port,
                                                                     "/metrics")
                health, _, facts = await asyncio.to_thread(get, server.port, "/health")
        finally:
            await server.stop()
    assert status == 200 and content_type.startswith("text/plain")
    assert value(body, "sopbot_outbox_pending") == 0
    assert "sopbot_store_write_seconds" in {f.name for f in text_string_to_metric_families(body)}
    assert health == 200 and json.loads(facts)["status"] == "ok"


def test_http_address_from_the_environment() -> None:
    assert http_address_from({}) is None
    assert http_address_from({"SOPBOT_HTTP_PORT": "9100"}) == ("127.0.0.1", 9100)
    assert http_address_from({"SOPBOT_HTTP_PORT": "9100", "SOPBOT_HTTP_HOST": "0.0.0.0"}) == \
        ("0.0.0.0", 9100)
    assert "not a TCP port" in str(http_address_from({"SOPBOT_HTTP_PORT": "http"}))
    assert "not a TCP port" in str(http_address_from({"SOPBOT_HTTP_PORT": "70000"}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sopbot_run_through_the_entrypoint_serves_health_and_metrics(tmp_path: Path) -> None:
    """The container's command, minus the container: entrypoint.sh run, then its healthcheck."""
    port = free_port()
    with FakeBotApi() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SOPBOT_"))}
        env.update(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.api_root,
                   SOPBOT_DATA_DIR=str(tmp_path / "data"), SOPBOT_FLOWS_DIR=str(FLOWS_DIR),
                   SOPBOT_LANGUAGE="en", SOPBOT_HTTP_PORT=str(port),
                   PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        bot = subprocess.Popen(["sh", str(ENTRYPOINT), "run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 30
            status = 0
            while status != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
                try:
                    status, _, body = get(port, "/health")
                except OSError:
                    continue
            assert status == 200, bot.poll()
            assert json.loads(body)["bot"] == "sopbot_test_bot"
            status, _, text = get(port, "/metrics")
            assert status == 200
            assert value(text, "sopbot_last_poll_success_timestamp_seconds") > 0
            check = subprocess.run(["sh", str(ENTRYPOINT), "healthcheck"], env=env,
                                   capture_output=True, text=True, timeout=30)
            assert check.returncode == 0, check.stdout + check.stderr
            bot.send_signal(signal.SIGTERM)
            output, _ = bot.communicate(timeout=30)
            assert bot.returncode == 0, output
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
    assert f"/health and /metrics on http://127.0.0.1:{port}" in output
    assert "apscheduler" not in output  # no per-job scheduler noise at INFO
    assert api.token.split(":")[1] not in output
    check = subprocess.run(["sh", str(ENTRYPOINT), "healthcheck"], env=env, capture_output=True,
                           text=True, timeout=30)
    assert check.returncode != 0  # nothing listens any more
