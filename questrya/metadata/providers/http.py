"""What the RAWG and IGDB providers share about HTTP: the client, and what a failure means.

Both APIs put secrets where client libraries like to log them (RAWG's `?key=`, Twitch's
client secret), so error messages here are built from URLs without their query, and
`hide_in_client_logs` scrubs secrets from httpx's own request log whatever the app's logging
set-up is.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx

from questrya.http_clients import TLS_CONTEXT
from questrya.logs import RedactSecrets
from questrya.metadata.providers.base import ProviderError, ProviderUnavailable

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 10.0
# httpx logs every request URL, query included, at INFO on this logger.
CLIENT_LOGGER_NAME = "httpx"


class RateLimitError(ProviderError):
    """The provider asked us to slow down; `retry_after` is how long it asked for, if it said."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _user_agent() -> str:
    try:
        return f"Questrya/{version('questrya')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "Questrya/dev"


# Read once, at import: reading package metadata costs a work horse about 2 ms, and each job
# builds its own client.
USER_AGENT = _user_agent()


def build_client(
    *,
    read_timeout: float = READ_TIMEOUT_SECONDS,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
) -> httpx.AsyncClient:
    """An HTTP client with explicit timeouts and a User-Agent naming Questrya, on the process's
    TLS context (a job builds one client, and loading certificates would cost it more than its
    lookup)."""
    return httpx.AsyncClient(
        verify=TLS_CONTEXT,
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
    )


class _ClientLogRedactor(RedactSecrets):
    """Our filter on the httpx logger, told apart from any filter the app installs there."""


_hidden_secrets: set[str] = set()


def hide_in_client_logs(*secrets: str) -> None:
    """Scrub `secrets` from the request lines httpx logs, even if logging was never set up."""
    new_secrets = {secret for secret in secrets if secret} - _hidden_secrets
    if not new_secrets:
        return
    _hidden_secrets.update(new_secrets)
    logger = logging.getLogger(CLIENT_LOGGER_NAME)
    # One filter holding every secret: it replaces the longest first, so a secret that
    # contains another is still hidden whole.
    for old in [f for f in logger.filters if isinstance(f, _ClientLogRedactor)]:
        logger.removeFilter(old)
    logger.addFilter(_ClientLogRedactor(_hidden_secrets))


def without_query(url: httpx.URL) -> str:
    """`url` with its query dropped: the form safe to put in a message or a log."""
    return str(url.copy_with(query=None, fragment=None))


async def send(provider: str, client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send `request`; a timeout or a network failure becomes a ProviderError."""
    where = f"{request.method} {without_query(request.url)}"
    try:
        return await client.send(request)
    except httpx.TimeoutException as error:
        raise ProviderError(f"{provider}: {where} timed out") from error
    except httpx.TransportError as error:
        raise ProviderError(f"{provider}: {where} failed ({type(error).__name__})") from error


def raise_for_status(provider: str, response: httpx.Response) -> None:
    """Turn an error status into the provider error it means; do nothing on success."""
    status = response.status_code
    if status < 400:
        return
    where = f"{response.request.method} {without_query(response.request.url)}"
    message = f"{provider}: {where} answered {status}"
    if status == httpx.codes.TOO_MANY_REQUESTS:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise RateLimitError(message, retry_after=retry_after)
    if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
        raise ProviderUnavailable(f"{message}: check the credentials")
    # 5xx are the provider's trouble; any other 4xx is a request it refused, which a later
    # try may get past (a fixed deploy), so neither disables the provider.
    raise ProviderError(message)


def read_json(provider: str, response: httpx.Response) -> Any:
    """The JSON body of a successful response; a body that is not JSON is a ProviderError."""
    raise_for_status(provider, response)
    try:
        return response.json()
    except ValueError as error:
        where = without_query(response.request.url)
        raise ProviderError(f"{provider}: {where} answered something that is not JSON") from error


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
