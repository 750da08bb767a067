"""sopbot: runs Indonesian regional-government SOPs in Telegram."""

import os
import sys

# Opt in now to python-telegram-bot's coming behaviour (durations as timedelta, e.g.
# RetryAfter.retry_after) instead of warnings on every rate limit; our code reads both.
os.environ.setdefault("PTB_TIMEDELTA", "1")

# httpx imports its command-line client (click, rich, pygments: ~0.2 s and 4 MB at every
# start-up) whenever those happen to be installed, as they are beside the test tools; the bot
# never runs that client, so its import is refused and httpx keeps its stub (issue 15).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
