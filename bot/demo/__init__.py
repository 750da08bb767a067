"""``sopbot demo``: the real bot at work, offline, within a minute of cloning.

The project's fake Telegram Bot API server (:mod:`fakeapi`) listens on 127.0.0.1 and the REAL
bot (python-telegram-bot and its HTTP stack, the services, TinyDB in a temporary directory)
talks to it. Simulated officials join with real invitation codes (``/start CODE``) and play a
complete run of a flow in chat: every step decided by its role's holder, one revision loop, one
attachment, fan-out steps completed by each holder, and the final ``status``. Time comes from
a controllable clock, so deadlines look real.

- :mod:`.harness`: the fake server, the real bot and the chat driver (the tests use it too);
- :mod:`.session`: a harness with a printed transcript (:mod:`.transcript`);
- :mod:`.scenario`: the scripted run (:func:`play_demo`), with the officials of
  :mod:`.officials`;
- :mod:`.interactive`: the terminal session (:func:`interactive`).

Transcript labels are in the CLI's language (the translator passed in); the bot speaks to the
simulated officials in their Telegram language (Indonesian unless told otherwise).
"""

from bot.demo.interactive import interactive
from bot.demo.officials import official_names, revision_reason, short_title, tiny_pdf
from bot.demo.scenario import DEFAULT_FLOW, DEFAULT_YEAR, DemoResult, DemoSummary, play_demo
from bot.demo.session import DemoFailure

__all__ = [
    "DEFAULT_FLOW",
    "DEFAULT_YEAR",
    "DemoFailure",
    "DemoResult",
    "DemoSummary",
    "interactive",
    "official_names",
    "play_demo",
    "revision_reason",
    "short_title",
    "tiny_pdf",
]
