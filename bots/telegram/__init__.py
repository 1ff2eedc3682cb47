"""The Telegram adapter (python-telegram-bot): handlers, replies as HTML, and the bot's start-up."""

import os

# python-telegram-bot 22 gives durations (RetryAfter.retry_after) as timedeltas only when opted
# in, and warns otherwise; we opt in.
os.environ.setdefault("PTB_TIMEDELTA", "true")
