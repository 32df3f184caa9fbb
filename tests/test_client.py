"""RuntypeClient against a fake at the transport: requests sent, retries, and status mapping."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from runtype_mcp.client import RuntypeClient
from runtype_mcp.errors import (
    ArgumentError,
    AuthError,
    BadRequest,
    ConfigError,
    Conflict,
    NotFound,
    RateLimited,
    ServerError,
    TransportFailure,
)
from tests.conftest import make_settings
from tests.fakes import API_KEY, FakeRuntype

pytestmark = pytest.mark.anyio


def make_client(fake: FakeRuntype, **kw: Any) -> RuntypeClient:
    settings = make_settings(**kw)
    return RuntypeClient(RuntypeClient.build_http(settings, fake.transport()), settings, backoff=0)


async def test_requests_carry_bearer_key_user_agent_and_v1_prefix(fake: FakeRuntype) -> None:
    await make_client(fake).list_records(type="customer")
    (req,) = fake.requests
    assert req.headers["authorization"] == f"Bearer {API_KEY}"
    assert req.headers["user-agent"].startswith("runtype-mcp/")
    assert req.url.path == "/v1/records"


async def test_query_values_are_strings_and_none_is_dropped(fake: FakeRuntype) -> None:
    await make_client(fake).list_records(type="customer", includeCount=True, limit=5, cursor=None, name=None)
    params = fake.requests[0].url.params
    assert params["includeCount"] == "true"
    assert params["limit"] == "5"
    assert "cursor" not in params and "name" not in params


async def test_ids_are_escaped_as_one_path_segment(fake: FakeRuntype) -> None:
    with pytest.raises(NotFound):
        await make_client(fake).get_record("rec ?#%x")
    assert fake.requests[0].url.raw_path == b"/v1/records/rec%20%3F%23%25x"


@pytest.mark.parametrize("bad", ["", "  ", "a/b", "..", "x\x00y", "x\ny"])
async def test_impossible_ids_are_rejected_before_any_request(fake: FakeRuntype, bad: str) -> None:
    with pytest.raises(ArgumentError) as info:
        await make_client(fake).get_record(bad)
    assert info.value.details[0].path == "record_id"
    assert fake.requests == []


async def test_missing_key_sends_nothing_and_says_how_to_set_it(fake: FakeRuntype) -> None:
    client = make_client(fake, api_key=None)
    with pytest.raises(ConfigError, match=r"RUNTYPE_API_KEY.*--sandbox"):
        await client.list_records()
    assert fake.requests == []


async def test_get_is_retried_on_503_then_succeeds(fake: FakeRuntype) -> None:
    fake.add_record("customer", "acme")
    fake.fail("GET", "/records", 503, times=2)
    page = await make_client(fake).list_records()
    assert len(page.data) == 1
    assert len(fake.requests) == 3


async def test_get_gives_up_after_the_attempt_budget(fake: FakeRuntype) -> None:
    fake.fail("GET", "/records", 502, times=10)
    with pytest.raises(ServerError) as info:
        await make_client(fake, retry_attempts=3).list_records()
    assert info.value.request.attempts == 3
    assert len(fake.requests) == 3


async def test_429_with_short_retry_after_is_retried(fake: FakeRuntype) -> None:
    fake.fail("GET", "/records", 429, headers={"Retry-After": "0"})
    await make_client(fake).list_records()
    assert len(fake.requests) == 2


async def test_429_with_retry_after_beyond_the_budget_is_not_waited_for(fake: FakeRuntype) -> None:
    fake.fail(
        "GET",
        "/records",
        429,
        headers={"Retry-After": "3600"},
        body={"error": "slow", "code": "SLOW_MODE_HOURLY_LIMIT_EXCEEDED"},
    )
    with pytest.raises(RateLimited) as info:
        await make_client(fake).list_records()
    assert info.value.retry_after == 3600
    assert info.value.code == "SLOW_MODE_HOURLY_LIMIT_EXCEEDED"
    assert len(fake.requests) == 1


async def test_429_retry_after_as_http_date_is_understood(fake: FakeRuntype) -> None:
    fake.fail("GET", "/records", 429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
    with pytest.raises(RateLimited) as info:
        await make_client(fake).list_records()
    assert info.value.retry_after is not None and info.value.retry_after > 1e6


async def test_post_is_never_retried_on_server_error(fake: FakeRuntype) -> None:
    fake.fail("POST", "/records", 500, times=5)
    with pytest.raises(ServerError):
        await make_client(fake).create_record({"name": "a", "type": "t"})
    assert len(fake.sent("POST", "/v1/records")) == 1


async def test_put_is_retried_on_connection_error(fake: FakeRuntype) -> None:
    rec = fake.add_record("t", "a")
    fake.fail("PUT", "/records/.*", exc=httpx2.ConnectError)
    updated = await make_client(fake).update_record(rec["id"], {"name": "b"})
    assert updated.name == "b"
    assert len(fake.sent("PUT", "/v1/records/.*")) == 2


async def test_timeouts_become_transport_failures(fake: FakeRuntype) -> None:
    fake.fail("GET", "/records", exc=httpx2.ReadTimeout, times=10)
    with pytest.raises(TransportFailure) as info:
        await make_client(fake).list_records()
    assert info.value.timeout


@pytest.mark.parametrize(
    ("status", "exc"),
    [(400, BadRequest), (401, AuthError), (403, AuthError), (404, NotFound), (409, Conflict)],
)
async def test_status_codes_map_to_one_exception_each(
    fake: FakeRuntype, status: int, exc: type[Exception]
) -> None:
    fake.fail("GET", "/records", status)
    with pytest.raises(exc):
        await make_client(fake).list_records()
    assert len(fake.requests) == 1, "4xx other than 429 are final"


async def test_non_json_error_body_is_kept_as_bounded_text(fake: FakeRuntype) -> None:
    fake.fail("GET", "/records", 400, body="<html>" + "x" * 5000 + "</html>")
    with pytest.raises(BadRequest) as info:
        await make_client(fake).list_records()
    assert info.value.error is not None and len(info.value.error) <= 300


async def test_paginate_follows_next_cursor_until_exhausted(fake: FakeRuntype) -> None:
    for i in range(7):
        fake.add_record("t", f"r{i}")
    client = make_client(fake)
    names = [row["name"] async for row in client.paginate("/records", {"limit": 3}, max_items=100)]
    assert names == [f"r{i}" for i in range(7)]
    assert len(fake.requests) == 3
