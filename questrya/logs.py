"""Logging set-up: one format, and no secret ever written out.

Client libraries log request URLs, and some APIs put the token in the URL (Telegram's
`/bot<token>/`, RAWG's `?key=`), so every record is scrubbed of the configured secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

REDACTED = "[secret]"


class RedactSecrets(logging.Filter):
    """Replaces each secret in a record's rendered message with a marker."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr at `level`, with secrets scrubbed from every handler's output."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    threshold = logging.getLevelName(level)
    # Alembic narrates every start ("Context impl SQLiteImpl") at INFO: noise in a chat console.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, threshold))
    # httpx logs every request at INFO, a line for each message sent and each long poll: the
    # bots' own lines would drown. DEBUG shows them.
    logging.getLogger("httpx").setLevel(
        logging.NOTSET if threshold <= logging.DEBUG else logging.WARNING
    )
