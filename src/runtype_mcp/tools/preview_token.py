"""Confirmation tokens that bind a destructive write to the preview it follows.

A dry run of `bulk_delete_records` or `bulk_edit_records` returns `confirmation`: an HMAC, under a
random key made when the server process starts, of exactly what the call would change (the sorted id
set and the change). A write that presents a token is refused, changing nothing, unless the token of
what it would change now is the same: a different id set, a different change, a token from another
server process or a made-up one all differ. No tools are registered here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from typing import Any

from runtype_mcp.errors import OperationError

_KEY = secrets.token_bytes(32)
LENGTH = 16  # hex characters shown to the model: 64 bits, short enough to copy


def token(action: str, ids: Iterable[str], change: Any = None) -> str:
    """The confirmation for `action` on exactly `ids` with `change` (order of ids does not matter)."""
    what = json.dumps(
        {"action": action, "ids": sorted(set(ids)), "change": change},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(_KEY, what.encode(), hashlib.sha256).hexdigest()[:LENGTH]


def require(given: str | None, expected: str, tool: str, verb: str) -> None:
    """Refuse (nothing done) when a presented confirmation is not the token of what would change now."""
    if given is not None and not hmac.compare_digest(given.strip().lower(), expected):
        raise OperationError(
            f"{tool}: nothing was {verb}: confirmation does not match what this call would change now (the "
            "records or the change differ from the dry run it came from, or it is from an earlier server "
            f"session). Call again with dry_run=true, show the result, and pass its new confirmation."
        )
