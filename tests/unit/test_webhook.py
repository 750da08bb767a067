"""`sopbot web` as a platform runs it: its own process, Telegram's webhook calls, the fake API.

Telegram's side is played by the test: the fake Bot API server records setWebhook and builds
the updates (a simulated user writes), and the test POSTs them as Telegram would.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import build_bot, build_services, open_store, running
from bot.config import Settings
from bot.engine.loader import load_flows
from bot.services import Services
from bot.storage import Store
from bot.tg.webhook import WebhookConfig, WebhookServer
from fakeapi import FakeBotApi
from tests.support.paths import FLOWS_DIR, ROOT
from tests.support.webhook import (
    PUBLIC_URL,
    SECRET,
    SOPBOT,
    T,
    env_for,
    free_port,
    post_update,
    request,
    start_update,
)


def wait_until(probe: Callable[[], T], done: Callable[[T], bool] = bool,
               timeout: float = 10) -> T:
    """Call `probe` until `done` says its result is the one awaited; that result."""
    deadline = time.monotonic() + timeout
    while not done(result := probe()):
        assert time.monotonic() < deadline, f"still {result!r} after {timeout}s"
        time.sleep(0.05)
    return result


def member_ids(data_dir: Path) -> set[str]:
    return {m.id for m in Store(data_dir).read().members()}




@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


def test_web_serves_the_webhook(tmp_path: Path, api: FakeBotApi) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    env = env_for(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.api_root,
                  SOPBOT_DATA_DIR=str(data_dir), PORT=str(port), SOPBOT_WEBHOOK_HOST="127.0.0.1",
                  SOPBOT_WEBHOOK_URL=PUBLIC_URL + "/", SOPBOT_WEBHOOK_SECRET=SECRET)
    bot = subprocess.Popen([*SOPBOT, "web"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        call = api.wait_for(lambda: next(iter(api.calls("setWebhook", ok=True)), None),
                            timeout=30, what="setWebhook")
        assert call.params["url"] == PUBLIC_URL + "/telegram"
        assert call.params["secret_token"] == SECRET
        assert call.params["allowed_updates"] == ["message", "callback_query"]
        assert not call.params.get("drop_pending_updates")
        assert api.webhook_info["url"] == PUBLIC_URL + "/telegram"
        _status, state = wait_until(lambda: request(port, "GET", "/health"),
                                    lambda health: health[0] == 200)
        assert state["status"] == "ok" and state["bot"] == "sopbot_test_bot"
        assert state["flows"] == 5 and state["outbox"] == {"pending": 0, "undeliverable": 0}

        services = build_services(load_flows(FLOWS_DIR), open_store(data_dir))
        now = datetime.now(UTC)
        code = services.create_invite(unit="kec-sooko", role="camat", name="Pak Camat",
                                      now=now).code
        other = services.create_invite(unit="kec-sooko", role="staf", now=now).code
        camat = api.user(7001, "Pak Camat", language_code="en")
        update = start_update(camat, code)

        # The answer comes only once the binding is stored (the welcome with it, in the outbox).
        assert post_update(port, update) == 200
        assert "7001" in member_ids(data_dir)
        assert "Welcome" in camat.wait_for_message(timeout=15)["text"]
        # Delivered again (as after a lost answer): answered, not applied twice.
        assert post_update(port, update) == 200
        # A second binding would have stored a second welcome (or answered "already used")
        # before that 200: once the outbox is empty, every message owed has been sent.
        wait_until(lambda: request(port, "GET", "/health")[1]["outbox"]["pending"] == 0)
        texts = [m.get("text") or "" for m in api.messages(camat.id)]
        assert sum("Welcome" in text for text in texts) == 1, texts
        assert not any("already been used" in text for text in texts), texts

        # Not from Telegram: refused, nothing handled.
        staf = api.user(7002, "Bu Staf", language_code="en")
        forged = start_update(staf, other)
        assert post_update(port, forged, secret=None) == 403
        assert post_update(port, forged, secret=SECRET + "x") == 403
        assert post_update(port, b"{not json") == 400
        assert post_update(port, b'{"message": {}}') == 400
        assert post_update(port, b"x" * (1024 * 1024 + 1)) == 413
        assert request(port, "GET", "/telegram")[0] == 405
        assert request(port, "GET", "/")[0] == 404
        assert "7002" not in member_ids(data_dir)
        assert not api.messages(staf.id)

        second = subprocess.run([*SOPBOT, "web"], cwd=ROOT, capture_output=True, text=True,
                                env={**env, "PORT": str(free_port())}, timeout=30)
        assert second.returncode == 1 and "already running" in second.stderr

        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=30)
        assert bot.returncode == 0, output
        assert api.webhook_info["url"] == PUBLIC_URL + "/telegram"  # Telegram keeps updates
        assert api.token.split(":")[1] not in output and SECRET not in output, output
        assert code not in output and other not in output, output
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.communicate()


def test_web_reports_every_missing_or_invalid_setting_at_once(tmp_path: Path) -> None:
    result = subprocess.run([*SOPBOT, "web"], cwd=ROOT, capture_output=True, text=True,
                            timeout=30, env=env_for(SOPBOT_DATA_DIR=str(tmp_path)))
    assert result.returncode == 2, result.stderr
    for name in ("TELEGRAM_BOT_TOKEN", "PORT", "SOPBOT_WEBHOOK_URL", "SOPBOT_WEBHOOK_SECRET"):
        assert f"{name} is not set" in result.stderr, result.stderr
    bad = subprocess.run([*SOPBOT, "web"], cwd=ROOT, capture_output=True, text=True, timeout=30,
                         env=env_for(SOPBOT_DATA_DIR=str(tmp_path), TELEGRAM_BOT_TOKEN="1:x",
                                     PORT="http", SOPBOT_WEBHOOK_URL="http://bot.example.go.id",
                                     SOPBOT_WEBHOOK_SECRET="no spaces!", SOPBOT_LANGUAGE="fr"))
    assert bad.returncode == 2, bad.stderr
    for problem in ("SOPBOT_LANGUAGE", "PORT: 'http'", "SOPBOT_WEBHOOK_URL: 'http://",
                    "SOPBOT_WEBHOOK_SECRET: gunakan hanya"):  # (the default language: id)
        assert problem in bad.stderr, bad.stderr
    assert not any(tmp_path.iterdir())  # nothing started


async def test_a_failed_update_answers_500_and_its_redelivery_is_applied(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A handler that fails (here: the disk) is not confirmed: Telegram retries, and it works."""
    async with FakeBotApi() as fake:
        data_dir = tmp_path / "data"
        settings = Settings(token=fake.token, api_url=fake.api_root, data_dir=data_dir,
                            flows_dir=FLOWS_DIR)
        bot = build_bot(settings, load_flows(FLOWS_DIR), rate_limit=False,
                        sender_poll_interval=0.2, http_timeout=2.0)
        services, app = bot.services, bot.app
        server = WebhookServer(app, WebhookConfig(PUBLIC_URL, SECRET, "127.0.0.1", 0))
        await server.start()
        try:
            async with running(bot, poll=False):
                server.ready = True
                code = services.create_invite(unit="kec-sooko", role="camat",
                                              now=datetime.now(UTC)).code
                user = fake.user(7101, "Pak Camat", language_code="en")
                update = start_update(user, code)

                def disk_full(*args: object, **kwargs: object) -> None:
                    raise OSError(28, "No space left on device")

                with monkeypatch.context() as patch:
                    patch.setattr(Services, "redeem", disk_full)
                    assert await asyncio.to_thread(post_update, server.port, update) == 500
                assert "7101" not in member_ids(data_dir)
                assert await asyncio.to_thread(post_update, server.port, update) == 200
                assert "7101" in member_ids(data_dir)
                await user.await_message("Welcome", timeout=10)
        finally:
            await server.stop()
