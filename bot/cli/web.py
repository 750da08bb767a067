"""``sopbot web``: the bot in webhook mode, an HTTP server on ``$PORT`` (see :mod:`bot.tg.webhook`).

For platforms that route HTTPS to a process's ``$PORT`` (a Procfile ``web`` process) and for a
VPS behind a reverse proxy. ``sopbot run`` (long polling) needs no public URL; run one of the
two, never both on the same token or data directory.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from bot.cli.common import report_settings
from bot.cli.run import prepare_bot
from bot.i18n import Translator
from bot.tg.webhook import MAX_CONNECTIONS, WEBHOOK_PATH, WebhookConfig

SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
DEFAULT_HOST = "0.0.0.0"


def register(sub: Any, t: Translator) -> None:
    """Add the ``web`` subcommand to the ``sopbot`` command line."""
    _ = t.gettext
    web = sub.add_parser(
        "web",
        help=_("run the bot in webhook mode: an HTTP server on $PORT"),
        description=_("Serves Telegram's webhook on $PORT (POST /telegram, checked against "
                      "SOPBOT_WEBHOOK_SECRET) and a health check (GET /health), and registers "
                      "SOPBOT_WEBHOOK_URL/telegram with Telegram. Run either this or "
                      "\"sopbot run\", never both."))
    web.set_defaults(func=cmd_web)


def webhook_config_from_env(env: Mapping[str, str], t: Translator,
                            problems: list[str]) -> WebhookConfig:
    """``PORT``, ``SOPBOT_WEBHOOK_URL``, ``SOPBOT_WEBHOOK_SECRET``, ``SOPBOT_WEBHOOK_HOST``.

    Every problem is appended to `problems` (the returned config is then meaningless).
    """
    _ = t.gettext
    port_text = env.get("PORT", "").strip()
    port = 0
    if not port_text:
        problems.append(_("PORT is not set: the TCP port to serve the webhook on (a platform "
                          "sets it; on a VPS choose one, e.g. 8080)"))
    elif not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        problems.append(_("PORT: {value!r} is not a TCP port (1-65535)").format(value=port_text))
    else:
        port = int(port_text)
    url = env.get("SOPBOT_WEBHOOK_URL", "").strip().rstrip("/")
    parts = urlsplit(url)
    if not url:
        problems.append(_("SOPBOT_WEBHOOK_URL is not set: the public https address of this "
                          "server, e.g. https://bot.example.go.id (sopbot adds {path})"
                          ).format(path=WEBHOOK_PATH))
    elif parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        problems.append(_("SOPBOT_WEBHOOK_URL: {value!r} is not a public https URL such as "
                          "https://bot.example.go.id (Telegram only calls https)"
                          ).format(value=url))
    secret = env.get("SOPBOT_WEBHOOK_SECRET", "").strip()
    if not secret:
        problems.append(_("SOPBOT_WEBHOOK_SECRET is not set: choose a random string of 1-256 "
                          "letters, digits, _ and - (e.g. from: openssl rand -hex 32)"))
    elif not SECRET_PATTERN.match(secret):
        problems.append(_("SOPBOT_WEBHOOK_SECRET: use only 1-256 letters, digits, _ and -"))
    host = env.get("SOPBOT_WEBHOOK_HOST", "").strip() or DEFAULT_HOST
    raw = env.get("SOPBOT_WEBHOOK_MAX_CONNECTIONS", "").strip() or str(MAX_CONNECTIONS)
    max_connections = int(raw) if raw.isascii() and raw.isdigit() else 0
    if not 1 <= max_connections <= 100_000:
        problems.append(_("SOPBOT_WEBHOOK_MAX_CONNECTIONS: {value!r} is not a whole number "
                          "from 1 to 100000 (open connections served at once)"
                          ).format(value=raw))
        max_connections = MAX_CONNECTIONS
    return WebhookConfig(base_url=url, secret=secret, host=host, port=port,
                         max_connections=max_connections)


def cmd_web(args: argparse.Namespace, t: Translator) -> int:
    """Run the bot in webhook mode until SIGTERM/SIGINT; 0, or 1/2 when it cannot start."""
    from bot.config import ConfigError, settings_from_env
    from bot.tg.webhook import serve_webhook

    problems: list[str] = []
    settings = None
    try:
        settings = settings_from_env(os.environ)
    except ConfigError as exc:
        problems.extend(exc.render(t.gettext))
    config = webhook_config_from_env(os.environ, t, problems)
    if problems or settings is None:
        return report_settings(t, problems)
    from bot.redact import add_secrets

    add_secrets([config.secret])
    bot = prepare_bot(t, settings, "webhook")
    if isinstance(bot, int):
        return bot
    from bot.cli.run import serve_until_stopped

    return serve_until_stopped(serve_webhook(bot.app, config), bot.store)
