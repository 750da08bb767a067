"""Start-up as an operator meets it: a misconfigured API, a damaged data file, bad settings.

Each case gets one sentence naming what to check, a non-zero exit, no traceback, no token.
"""

from __future__ import annotations

import http.server
import logging
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import ConfigError, settings_from_env
from bot.redact import REDACTED, RedactingFilter, add_secrets, redact
from tests.support.cli import run_sopbot
from tests.support.paths import FLOWS_DIR
from tests.support.webhook import SECRET, env_for, free_port

TOKEN = "123456789:AAH-realistic_Token-0123456789abcdefghij"


class _NotFound(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = b'{"ok":false,"error_code":404,"description":"Not Found"}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def wrong_api() -> Iterator[str]:
    """A server that answers 404 to everything, as a misconfigured TELEGRAM_API_URL does."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def sopbot(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_sopbot(*args, env=env_for(**env))


def no_secret_in(result: subprocess.CompletedProcess[str], *, debug: bool = False) -> None:
    output = result.stdout + result.stderr
    assert TOKEN not in output and TOKEN.split(":")[1] not in output, output
    assert SECRET not in output, output
    assert debug or "Traceback" not in output, output  # at DEBUG: a redacted one


@pytest.mark.parametrize("command", ["run", "web"])
def test_a_wrong_api_url_prints_no_token(command: str, wrong_api: str, tmp_path: Path) -> None:
    result = sopbot(command, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=wrong_api,
                    SOPBOT_DATA_DIR=str(tmp_path / "data"), SOPBOT_LOG_LEVEL="DEBUG",
                    PORT=str(free_port()), SOPBOT_WEBHOOK_HOST="127.0.0.1",
                    SOPBOT_WEBHOOK_URL="https://bot.example.go.id",
                    SOPBOT_WEBHOOK_SECRET=SECRET, SOPBOT_LANGUAGE="en")
    assert result.returncode == 1, result.stderr
    no_secret_in(result, debug=True)
    assert REDACTED in result.stderr  # the traceback at DEBUG had the token: hidden
    assert "TELEGRAM_API_URL" in result.stderr, result.stderr


def test_an_unreachable_telegram_or_proxy_is_one_sentence(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = sopbot("run", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=closed,
                    SOPBOT_DATA_DIR=str(tmp_path / "data"), SOPBOT_LANGUAGE="en")
    assert result.returncode == 1
    no_secret_in(result)
    assert "Telegram cannot be reached at " + closed in result.stderr, result.stderr
    assert "TELEGRAM_API_URL" in result.stderr and "HTTPS_PROXY" in result.stderr
    proxied = sopbot("run", TELEGRAM_BOT_TOKEN=TOKEN, SOPBOT_DATA_DIR=str(tmp_path / "d2"),
                     HTTPS_PROXY=closed, SOPBOT_LANGUAGE="en")
    assert proxied.returncode == 1
    no_secret_in(proxied)
    assert "HTTPS_PROXY" in proxied.stderr, proxied.stderr
    assert len(proxied.stderr.strip().splitlines()) <= 3, proxied.stderr


@pytest.mark.parametrize("content", [
    bytes(range(256)) * 4,  # random bytes
    b'{"members": {"1": 5}, "_schema": 7}',  # records of the wrong type
    b'{"members": {"1": {"id": 5}}}',
    b"",  # empty: all the data is missing
    b"  \n",
], ids=["bytes", "wrong-types", "wrong-record", "empty", "blank"])
def test_a_damaged_data_file_is_one_sentence_and_left_untouched(
        content: bytes, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "sopbot.json").write_bytes(content)
    result = sopbot("run", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL="http://127.0.0.1:9",
                    SOPBOT_DATA_DIR=str(data_dir), SOPBOT_LANGUAGE="en")
    assert result.returncode == 1
    no_secret_in(result)
    assert str(data_dir / "sopbot.json") in result.stderr, result.stderr
    assert "sopbot restore" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert (data_dir / "sopbot.json").read_bytes() == content


def test_an_unusable_data_directory_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    for data_dir in (tmp_path / "file" / "data", Path("/proc/sopbot-data")):
        result = sopbot("run", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL="http://127.0.0.1:9",
                        SOPBOT_DATA_DIR=str(data_dir), SOPBOT_LANGUAGE="en")
        assert result.returncode == 1, result.stderr
        no_secret_in(result)
        assert "SOPBOT_DATA_DIR" in result.stderr and str(data_dir) in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("name, value", [
    ("SOPBOT_INVITE_TTL_DAYS", "inf"), ("SOPBOT_INVITE_TTL_DAYS", "nan"),
    ("SOPBOT_INVITE_TTL_DAYS", "1e10"), ("SOPBOT_INVITE_TTL_DAYS", "-3"),
    ("SOPBOT_ESCALATE_AFTER", "99999999999999999999"), ("SOPBOT_ESCALATE_AFTER", "-1"),
    ("SOPBOT_LOG_LEVEL", "LOUD"), ("SOPBOT_HTTP_PORT", "99999"),
    ("SOPBOT_WEBHOOK_MAX_CONNECTIONS", "0"), ("SOPBOT_WEBHOOK_MAX_CONNECTIONS", "lots"),
])
def test_every_numeric_setting_is_validated(name: str, value: str, tmp_path: Path) -> None:
    command = "web" if "WEBHOOK" in name else "run"
    result = sopbot(command, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL="http://127.0.0.1:9",
                    SOPBOT_DATA_DIR=str(tmp_path / "data"), PORT=str(free_port()),
                    SOPBOT_WEBHOOK_URL="https://bot.example.go.id",
                    SOPBOT_WEBHOOK_SECRET=SECRET, **{name: value})
    assert result.returncode in (1, 2), result.stderr
    no_secret_in(result)
    assert name in result.stderr and repr(value) in result.stderr, result.stderr


def test_settings_sentences_come_in_the_cli_language() -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "SOPBOT_FLOWS_DIR": str(FLOWS_DIR),
           "SOPBOT_INVITE_TTL_DAYS": "inf"}
    with pytest.raises(ConfigError) as caught:
        settings_from_env(env)
    from bot.i18n import Translator

    (indonesian,) = caught.value.render(Translator("id").gettext)
    assert "SOPBOT_INVITE_TTL_DAYS" in indonesian and "paling lama" in indonesian


def test_every_log_line_is_redacted() -> None:
    add_secrets([TOKEN])
    record = logging.LogRecord("x", logging.CRITICAL, __file__, 1, "url %s failed",
                               (f"https://api.telegram.org/bot{TOKEN}/getMe",), None)
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert TOKEN not in text and REDACTED in text
    assert redact("bot987654321:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/x") == "bot<redacted>/x"
