"""`sopbot run` and `sopbot invite` as an admin runs them: real processes, the fake Bot API."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fakeapi import FakeBotApi
from tests.support.cli import env_for, run_sopbot
from tests.support.paths import DATA_DIR, ROOT

MINI = (DATA_DIR / "mini.yaml").read_text(encoding="utf-8")


def sopbot(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return run_sopbot(*args, env=env, timeout=timeout)


def test_run_reports_every_missing_or_invalid_setting_at_once(tmp_path: Path) -> None:
    result = sopbot("run", env=env_for(TELEGRAM_API_URL="ftp://example", SOPBOT_LANGUAGE="fr",
                                       SOPBOT_FLOWS_DIR=str(tmp_path / "nope")))
    assert result.returncode == 2
    err = result.stderr
    assert err.startswith("sopbot")  # the heading, then one line per problem
    # SOPBOT_LANGUAGE is itself wrong, so the problems are told in the default, Indonesian
    for name in ("TELEGRAM_BOT_TOKEN belum diisi", "TELEGRAM_API_URL", "SOPBOT_FLOWS_DIR",
                 "SOPBOT_LANGUAGE"):
        assert name in err, err
    bad = sopbot("run", env=env_for(TELEGRAM_BOT_TOKEN="not-a-token",
                                    TELEGRAM_API_URL="http://127.0.0.1:9/bot123:x"))
    assert bad.returncode == 2
    assert "does not look like a bot token" in bad.stderr
    assert "server root only" in bad.stderr


def test_invalid_flows_stop_start_up(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "broken.yaml").write_text(MINI.replace("actor: staf, waktu: 2 Jam",
                                                    "actor: siapa, waktu: 2 Jam"))
    result = sopbot("run", env=env_for(TELEGRAM_BOT_TOKEN="123:TEST",
                                       SOPBOT_FLOWS_DIR=str(flows),
                                       SOPBOT_DATA_DIR=str(tmp_path / "data")))
    assert result.returncode == 1
    assert "broken.yaml:" in result.stderr and "unknown actor 'siapa'" in result.stderr


def test_invite_refuses_unknown_unit_and_role(tmp_path: Path) -> None:
    env = env_for(SOPBOT_DATA_DIR=str(tmp_path), SOPBOT_BOT_USERNAME="sopbot_bot")
    result = sopbot("invite", "--unit", "nowhere", "--role", "kepala", env=env)
    assert result.returncode == 2 and "unknown unit 'nowhere'" in result.stderr
    result = sopbot("invite", "--unit", "kec-sooko", "--role", "raja", env=env)
    assert result.returncode == 2 and "unknown role 'raja'" in result.stderr
    assert "camat" in result.stderr


@pytest.fixture
def api():
    with FakeBotApi() as server:
        yield server


def test_the_main_job_runs_against_a_bot_api_server(tmp_path: Path, api: FakeBotApi) -> None:
    """`sopbot run` in its own process; `sopbot invite` beside it on the same data."""
    env = env_for(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.api_root,
                  SOPBOT_DATA_DIR=str(tmp_path / "data"), DYNO="worker.1")
    bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        api.wait_for(lambda: api.commands("default"), timeout=30, what="setMyCommands")
        codes = []
        for role in ("camat", "sekcam", "kasubag_program", "staf"):
            result = sopbot("invite", "--unit", "kec-sooko", "--role", role, "--name",
                            f"Pak {role}", env=env)
            assert result.returncode == 0, result.stderr
            link = re.search(r"link: https://t\.me/sopbot_test_bot\?start=(\S+)", result.stdout)
            assert link, result.stdout
            codes.append(link.group(1))
        users = [api.user(8000 + i, f"User {i}", language_code="en") for i in range(4)]
        for user, code in zip(users, codes, strict=True):
            user.send_text(f"/start {code}")
            assert "Welcome" in user.wait_for_message(timeout=15)["text"]
        staf = users[3]
        staf.send_text("mulai PK 2025")
        assert "Started" in staf.wait_for_message("Started", timeout=15)["text"]
        step1 = staf.wait_for_message(lambda m: FakeBotApi.buttons(m), timeout=15)
        assert "Step 1 of 8" in step1["text"]
        second = sopbot("run", env=env)  # a second bot on the same data is refused
        assert second.returncode == 1 and "already running" in second.stderr
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=30)
        assert bot.returncode == 0, output
        assert "starting (polling): flows=5 units=" in output
        assert re.search(r"transition instance=\w+ flow=pk-kec-sooko unit=kec-sooko year=2025 "
                         r"step=1 round=1 action=start member=8003 role=staf", output), output
        assert "filesystem is ephemeral" in output  # DYNO: a Heroku dyno
        assert api.token.split(":")[1] not in output  # no token in the logs
        assert all(code not in output for code in codes)  # nor invitation codes
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
