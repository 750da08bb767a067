"""sopbot: runs Indonesian regional-government SOPs in Telegram."""

import os

# Opt in now to python-telegram-bot's coming behaviour (durations as timedelta, e.g.
# RetryAfter.retry_after) instead of warnings on every rate limit; our code reads both.
os.environ.setdefault("PTB_TIMEDELTA", "1")
