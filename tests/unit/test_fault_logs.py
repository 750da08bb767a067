"""A foreseeable fault is one log line, not a traceback, and a burst of it is one line a
minute (issue 16: a blocked stranger and a five-minute API outage printed 145 tracebacks)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError

from bot.redact import FaultFilter, RedactingFilter, add_secrets

TOKEN = "123456789:AAHfakefakefakefakefakefakefakefake12"


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(FaultFilter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("sopbot.test.faults")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)


def _raise(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_a_blocked_chat_ten_times_is_one_line_without_a_traceback(
        log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = log
    for _ in range(10):
        logger.error("error while handling an update",
                     exc_info=_raise(Forbidden("Forbidden: bot was blocked by the user")))
    lines = out.getvalue().splitlines()
    assert lines == ["WARNING sopbot.test.faults: error while handling an update "
                     "(Forbidden: Forbidden: bot was blocked by the user)"]


def test_an_outage_names_the_fault_and_hides_the_token(
        log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = log
    add_secrets([TOKEN])
    logger.exception("outbox delivery failed", exc_info=_raise(
        NetworkError(f"httpx.ConnectError: http://127.0.0.1:9/bot{TOKEN}/sendMessage")))
    text = out.getvalue()
    assert "Traceback" not in text and TOKEN not in text
    assert "outbox delivery failed (NetworkError: " in text


def test_the_bot_apis_error_page_is_one_line() -> None:
    """python-telegram-bot logs a non-JSON answer (a proxy's 502 page) with its traceback."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(FaultFilter())
    logger = logging.getLogger("telegram.request._baserequest.test")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for _ in range(5):
            try:
                json.loads("<html><head><title>502 Bad Gateway</title></head></html>")
            except ValueError:
                logger.exception('Can not load invalid JSON data: "%s"', "<html>…</html>")
    finally:
        logger.removeHandler(handler)
    assert len(out.getvalue().splitlines()) == 1
    assert "Traceback" not in out.getvalue()


def test_a_bug_keeps_its_traceback(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = log
    for exc in (KeyError("instance"), BadRequest("Message is too long")):
        logger.error("error while handling an update", exc_info=_raise(exc))
    assert out.getvalue().count("Traceback") == 2
