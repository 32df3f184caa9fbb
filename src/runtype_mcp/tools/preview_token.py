"""Confirmation tokens that bind a destructive write to the preview it follows.

A dry run of `bulk_delete_records` or `bulk_edit_records` returns `confirmation`: an HMAC of exactly
what the call would change (the sorted id set and the change). The write must present it (unless the
user approved it in the client's own dialog) and is refused, changing nothing, unless the token of
what it would change now is the same: a different id set, a different change, another caller's token
or a made-up one all differ.

The HMAC key is derived from the Runtype key of the call (the configured one, or the one an HTTP
client forwarded), which the model never sees: every instance of a deployment behind a load balancer
accepts the others' tokens, and one caller's token is worthless to another. Without any key (a
sandbox without one) the key is random per process. No tools are registered here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from typing import Any

from runtype_mcp.client.keys import forwarded_key
from runtype_mcp.errors import OperationError
from runtype_mcp.tools.registry import Ctx, settings_of

_PROCESS_KEY = secrets.token_bytes(32)
_LABEL = b"runtype-mcp confirmation token v1"
LENGTH = 16  # hex characters shown to the model: 64 bits, short enough to copy


def runtype_key(ctx: Ctx) -> str | None:
    """The Runtype key this call runs with: the one its HTTP client forwarded, else the configured one."""
    settings = settings_of(ctx)
    return forwarded_key.get() or (settings.api_key.get_secret_value() if settings.api_key else None)


def token(ctx: Ctx, action: str, ids: Iterable[str], change: Any = None) -> str:
    """The confirmation for `action` on exactly `ids` with `change`, for this call's Runtype key."""
    return sign(runtype_key(ctx), action, ids, change)


def sign(key: str | None, action: str, ids: Iterable[str], change: Any = None) -> str:
    """The confirmation under Runtype key `key` (order of ids does not matter)."""
    secret = hmac.new(key.encode(), _LABEL, hashlib.sha256).digest() if key else _PROCESS_KEY
    what = json.dumps(
        {"action": action, "ids": sorted(set(ids)), "change": change},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(secret, what.encode(), hashlib.sha256).hexdigest()[:LENGTH]


def require(given: str | None, expected: str, tool: str, verb: str) -> None:
    """Refuse (nothing done) when a presented confirmation is not the token of what would change now."""
    if given is not None and not hmac.compare_digest(given.strip().lower(), expected):
        raise OperationError(
            f"{tool}: nothing was {verb}: confirmation does not match what this call would change now (the "
            "records or the change differ from the dry run it came from, or it was made for another API key). "
            "Call again with dry_run=true, show the result, and pass its new confirmation."
        )
