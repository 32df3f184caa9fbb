"""Whose call is this: the key an HTTP client forwarded, and every secret in force for the call.

In forward-key mode (RUNTYPE_MCP_FORWARD_KEY) each request's bearer is the Runtype key for that
request only: bound to a context variable for its duration, never stored. `current_secrets` is what
every scrub of the call uses (the door, the ingress scrub, exports, the logs).
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping

from runtype_mcp.config import Settings
from runtype_mcp.logs import redactor

# The Runtype key an HTTP client brought with its request (RUNTYPE_MCP_FORWARD_KEY mode only).
forwarded_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("forwarded_key", default=None)

MISSING_FORWARDED_KEY = (
    "This server runs in forward-key mode: each HTTP client must send its own Runtype API key as "
    "'Authorization: Bearer <key>' on every request. Add that header in the MCP client's config and reconnect."
)


def bind_forwarded_key(
    settings: Settings, headers: Mapping[str, str] | None
) -> contextvars.Token[str | None] | None:
    """In forward-key mode, make the request's bearer the Runtype key for this call (never stored)."""
    if not settings.mcp_forward_key or headers is None:
        return None
    return forwarded_key.set(bearer(headers))


def bearer(headers: Mapping[str, str] | None) -> str | None:
    """The bearer token an HTTP request carried, if any (a forwarded key or the HTTP token)."""
    if headers is None:
        return None
    auth = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_secrets(settings: Settings) -> list[str]:
    """Every secret in force for this call: the configured ones plus the key its HTTP client forwarded."""
    values = settings.secrets()
    if (key := forwarded_key.get()) is not None:
        values.append(key)
    return values


# Logs scrub the forwarded key of the call they are written in, like the configured secrets.
redactor().dynamic = lambda: [key] if (key := forwarded_key.get()) else []
