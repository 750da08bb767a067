"""``sopbot doctor`` and ``sopbot --version`` as an admin runs them, against the fake Bot API."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.engine.loader import load_flows
from bot.ops.coverage import coverage_gaps, warn_about_coverage
from bot.ops.doctor import redact
from fakeapi import FakeBotApi
from tests.support.paths import DATA_DIR, FLOWS_DIR, ROOT

MINI = (DATA_DIR / "mini.yaml").read_text(encoding="utf-8")


def env_for(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "SOPBOT_"))
           and k.lower() not in ("https_proxy", "http_proxy", "all_proxy", "no_proxy")}
    env.update(SOPBOT_LANGUAGE="en", SOPBOT_FLOWS_DIR=str(FLOWS_DIR))
    env.update(extra)
    return env


def doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "doctor", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def line(output: str, name: str) -> str:
    return next(x for x in output.splitlines() if x.split()[1:2] == [name])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def api():
    with FakeBotApi(token="123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw") as server:
        yield server


def test_version() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "--version"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("sopbot 0.1.0 (Python 3.")
    assert "holidays 0." in result.stdout


def test_everything_ready(tmp_path: Path, api: FakeBotApi) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    result = doctor(env_for(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.api_root,
                            SOPBOT_DATA_DIR=str(data), SOPBOT_BOT_USERNAME="sopbot_test_bot"),
                    "--date", "2026-06-01")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert line(out, "token").startswith("[ok]") and "bot id 123456" in out
    assert line(out, "api").startswith("[ok]") and api.api_root in line(out, "api")
    assert line(out, "proxy").startswith("[ok]")
    assert line(out, "telegram") == "[ok]      telegram  the token works: this is @sopbot_test_bot."
    assert line(out, "data").startswith("[ok]") and "MB free" in line(out, "data")
    assert line(out, "flows").startswith("[ok]") and "5 flow(s) valid" in out
    assert line(out, "calendar") == "[ok]      calendar  cuti bersama known for 2026 and 2027."
    assert out.rstrip().endswith("Ready to run.")
    assert api.token.split(":")[1] not in out + result.stderr


def test_a_refused_token_fails_without_showing_it(tmp_path: Path, api: FakeBotApi) -> None:
    wrong = "123456:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    result = doctor(env_for(TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_URL=api.api_root,
                            SOPBOT_DATA_DIR=str(tmp_path)))
    assert result.returncode == 1
    assert line(result.stdout, "telegram").startswith("[FAIL]")
    assert "refuses the token (401 Unauthorized)" in result.stdout
    assert result.stdout.rstrip().endswith("1 check failed.")
    assert wrong.split(":")[1] not in result.stdout + result.stderr


def test_bad_token_shape_and_bad_api_url(tmp_path: Path) -> None:
    result = doctor(env_for(TELEGRAM_BOT_TOKEN="not-a-token",
                            TELEGRAM_API_URL="http://127.0.0.1:9/bot123:x",
                            SOPBOT_DATA_DIR=str(tmp_path)))
    assert result.returncode == 1
    assert line(result.stdout, "token").startswith("[FAIL]")
    assert "copy it again from @BotFather" in line(result.stdout, "token")
    assert "server root only" in line(result.stdout, "api")
    assert line(result.stdout, "telegram").startswith("[warning]")


def test_an_unreachable_server_names_the_variables(tmp_path: Path, api: FakeBotApi) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = doctor(env_for(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=url,
                            SOPBOT_DATA_DIR=str(tmp_path)))
    assert result.returncode == 1
    telegram = line(result.stdout, "telegram")
    assert telegram.startswith("[FAIL]") and f"cannot reach {url}" in telegram
    assert "TELEGRAM_API_URL" in telegram and "HTTPS_PROXY" in telegram
    assert api.token.split(":")[1] not in result.stdout + result.stderr


def test_a_proxy_that_does_not_answer(tmp_path: Path, api: FakeBotApi) -> None:
    """The default https://api.telegram.org through HTTPS_PROXY on a closed local port: only
    127.0.0.1 is contacted. The proxy's password is not shown either."""
    proxy = f"http://diskominfo:rahasia@127.0.0.1:{closed_port()}"
    result = doctor(env_for(TELEGRAM_BOT_TOKEN=api.token, HTTPS_PROXY=proxy,
                            SOPBOT_DATA_DIR=str(tmp_path)))
    assert result.returncode == 1
    assert line(result.stdout, "proxy").startswith("[ok]")
    assert "***@127.0.0.1" in line(result.stdout, "proxy")
    telegram = line(result.stdout, "telegram")
    assert telegram.startswith("[FAIL]") and "through the proxy" in telegram
    assert "check HTTPS_PROXY" in telegram
    assert "rahasia" not in result.stdout and api.token.split(":")[1] not in result.stdout
    bad = doctor(env_for(HTTPS_PROXY="proxy.pemda.go.id", SOPBOT_DATA_DIR=str(tmp_path)))
    assert line(bad.stdout, "proxy").startswith("[FAIL]")


