"""What every httpx client of a process shares: one TLS context, and the modules httpx loads.

Made once per process, when this module is imported: `questrya worker` imports it before it
forks, so RQ's work horses inherit both instead of paying at every job. An httpx client left to
itself builds its own TLS context, loading the CA certificates again (tens of milliseconds, more
than a metadata lookup or a push takes), and httpx loads httpcore and anyio's asyncio backend at
its first request (a third of a delivery job's CPU).
"""

from __future__ import annotations

import importlib
import ssl

import httpx

# What httpx imports only at its first request.
HTTP_CLIENT_MODULES = ("httpcore", "anyio._backends._asyncio", "anyio.abc", "anyio.streams.tls")


def _shared_tls_context() -> ssl.SSLContext:
    for module in HTTP_CLIENT_MODULES:
        importlib.import_module(module)
    return httpx.create_ssl_context()


TLS_CONTEXT = _shared_tls_context()
