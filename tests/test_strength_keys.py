"""Whose key a call uses and which secrets its scrub removes (client/keys.py), case by case."""

from __future__ import annotations

import pytest

from runtype_mcp.client.keys import bearer, bind_forwarded_key, current_secrets, forwarded_key
from runtype_mcp.logs import redactor
from runtype_mcp.scrub import REDACTED
from tests.conftest import make_settings

CALLER_KEY = "rt_live_callers_own_key_7777"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"authorization": "Bearer rt_abc"}, "rt_abc"),
        ({"Authorization": "Bearer rt_abc"}, "rt_abc"),
        ({"authorization": "bEaReR \t rt_abc \t"}, "rt_abc"),
        ({"authorization": "Bearer rt a b"}, "rt a b"),
        ({"authorization": "", "Authorization": "Bearer rt_abc"}, "rt_abc"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, None),
        ({"authorization": "Bearer"}, None),
        ({"authorization": "Bearer \t "}, None),
        ({"authorization": "Bearerrt_abc"}, None),
        ({"x-other": "Bearer rt_abc"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_the_bearer_is_the_token_after_the_scheme_and_nothing_else(
    headers: dict[str, str] | None, expected: str | None
) -> None:
    assert bearer(headers) == expected


def test_without_forward_key_mode_the_callers_bearer_is_ignored() -> None:
    assert bind_forwarded_key(make_settings(), {"authorization": f"Bearer {CALLER_KEY}"}) is None
    assert forwarded_key.get() is None


def test_a_forwarded_key_is_a_secret_of_its_call_only() -> None:
    settings = make_settings(mcp_forward_key=True)
    configured = settings.secrets()
    assert current_secrets(settings) == configured
    token = bind_forwarded_key(settings, {"authorization": f"Bearer {CALLER_KEY}"})
    assert token is not None
    try:
        assert current_secrets(settings) == [*configured, CALLER_KEY]
        assert redactor().scrub(f"sent {CALLER_KEY}") == f"sent {REDACTED}"
    finally:
        forwarded_key.reset(token)
    assert current_secrets(settings) == configured
    assert redactor().scrub(f"sent {CALLER_KEY}") == f"sent {CALLER_KEY}"


def test_a_call_without_a_bearer_in_forward_mode_adds_no_secret() -> None:
    settings = make_settings(mcp_forward_key=True)
    token = bind_forwarded_key(settings, {"authorization": "Basic dXNlcjpwYXNz"})
    assert token is not None  # bound to None: a key from an earlier call cannot leak into this one
    try:
        assert forwarded_key.get() is None
        assert current_secrets(settings) == settings.secrets()
    finally:
        forwarded_key.reset(token)