def test_data_directory_problems(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    result = doctor(env_for(SOPBOT_DATA_DIR=str(not_a_dir)))
    assert line(result.stdout, "data").startswith("[FAIL]")
    assert "is not a directory" in result.stdout
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir(mode=0o700)
    (corrupt / "sopbot.json").write_bytes(b"\x00\x01 not json")
    result = doctor(env_for(SOPBOT_DATA_DIR=str(corrupt)))
    data = line(result.stdout, "data")
    assert data.startswith("[FAIL]") and "restore the last backup" in data
    assert (corrupt / "sopbot.json").read_bytes() == b"\x00\x01 not json"  # untouched
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    result = doctor(env_for(SOPBOT_DATA_DIR=str(shared)))
    assert line(result.stdout, "data").startswith("[warning]")
    assert f"chmod 700 {shared}" in result.stdout


def test_invalid_flows_fail(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(MINI.replace("actor: staf, waktu: 2 Jam",
                                                       "actor: siapa, waktu: 2 Jam"))
    result = doctor(env_for(SOPBOT_FLOWS_DIR=str(tmp_path), SOPBOT_DATA_DIR=str(tmp_path)))
    flows = line(result.stdout, "flows")
    assert flows.startswith("[FAIL]") and f"sopbot flows check {tmp_path}" in flows
    assert line(result.stdout, "calendar").startswith("[warning]")


def test_calendar_coverage_of_the_coming_year(tmp_path: Path) -> None:
    (tmp_path / "mini.yaml").write_text(MINI)
    env = env_for(SOPBOT_FLOWS_DIR=str(tmp_path), SOPBOT_DATA_DIR=str(tmp_path / "d"))
    # holidays knows 2027's cuti bersama, not 2028's: a warning from 1 November 2027 on
    early = doctor(env, "--date", "2027-10-31")
    assert line(early.stdout, "calendar").startswith("[ok]")
    assert "those of 2028 are usually published in the autumn" in early.stdout
    late = doctor(env, "--date", "2027-11-01")
    calendar = line(late.stdout, "calendar")
    assert calendar.startswith("[warning]") and "cuti bersama of 2028 are not known" in calendar
    # ... until calendar.yaml lists them
    (tmp_path / "calendar.yaml").write_text(
        "all:\n  cuti_bersama:\n    2028:\n      - {date: 2028-01-28, name: Cuti Bersama}\n")
    listed = doctor(env, "--date", "2027-11-01")
    assert line(listed.stdout, "calendar") == \
        "[ok]      calendar  cuti bersama known for 2027 and 2028."
    stale = doctor(env, "--date", "2031-03-01")
    assert line(stale.stdout, "calendar").startswith("[FAIL]")
    bad = doctor(env, "--date", "1 Nov")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def test_doctor_speaks_indonesian(tmp_path: Path) -> None:
    result = doctor(env_for(SOPBOT_LANGUAGE="id", SOPBOT_DATA_DIR=str(tmp_path)))
    assert line(result.stdout, "token").startswith("[GAGAL]")
    assert "TELEGRAM_BOT_TOKEN belum diisi" in result.stdout


def test_start_up_warning_from_the_first_of_november(caplog: pytest.LogCaptureFixture) -> None:
    flows = load_flows(FLOWS_DIR)
    assert coverage_gaps(flows, date(2027, 10, 31)) == []
    with caplog.at_level(logging.WARNING, logger="sopbot"):
        gaps = warn_about_coverage(flows, date(2027, 11, 1))
    assert [gap.year for gap in gaps] == [2028]
    assert "the cuti bersama of 2028 are not known yet" in caplog.text
    assert "kec-neglasari" in caplog.text and "calendar.yaml" in caplog.text
    assert coverage_gaps(flows, date(2026, 11, 29)) == []  # 2027 is known


def test_redact() -> None:
    token = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    assert redact(f"GET https://api.telegram.org/bot{token}/getMe", token) == \
        "GET https://api.telegram.org/bot<token>/getMe"
    assert redact("bot987654:ZZHdqTcvCH1vGWJxfSeofSAs0K5PAL failed") == "bot<token> failed"
