"""The container path without a container engine: the entrypoint script run for real, and the
Dockerfile, compose files and .env.example checked against what the bot reads.

(No container engine can run where these tests run; ``tests/test_ops_http.py`` also starts
``sopbot run`` through the entrypoint and probes it with the image's health check.)
"""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.paths import ROOT

ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
ENV_READ = re.compile(r"""(?:environ|env)(?:\.get)?[(\[]\s*["']([A-Z][A-Z0-9_]+)["']""")
NAMED = re.compile(r"""["']((?:SOPBOT|TELEGRAM)_[A-Z0-9_]+)["']""")
#: Read by the HTTP client (httpx) on sopbot's behalf.
PROXY_VARIABLES = {"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"}


def variables_read_by_the_bot() -> set[str]:
    names: set[str] = set(PROXY_VARIABLES)
    for path in (ROOT / "bot").rglob("*.py"):
        if "fakeapi" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        names |= set(ENV_READ.findall(text)) | set(NAMED.findall(text))
    return names


def test_env_example_documents_every_variable() -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)[=:]",
                                (ROOT / ".env.example").read_text(encoding="utf-8"), re.M))
    read = variables_read_by_the_bot()
    assert {"TELEGRAM_BOT_TOKEN", "SOPBOT_HTTP_PORT", "SOPBOT_CALENDAR_FILE", "PORT"} <= read
    assert sorted(read - documented) == []


def test_dockerfile_runs_the_readme_command_as_a_user_with_data_on_a_volume() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert re.search(r"^USER sopbot$", text, re.M) and "--uid 10001" in text
    assert 'VOLUME ["/data"]' in text and "SOPBOT_DATA_DIR=/data" in text
    assert 'CMD ["run"]' in text and 'ENTRYPOINT ["sopbot-entrypoint"]' in text
    assert 'CMD ["sopbot-entrypoint", "healthcheck"]' in text
    for source in re.findall(r"^COPY (\S+)", text, re.M):
        assert (ROOT / source).exists(), source


def test_compose_files() -> None:
    single = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    bot = single["services"]["sopbot"]
    assert bot["env_file"] == ".env" and "sopbot-data:/data" in bot["volumes"]
    assert bot["command"] == ["run"] and "sopbot-data" in single["volumes"]
    tenants = yaml.safe_load((ROOT / "compose.tenants.yaml").read_text(encoding="utf-8"))
    services = tenants["services"]
    assert len(services) == 2
    seen: dict[str, set[str]] = {"env": set(), "data": set(), "flows": set(), "port": set()}
    for name, service in services.items():
        assert service["image"] == "sopbot:local" and service["command"] == ["run"]
        data, flows = service["volumes"]
        assert data == f"{name}-data:/data" and data.split(":")[0] in tenants["volumes"]
        assert flows == f"./tenants/{name}/flows:/flows:ro"
        assert service["environment"]["SOPBOT_FLOWS_DIR"] == "/flows"
        for key, value in (("env", service["env_file"]), ("data", data), ("flows", flows),
                           ("port", service["ports"][0].split(":")[1])):
            assert value not in seen[key], f"{name} shares its {key} with another tenant"
            seen[key].add(value)


def entrypoint(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "SOPBOT_")) and k != "PORT"}
    base.update(SOPBOT_LANGUAGE="en",
                PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    base.update(env)
    return subprocess.run(["sh", str(ENTRYPOINT), *args], cwd=ROOT, env=base,
                          capture_output=True, text=True, timeout=60)


def test_entrypoint_passes_sopbot_commands_and_runs_others() -> None:
    version = entrypoint("--version")
    assert version.returncode == 0 and version.stdout.startswith("sopbot 0.1.0")
    flows = entrypoint("flows", "list")
    assert flows.returncode == 0 and "pk-kec-sooko" in flows.stdout
    other = entrypoint("echo", "hello from the container")
    assert other.stdout == "hello from the container\n"


def test_entrypoint_refuses_a_data_directory_it_cannot_create(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = entrypoint("run", SOPBOT_DATA_DIR=str(blocker / "data"),
                        TELEGRAM_BOT_TOKEN="123:TEST")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"sopbot: the data directory {blocker / 'data'} does not exist and cannot be created; "
        "mount a volume there (compose.yaml does) or set SOPBOT_DATA_DIR.")


@pytest.fixture
def health_server() -> Iterator[tuple[int, dict[str, int]]]:
    answer = {"status": 200}

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(answer["status"] if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], answer
    finally:
        server.shutdown()
        server.server_close()


def test_entrypoint_healthcheck(health_server: tuple[int, dict[str, int]]) -> None:
    port, answer = health_server
    assert entrypoint("healthcheck", SOPBOT_HTTP_PORT=str(port)).returncode == 0
    # webhook mode: the image's SOPBOT_HTTP_PORT is not served, $PORT is
    assert entrypoint("healthcheck", SOPBOT_HTTP_PORT="1", PORT=str(port)).returncode == 0
    answer["status"] = 503
    unhealthy = entrypoint("healthcheck", SOPBOT_HTTP_PORT=str(port))
    assert unhealthy.returncode == 1 and "503" in unhealthy.stderr
    unset = entrypoint("healthcheck")
    assert unset.returncode == 1 and "set SOPBOT_HTTP_PORT" in unset.stderr


def test_restore_drill(tmp_path: Path) -> None:
    data, backup = tmp_path / "data", tmp_path / "backup"
    env = {"SOPBOT_DATA_DIR": str(data), "SOPBOT_BOT_USERNAME": "sop_bot"}
    invite = entrypoint("invite", "--unit", "kec-sooko", "--role", "camat", **env)
    assert invite.returncode == 0, invite.stderr
    assert entrypoint("backup", str(backup), **env).returncode == 0
    drill = entrypoint("sh", str(ROOT / "deploy" / "restore-drill.sh"), str(backup))
    assert drill.returncode == 0, drill.stderr
    assert drill.stdout.strip() == f"restore drill passed: {backup} (1 data files)"
    (backup / "sopbot.json").write_bytes(b"\x00 not a backup")
    broken = entrypoint("sh", str(ROOT / "deploy" / "restore-drill.sh"), str(backup))
    assert broken.returncode != 0 and "passed" not in broken.stdout
    assert "sopbot.json" in broken.stderr
