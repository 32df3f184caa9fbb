"""Mutation-strength tests (issue 16): the confirmation tokens of bulk writes (tools/preview_token.py).

A token binds a write to its dry run: the same records and change give the same token wherever and
however they are written; anything else, or another caller's key, gives another; and a refused write
says exactly why and what to do.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from types import SimpleNamespace
from typing import Any

import pytest

from runtype_mcp.client.keys import forwarded_key
from runtype_mcp.errors import OperationError
from runtype_mcp.tools.preview_token import LENGTH, require, runtype_key, sign, token

KEY = "rt_key_of_the_deployment_0123456789"
OTHER = "rt_key_of_someone_else_9876543210"


def _ctx(api_key: str | None) -> Any:
    from pydantic import SecretStr

    settings = SimpleNamespace(api_key=SecretStr(api_key) if api_key else None)
    return SimpleNamespace(
        request_context=SimpleNamespace(lifespan_context=SimpleNamespace(settings=settings))
    )


def _expected(key: str, action: str, ids: list[str], change: Any) -> str:
    """The token as the module docstring defines it: HMAC-SHA256 of the canonical JSON of what would
    change, under a key derived from the Runtype key; its first LENGTH hex characters."""
    secret = hmac.new(key.encode(), b"runtype-mcp confirmation token v1", hashlib.sha256).digest()
    what = json.dumps(
        {"action": action, "ids": sorted(set(ids)), "change": change},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hmac.new(secret, what.encode(), hashlib.sha256).hexdigest()[:LENGTH]


def test_a_token_is_the_same_wire_format_on_every_instance_and_version() -> None:
    # Instances behind a load balancer (and old and new ones during a rolling deploy) must accept each
    # other's tokens, so the token is a fixed function of key, action, ids and change.
    change = {"updates": {"stage": "gewonnen ✓", "n": 2}, "deleteFields": ["old"]}
    got = sign(KEY, "edit", ["r2", "r1"], change)
    assert got == _expected(KEY, "edit", ["r1", "r2"], change)
    assert len(got) == 16 and int(got, 16) >= 0
    assert sign(KEY, "delete", ["r1"]) == _expected(KEY, "delete", ["r1"], None)


def test_the_same_records_and_change_give_the_same_token_however_they_are_written() -> None:
    a = sign(KEY, "edit", ["r1", "r2", "r2"], {"updates": {"a": 1, "b": 2}, "deleteFields": []})
    b = sign(KEY, "edit", ["r2", "r1"], {"updates": {"b": 2, "a": 1}, "deleteFields": []})
    assert a == b


def test_any_difference_in_what_would_change_gives_another_token() -> None:
    base = sign(KEY, "edit", ["r1"], {"updates": {"a": 1}})
    assert sign(KEY, "delete", ["r1"], {"updates": {"a": 1}}) != base
    assert sign(KEY, "edit", ["r1", "r2"], {"updates": {"a": 1}}) != base
    assert sign(KEY, "edit", ["r1"], {"updates": {"a": 2}}) != base
    assert sign(OTHER, "edit", ["r1"], {"updates": {"a": 1}}) != base
    assert sign(None, "edit", ["r1"], {"updates": {"a": 1}}) != base


def test_without_any_key_tokens_are_stable_within_the_process() -> None:
    first = sign(None, "delete", ["r1", "r2"])
    assert first == sign(None, "delete", ["r2", "r1"])
    assert len(first) == 16 and first != sign(None, "delete", ["r1"])


def test_the_call_uses_the_forwarded_key_before_the_configured_one() -> None:
    ctx = _ctx(KEY)
    assert runtype_key(ctx) == KEY
    assert token(ctx, "delete", ["r1"]) == sign(KEY, "delete", ["r1"])
    reset = forwarded_key.set(OTHER)
    try:
        assert runtype_key(ctx) == OTHER
        assert runtype_key(_ctx(None)) == OTHER
        assert token(ctx, "edit", ["r1"], {"x": 1}) == sign(OTHER, "edit", ["r1"], {"x": 1})
    finally:
        forwarded_key.reset(reset)
    assert runtype_key(_ctx(None)) is None
    assert token(_ctx(None), "delete", ["r1"]) == sign(None, "delete", ["r1"])


def test_a_token_copied_with_spaces_or_in_capitals_is_accepted() -> None:
    expected = sign(KEY, "delete", ["r1"])
    require(expected, expected, "bulk_delete_records", "deleted")
    require(f"  {expected.upper()}\n", expected, "bulk_delete_records", "deleted")
    require(None, expected, "bulk_delete_records", "deleted")  # no token: the caller decides


@pytest.mark.parametrize(
    ("tool", "verb"), [("bulk_delete_records", "deleted"), ("bulk_edit_records", "changed")]
)
def test_a_wrong_token_is_refused_with_what_to_do_next(tool: str, verb: str) -> None:
    expected = sign(KEY, "delete", ["r1"])
    with pytest.raises(OperationError) as refused:
        require(sign(KEY, "delete", ["r2"]), expected, tool, verb)
    assert refused.value.text == (
        f"{tool}: nothing was {verb}: confirmation does not match what this call would change now (the "
        "records or the change differ from the dry run it came from, or it was made for another API key). "
        "Call again with dry_run=true, show the result, and pass its new confirmation."
    )
    with pytest.raises(OperationError):
        require(expected[:-1], expected, tool, verb)
