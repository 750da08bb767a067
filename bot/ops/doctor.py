"""The checks of ``sopbot doctor``: is this machine ready to run the bot, and if not, why.

Each check gives one :class:`Check`: a status (ok, warn, fail), and a message template with
its parameters (marked with ``N_`` so the CLI prints it in its language) that says what was
found and what to do. Nothing here prints the bot token: every text that could carry it (a
URL, an HTTP error) goes through :func:`redact` first.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from bot.config import DEFAULT_API_URL, TOKEN_PATTERN, ConfigProblem, _api_url, data_dir_from
from bot.config import flows_dir_from as _flows_dir_from
from bot.i18n import N_

__all__ = ["MIN_FREE_BYTES", "WARN_FREE_BYTES", "Check", "redact", "run_checks"]

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_FREE_BYTES = 50 * 1024 * 1024
WARN_FREE_BYTES = 500 * 1024 * 1024
TIMEOUT = 10.0
_TOKEN_IN_TEXT = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)


def redact(text: str, token: str = "") -> str:
    """`text` without the bot token (nor anything shaped like one)."""
    if token:
        text = text.replace(token, "<token>")
        secret = token.partition(":")[2]
        if secret:
            text = text.replace(secret, "<token>")
    return _TOKEN_IN_TEXT.sub("<token>", text)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=f"***@{netloc}"))
    return url


def check_token(env: Mapping[str, str]) -> Check:
    token = (env.get("TELEGRAM_BOT_TOKEN") or "").strip()
    if not token:
        return Check("token", FAIL, N_("TELEGRAM_BOT_TOKEN is not set: create a bot with "
                                       "@BotFather and put its token in this variable."))
    if not TOKEN_PATTERN.match(token):
        return Check("token", FAIL, N_("TELEGRAM_BOT_TOKEN does not look like a bot token "
                                       "(<digits>:<letters>): copy it again from @BotFather."))
    return Check("token", OK, N_("TELEGRAM_BOT_TOKEN has the shape of a bot token (bot id "
                                 "{id})."), {"id": token.partition(":")[0]})


def check_api_url(env: Mapping[str, str]) -> tuple[Check, str | None]:
    problems: list[str] = []
    url = _api_url(env.get("TELEGRAM_API_URL") or DEFAULT_API_URL, problems)
    if problems:
        problem = problems[0]
        if isinstance(problem, ConfigProblem):
            return Check("api", FAIL, problem.template, dict(problem.params)), None
        return Check("api", FAIL, N_("{error}"), {"error": str(problem)}), None
    return Check("api", OK, N_("Bot API server: {url}."), {"url": url}), url


def proxy_from(env: Mapping[str, str], api_url: str) -> str | None:
    """The proxy httpx would use for `api_url` (HTTPS_PROXY, ALL_PROXY; HTTP_PROXY for http)."""
    scheme = urlsplit(api_url).scheme
    names = _PROXY_VARIABLES if scheme == "https" else ("HTTP_PROXY", "http_proxy",
                                                        "ALL_PROXY", "all_proxy")
    for name in names:
        if env.get(name, "").strip():
            return env[name].strip()
    return None


def check_proxy(env: Mapping[str, str], api_url: str | None) -> Check:
    proxy = proxy_from(env, api_url or DEFAULT_API_URL)
    if proxy is None:
        return Check("proxy", OK, N_("no outbound proxy (HTTPS_PROXY is not set): sopbot "
                                     "connects directly."))
    shown = _without_password(proxy)
    scheme = urlsplit(proxy).scheme
    if scheme not in ("http", "https", "socks5", "socks5h") or not urlsplit(proxy).hostname:
        return Check("proxy", FAIL, N_("HTTPS_PROXY {proxy} is not a proxy URL such as "
                                       "http://proxy.pemda.go.id:3128."), {"proxy": shown})
    if scheme.startswith("socks"):
        try:
            import socksio  # noqa: F401
        except ImportError:
            return Check("proxy", FAIL, N_("HTTPS_PROXY {proxy} is a SOCKS proxy: install "
                                           "httpx[socks] (pip install 'httpx[socks]')."),
                         {"proxy": shown})
    return Check("proxy", OK, N_("outbound proxy {proxy} (from HTTPS_PROXY)."),
                 {"proxy": shown})


def check_telegram(env: Mapping[str, str], api_url: str | None) -> Check:
    """getMe through the configured server and proxy: the server answers, the token works."""
    token = (env.get("TELEGRAM_BOT_TOKEN") or "").strip()
    if api_url is None or not TOKEN_PATTERN.match(token):
        return Check("telegram", WARN, N_("not asked: fix TELEGRAM_BOT_TOKEN and "
                                          "TELEGRAM_API_URL first."))
    proxy = proxy_from(env, api_url)
    try:
        # trust_env: HTTPS_PROXY, NO_PROXY as python-telegram-bot (httpx) itself reads them
        with httpx.Client(timeout=TIMEOUT, trust_env=True) as client:
            response = client.get(f"{api_url}/bot{token}/getMe")
    except (httpx.HTTPError, OSError, ValueError) as exc:
        error = redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                       token)
        if proxy:
            return Check("telegram", FAIL, N_("cannot reach {url} through the proxy {proxy} "
                                              "({error}): check HTTPS_PROXY and that the proxy "
                                              "allows this address."),
                         {"url": api_url, "proxy": _without_password(proxy), "error": error})
        return Check("telegram", FAIL, N_("cannot reach {url} ({error}): check "
                                          "TELEGRAM_API_URL, the network and, behind a proxy, "
                                          "HTTPS_PROXY."), {"url": api_url, "error": error})
    return _getme_answer(response, api_url, env)


def _getme_answer(response: httpx.Response, api_url: str, env: Mapping[str, str]) -> Check:
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        body = None
    if response.status_code == 401:
        return Check("telegram", FAIL, N_("{url} refuses the token (401 Unauthorized): copy it "
                                          "again from @BotFather (after /revoke it changed)."),
                     {"url": api_url})
    if response.status_code == 404:
        return Check("telegram", FAIL, N_("{url} answers 404 Not Found: the token is wrong, or "
                                          "TELEGRAM_API_URL is not the root of a Bot API "
                                          "server."), {"url": api_url})
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("ok"):
        return Check("telegram", FAIL, N_("{url} answers HTTP {status}, not a Bot API answer: "
                                          "check TELEGRAM_API_URL and HTTPS_PROXY."),
                     {"url": api_url, "status": response.status_code})
    username = (body.get("result") or {}).get("username") or "?"
    expected = (env.get("SOPBOT_BOT_USERNAME") or "").strip().lstrip("@")
    if expected and expected.lower() != username.lower():
        return Check("telegram", WARN, N_("the token belongs to @{username}, but "
                                          "SOPBOT_BOT_USERNAME says @{expected}: invitation "
                                          "links would point at the wrong bot."),
                     {"username": username, "expected": expected})
    return Check("telegram", OK, N_("the token works: this is @{username}."),
                 {"username": username})


def check_data_dir(env: Mapping[str, str]) -> Check:
    path = data_dir_from(env)
    if path.exists() and not path.is_dir():
        return Check("data", FAIL, N_("SOPBOT_DATA_DIR {path} is not a directory: point it at "
                                      "a directory (or a volume)."), {"path": str(path)})
    probe = path if path.is_dir() else next((p for p in path.parents if p.is_dir()), Path("."))
    if not os.access(probe, os.W_OK | os.X_OK):
        return Check("data", FAIL, N_("{path} is not writable by this user (uid {uid}): give "
                                      "it to the bot's user or set SOPBOT_DATA_DIR."),
                     {"path": str(probe), "uid": os.getuid()})
    if path.is_dir():
        try:
            with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
                pass
        except OSError as exc:
            return Check("data", FAIL, N_("cannot write in {path} ({error}): check the "
                                          "volume, its owner and that it is not read-only."),
                         {"path": str(path), "error": exc.strerror or str(exc)})
        unreadable = _unreadable_data(path)
        if unreadable:
            return Check("data", FAIL, N_("{file} cannot be read ({error}): stop the bot and "
                                          "restore the last backup (sopbot restore)."),
                         {"file": unreadable[0], "error": unreadable[1]})
    free = shutil.disk_usage(probe).free
    params = {"path": str(path), "free": f"{free / 1024 / 1024:.0f} MB"}
    if free < MIN_FREE_BYTES:
        return Check("data", FAIL, N_("only {free} free for {path}: free some space, or the "
                                      "bot's writes will fail."), params)
    if path.is_dir() and stat.S_IMODE(path.stat().st_mode) & 0o077:
        return Check("data", WARN, N_("{path} can be read by other users: chmod 700 {path} "
                                      "(it holds officials' names and decisions)."), params)
    if free < WARN_FREE_BYTES:
        return Check("data", WARN, N_("{path}: only {free} free; keep at least 500 MB."),
                     params)
    if not path.is_dir():
        return Check("data", OK, N_("{path} will be created at the first start ({free} "
                                    "free)."), params)
    return Check("data", OK, N_("{path} is writable, {free} free."), params)


def _unreadable_data(path: Path) -> tuple[str, str] | None:
    from bot.storage.store import read_json_file

    for file in sorted(path.glob("*.json")):
        try:
            read_json_file(file)
        except Exception as exc:  # what the bot would refuse at start-up
            return str(file), type(exc).__name__ if not str(exc) else str(exc)
    return None


def check_flows(env: Mapping[str, str]) -> tuple[Check, list[Any]]:
    from bot.calendar_file import load_flows_with_calendar
    from bot.engine.loader import FlowError

    directory = _flows_dir_from(env)
    try:
        flows = load_flows_with_calendar(directory, env)
    except FlowError as exc:
        return Check("flows", FAIL, N_("{n} problem(s) in {dir}: run sopbot flows check {dir} "
                                       "and fix them."),
                     {"n": len(exc.problems), "dir": str(directory)}), []
    units = sorted({f.unit.id for f in flows})
    return Check("flows", OK, N_("{n} flow(s) valid in {dir}, units: {units}."),
                 {"n": len(flows), "dir": str(directory), "units": ", ".join(units)}), flows


def check_calendar(flows: list[Any], today: date) -> Check:
    from bot.ops.coverage import WARN_FROM, coverage_gaps

    if not flows:
        return Check("calendar", WARN, N_("not checked: the flows did not load."))
    gaps = {gap.year: gap for gap in coverage_gaps(flows, today, next_year_always=True)}
    this, following = today.year, today.year + 1
    if this in gaps:
        return Check("calendar", FAIL, N_("the cuti bersama of {year} are unknown: upgrade the "
                                          "holidays package (pip install -U holidays) or list "
                                          "them in calendar.yaml."), {"year": this})
    if following in gaps:
        params = {"year": following, "units": ", ".join(gaps[following].units)}
        if (today.month, today.day) >= WARN_FROM:
            return Check("calendar", WARN, N_("the cuti bersama of {year} are not known yet "
                                              "(units: {units}): once the SKB is out, upgrade "
                                              "holidays or list them in calendar.yaml."), params)
        return Check("calendar", OK, N_("cuti bersama known for this year; those of {year} are "
                                        "usually published in the autumn."), params)
    return Check("calendar", OK, N_("cuti bersama known for {this} and {next}."),
                 {"this": this, "next": following})


def run_checks(env: Mapping[str, str], today: date) -> list[Check]:
    """Every check, in the order printed."""
    api_check, api_url = check_api_url(env)
    flows_check, flows = check_flows(env)
    return [check_token(env), api_check, check_proxy(env, api_url),
            check_telegram(env, api_url), check_data_dir(env), flows_check,
            check_calendar(flows, today)]
