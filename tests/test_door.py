"""The door: whatever a request answers or raises leaves the server without a secret in it."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR
from pydantic import BaseModel, Field, ValidationError

from runtype_mcp.client.keys import forwarded_key
from runtype_mcp.door import ScrubMiddleware
from runtype_mcp.scrub import REDACTED
from tests.conftest import make_settings
from tests.fakes import API_KEY

pytestmark = pytest.mark.anyio

CALLER = "rt_live_callers_own_key_0123456789"


def ctx(headers: dict[str, str] | None = None) -> Any:
    return SimpleNamespace(request=SimpleNamespace(headers=headers) if headers is not None else None)


async def through(door: ScrubMiddleware, context: Any, outcome: Any) -> Any:
    async def call_next(_: Any) -> Any:
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return await door(context, call_next)


async def test_a_result_is_scrubbed_of_the_configured_key_and_the_callers_bearer() -> None:
    door = ScrubMiddleware(make_settings())
    out = await through(door, ctx({"authorization": f"Bearer {CALLER}"}), {"text": f"{API_KEY} / {CALLER}"})
    assert out == {"text": f"{REDACTED} / {REDACTED}"}


async def test_a_model_result_goes_out_as_its_wire_dict_scrubbed() -> None:
    class Result(BaseModel):
        text: str
        note: str | None = None
        is_error: bool = Field(default=False, serialization_alias="isError")
        at: datetime = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

    out = await through(ScrubMiddleware(make_settings()), ctx(), Result(text=f"key {API_KEY}"))
    assert out == {"text": f"key {REDACTED}", "isError": False, "at": "2026-12-01T09:30:00Z"}


async def test_a_protocol_error_is_scrubbed_and_a_clean_one_passes_unchanged() -> None:
    door = ScrubMiddleware(make_settings())
    with pytest.raises(MCPError) as info:
        await through(door, ctx(), MCPError(code=-32602, message=f"bad {API_KEY}", data={"k": API_KEY}))
    assert (info.value.code, info.value.message, info.value.data) == (
        -32602,
        f"bad {REDACTED}",
        {"k": REDACTED},
    )
    clean = MCPError(code=-32602, message="bad", data={"k": "v"})
    with pytest.raises(MCPError) as info:
        await through(door, ctx(), clean)
    assert info.value is clean
    with pytest.raises(MCPError) as info:
        await through(door, ctx(), MCPError(code=-32602, message="bad", data={"k": API_KEY}))
    assert info.value.data == {"k": REDACTED}


async def test_an_unexpected_error_is_sent_as_an_internal_error_without_the_key() -> None:
    door = ScrubMiddleware(make_settings())
    with pytest.raises(MCPError) as info:
        await through(door, ctx(), RuntimeError(f"boom {API_KEY}"))
    assert (info.value.code, info.value.message) == (INTERNAL_ERROR, f"boom {REDACTED}")
    plain = RuntimeError("boom")
    with pytest.raises(RuntimeError) as caught:
        await through(door, ctx(), plain)
    assert caught.value is plain


async def test_invalid_parameters_pass_as_they_are() -> None:
    class Model(BaseModel):
        n: int

    try:
        Model.model_validate({"n": "x"})
    except ValidationError as exc:
        error = exc
    with pytest.raises(ValidationError) as caught:
        await through(ScrubMiddleware(make_settings()), ctx(), error)
    assert caught.value is error


async def test_the_forwarded_key_is_bound_for_the_request_and_released_after() -> None:
    door = ScrubMiddleware(make_settings(mcp_forward_key=True, api_key=None))
    seen: list[str | None] = []

    async def call_next(_: Any) -> Any:
        seen.append(forwarded_key.get())
        return {"text": f"echo {CALLER}"}

    out = await door(ctx({"authorization": f"Bearer {CALLER}"}), call_next)
    assert seen == [CALLER] and out == {"text": f"echo {REDACTED}"}
    assert forwarded_key.get() is None
    with pytest.raises(MCPError):
        await through(door, ctx({"authorization": f"Bearer {CALLER}"}), RuntimeError(CALLER))
    assert forwarded_key.get() is None
