"""The client core, request by request: what is sent, what is retried, and what a failure says.

Each test answers one HTTP exchange with a handler and checks what reaches the wire or the model.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest

from runtype_mcp.client.core import BaseClient, CallStats, Response, call_stats, expect_object
from runtype_mcp.client.keys import MISSING_FORWARDED_KEY, bind_forwarded_key, forwarded_key
from runtype_mcp.errors import (
    APIError,
    ArgumentError,
    AuthError,
    BadResponse,
    ConfigError,
    NotFound,
    RateLimited,
    RequestInfo,
    ResponseTooLarge,
    ServerError,
    TransportFailure,
    render,
)
from tests.conftest import make_settings
from tests.fakes import API_KEY

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx2.Request], httpx2.Response]


class Wire:
    """A transport that records each request and answers with `answers` in turn (the last repeats)."""

    def __init__(self, *answers: httpx2.Response | Exception) -> None:
        self.answers = list(answers) or [httpx2.Response(200, json={})]
        self.requests: list[httpx2.Request] = []

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def client(self, **settings: Any) -> BaseClient:
        s = make_settings(**settings)
        return BaseClient(BaseClient.build_http(s, httpx2.MockTransport(self.handle)), s, backoff=0)


def ok(body: Any = None, status: int = 200, **kw: Any) -> httpx2.Response:
    return httpx2.Response(status, json=body if body is not None else {}, **kw)


# ---------------------------------------------------------------- what is sent


async def test_query_values_are_sent_as_text_with_false_as_false() -> None:
    wire = Wire()
    params = {"a": False, "b": True, "n": 3, "none": None, "f": {"x": [1, "y"]}, "l": [1, 2]}
    await wire.client().request("GET", "/records", params=params)
    assert dict(wire.requests[0].url.params) == {
        "a": "false",
        "b": "true",
        "n": "3",
        "f": '{"x":[1,"y"]}',
        "l": "[1,2]",
    }


async def test_requests_go_to_v1_with_the_key_and_no_cookies_or_redirects() -> None:
    wire = Wire(
        ok(headers={"set-cookie": "session=abc; Path=/"}),
        httpx2.Response(302, headers={"location": "https://elsewhere.test/"}),
    )
    client = wire.client()
    await client.request("GET", "/records")
    with pytest.raises(APIError) as info:
        await client.request("GET", "/records")
    assert info.value.status == 302 and type(info.value) is APIError
    first, second = wire.requests
    assert str(first.url) == "https://api.runtype.test/v1/records"
    assert first.headers["authorization"] == f"Bearer {API_KEY}"
    assert first.headers["accept"] == "application/json"
    assert "cookie" not in second.headers
    assert len(wire.requests) == 2, "a redirect is not followed"


async def test_without_a_key_the_sandbox_sends_no_authorization() -> None:
    wire = Wire()
    await wire.client(api_key=None, sandbox=True).request("GET", "/records")
    assert "authorization" not in wire.requests[0].headers


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("a\tb", "must not contain control characters"),
        ("a\x7fb", "must not contain control characters"),
        ("a/b", "must not contain slashes"),
        ("a\\b", "must not contain slashes"),
        (".", "is not a valid id"),
        ("..", "is not a valid id"),
        ("x" * 513, "is too long to be an id (over 512 characters)"),
    ],
)
async def test_impossible_ids_are_refused_with_the_reason(value: str, problem: str) -> None:
    from runtype_mcp.client import RuntypeClient

    wire = Wire()
    s = make_settings()
    client = RuntypeClient(BaseClient.build_http(s, httpx2.MockTransport(wire.handle)), s, backoff=0)
    with pytest.raises(ArgumentError) as info:
        await client.get_record(value)
    assert render(info.value, "get_record") == (
        "get_record: invalid arguments (nothing was sent to Runtype).\n"
        f"- record_id: {problem} → pass the record_id exactly as a list_ or get_ tool returned it\n"
        "Fix these arguments and call get_record again."
    )
    assert wire.requests == []


async def test_an_id_of_512_characters_and_dots_inside_are_sent() -> None:
    from runtype_mcp.client import RuntypeClient

    wire = Wire(ok({"id": "x", "type": "t", "name": "n"}))
    s = make_settings()
    client = RuntypeClient(BaseClient.build_http(s, httpx2.MockTransport(wire.handle)), s, backoff=0)
    for ident in ["x" * 512, "a..b", "...", ".a"]:
        with contextlib.suppress(BadResponse):
            await client.get_record(ident)
    assert [r.url.path.removeprefix("/v1/records/") for r in wire.requests] == [
        "x" * 512,
        "a..b",
        "...",
        ".a",
    ]


# ---------------------------------------------------------------- scopes named by a 403


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/flows/f1/export-runtime", "RUNTIME:EXPORT"),
        ("POST", "/dispatch", "FLOWS:EXECUTE"),
        ("POST", "/batches", "FLOWS:EXECUTE"),
        ("GET", "/executions/e1", "FLOWS:EXECUTE"),
        ("POST", "/flows/f1/run-on-record-type", "FLOWS:EXECUTE"),
        ("GET", "/records", "RECORDS:READ"),
        ("POST", "/records/bulk-delete", "RECORDS:WRITE"),
        ("GET", "/flows", "FLOWS:READ"),
        ("DELETE", "/flows/f1", "FLOWS:WRITE"),
        ("GET", "/flow-versions/v1", "FLOWS:READ"),
        ("POST", "/flow-versions", "FLOWS:WRITE"),
    ],
)
async def test_a_403_names_the_scope_of_the_route(method: str, path: str, scope: str) -> None:
    wire = Wire(httpx2.Response(403, json={"error": "Forbidden"}))
    with pytest.raises(AuthError) as info:
        await wire.client().request(method, path)
    assert f"It needs the {scope} scope." in render(info.value, "t")


async def test_a_403_on_another_route_names_no_scope() -> None:
    wire = Wire(httpx2.Response(403, json={}))
    with pytest.raises(AuthError) as info:
        await wire.client().request("GET", "/me")
    assert "It needs the needed scope." in render(info.value, "t")


# ---------------------------------------------------------------- retries


async def test_each_retryable_status_is_retried_and_others_are_final() -> None:
    for status in (408, 500, 502, 503, 504):
        wire = Wire(httpx2.Response(status), ok())
        await wire.client().request("GET", "/records")
        assert len(wire.requests) == 2, status
    for status in (400, 404, 501, 505):
        wire = Wire(httpx2.Response(status), ok())
        with pytest.raises(APIError):
            await wire.client().request("GET", "/records")
        assert len(wire.requests) == 1, status


async def test_a_post_is_retried_only_when_marked_safe_and_a_get_not_when_marked_unsafe() -> None:
    wire = Wire(httpx2.Response(503), ok())
    await wire.client().request("POST", "/records/search", retry=True)
    assert len(wire.requests) == 2
    wire = Wire(httpx2.Response(503), ok())
    with pytest.raises(ServerError) as info:
        await wire.client().request("GET", "/records", retry=False)
    assert len(wire.requests) == 1 and info.value.request.attempts == 1


async def test_a_429_without_retry_after_is_retried() -> None:
    wire = Wire(httpx2.Response(429), ok())
    await wire.client().request("GET", "/records")
    assert len(wire.requests) == 2


async def test_connection_failures_are_retried_and_then_reported_without_secrets() -> None:
    wire = Wire(httpx2.ConnectError(f"refused for {API_KEY}"))
    with pytest.raises(TransportFailure) as info:
        await wire.client(retry_attempts=2).request("GET", "/records")
    assert len(wire.requests) == 2 and info.value.request.attempts == 2
    assert info.value.timeout is False
    assert info.value.reason == "ConnectError: refused for [REDACTED]"


async def test_a_timeout_is_reported_as_a_timeout() -> None:
    wire = Wire(httpx2.ReadTimeout("slow"))
    with pytest.raises(TransportFailure) as info:
        await wire.client(retry_attempts=1).request("GET", "/records")
    assert info.value.timeout is True and info.value.reason == "ReadTimeout"


def rate_limited(retry_after: float | None) -> RateLimited:
    exc = RateLimited.__new__(RateLimited)
    exc.retry_after = retry_after
    return exc


def test_a_429_wait_counts_against_the_total_retry_budget() -> None:
    client = Wire().client(max_retry_wait=10.0)
    now = time.monotonic()
    assert client.retry_wait(rate_limited(4.0), now) == 4.0
    assert client.retry_wait(rate_limited(None), now) is True
    # 7 s of the 10 s budget already spent: a 4 s wait no longer fits, a 2 s one does.
    assert client.retry_wait(rate_limited(4.0), now - 7) is False
    assert client.retry_wait(rate_limited(2.0), now - 7) == 2.0
    assert client.retry_wait(TransportFailure(RequestInfo("GET", "/r"), "x", timeout=True), now) is True
    assert client.retry_wait(ValueError("x"), now) is False


def test_only_retryable_statuses_are_tried_again() -> None:
    client = Wire().client()

    def status(code: int) -> APIError:
        return APIError(RequestInfo("GET", "/r"), _fields(code))

    assert [
        code for code in (400, 404, 408, 500, 501, 502, 503, 504) if client.retry_wait(status(code), 0)
    ] == [
        408,
        500,
        502,
        503,
        504,
    ]


def _fields(status: int) -> Any:
    from runtype_mcp.errors import _APIFields

    return _APIFields(status=status)


# ---------------------------------------------------------------- counters


async def test_a_tool_call_counts_its_requests_attempts_and_last_status() -> None:
    stats = CallStats()
    token = call_stats.set(stats)
    try:
        wire = Wire(httpx2.Response(503), ok(status=201))
        client = wire.client()
        await client.request("GET", "/records")
        await client.request("POST", "/records")
    finally:
        call_stats.reset(token)
    assert (stats.requests, stats.attempts, stats.last_status) == (2, 3, 201)


# ---------------------------------------------------------------- forward-key mode


async def test_forward_key_mode_sends_the_callers_key_and_refuses_without_one() -> None:
    wire = Wire()
    client = wire.client(mcp_forward_key=True, api_key="rt_configured_key_123")
    with pytest.raises(ConfigError) as info:
        await client.request("GET", "/records")
    assert str(info.value) == MISSING_FORWARDED_KEY and wire.requests == []
    token = forwarded_key.set("rt_callers_key_456")
    try:
        await client.request("GET", "/records", headers={"x-extra": "1"})
    finally:
        forwarded_key.reset(token)
    assert wire.requests[0].headers["authorization"] == "Bearer rt_callers_key_456"
    assert wire.requests[0].headers["x-extra"] == "1"


@pytest.mark.parametrize(
    "auth", ["Basic dXNlcjpwYXNz", "Token rt_x", "Bearer", "Bearer   ", "rt_live_no_scheme", ""]
)
async def test_a_non_bearer_authorization_is_not_forwarded_as_a_key(auth: str) -> None:
    settings = make_settings(mcp_forward_key=True)
    token = bind_forwarded_key(settings, {"authorization": auth})
    try:
        assert forwarded_key.get() is None
    finally:
        if token is not None:
            forwarded_key.reset(token)


async def test_a_bearer_in_any_case_is_forwarded_trimmed() -> None:
    settings = make_settings(mcp_forward_key=True)
    for header in ({"authorization": "bearer  rt_k1 "}, {"Authorization": "BEARER rt_k1"}):
        token = bind_forwarded_key(settings, header)
        try:
            assert forwarded_key.get() == "rt_k1"
        finally:
            assert token is not None
            forwarded_key.reset(token)
    assert bind_forwarded_key(make_settings(), {"authorization": "Bearer rt_k1"}) is None
    assert bind_forwarded_key(settings, None) is None


# ---------------------------------------------------------------- response size cap


@pytest.mark.parametrize(
    ("method", "retry", "reads"),
    [
        ("GET", None, True),
        ("HEAD", None, True),
        ("POST", True, True),
        ("POST", None, False),
        ("PUT", None, False),
    ],
)
async def test_a_too_large_answer_is_not_read_and_says_whether_the_call_only_read(
    method: str, retry: bool | None, reads: bool
) -> None:
    wire = Wire(httpx2.Response(200, content=b"x" * 2048))
    with pytest.raises(ResponseTooLarge) as info:
        await wire.client(max_response_bytes=1024).request(method, "/records", retry=retry)
    assert info.value.safe is reads and info.value.what == f"{method} /records"
    assert info.value.got == "a body over 1024 bytes"


async def test_a_body_of_exactly_the_cap_is_read() -> None:
    body = json.dumps({"k": "x" * 1015}).encode()
    assert len(body) == 1024
    wire = Wire(httpx2.Response(200, content=body, headers={"content-type": "application/json"}))
    resp = await wire.client(max_response_bytes=1024).request("GET", "/records")
    assert resp.body == {"k": "x" * 1015}


async def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    wire = Wire(httpx2.Response(200, content=b"{}", headers={"content-length": "5000"}))
    with pytest.raises(ResponseTooLarge):
        await wire.client(max_response_bytes=1024).request("GET", "/records")


async def test_a_too_large_error_keeps_its_status() -> None:
    wire = Wire(httpx2.Response(404, content=b"x" * 4096))
    with pytest.raises(NotFound) as info:
        await wire.client(max_response_bytes=1024).request("GET", "/records")
    assert info.value.error is None


# ---------------------------------------------------------------- parsing the body


@pytest.mark.parametrize(
    ("content", "ctype", "body"),
    [
        (b"", "application/json", None),
        (b"  \n", "", None),
        (b'{"a": 1}', "application/json", {"a": 1}),
        (b'  {"a": 1}', "text/plain", {"a": 1}),
        (b"[1]", "", [1]),
        (b"plain words", "text/plain", "plain words"),
        (b"[1", "application/json", "[1"),
        (b'"s"', "application/json", "s"),
        (b"caf\xc3\xa9 \xff", "text/plain", "café \ufffd"),
        (b"[" * 100_000, "", "[" * 100_000),
    ],
)
async def test_bodies_are_parsed_as_json_when_they_are_json(content: bytes, ctype: str, body: Any) -> None:
    wire = Wire(httpx2.Response(200, content=content, headers={"content-type": ctype}))
    resp = await wire.client().request("GET", "/records")
    assert resp.body == body and resp.status == 200 and resp.safe is True


async def test_a_write_response_is_marked_not_safe_to_repeat() -> None:
    resp = await Wire(ok(status=201)).client().request("POST", "/records")
    assert resp.safe is False and resp.status == 201


@pytest.mark.parametrize(("body", "got"), [(None, "an empty body"), ("oops", "text"), ([1], "a JSON array")])
def test_a_body_that_is_not_an_object_is_a_bad_response(body: Any, got: str) -> None:
    resp = Response(200, body, httpx2.Headers(), safe=False)
    with pytest.raises(BadResponse) as info:
        expect_object(resp, "GET /records")
    assert (info.value.what, info.value.status, info.value.got, info.value.safe) == (
        "GET /records",
        200,
        got,
        False,
    )
    assert expect_object(Response(200, {"a": 1}, httpx2.Headers()), "x") == {"a": 1}


# ---------------------------------------------------------------- pagination


def page(rows: list[Any], cursor: str | None = None, has_more: bool | None = None) -> httpx2.Response:
    pagination: dict[str, Any] = {"nextCursor": cursor}
    if has_more is not None:
        pagination["hasMore"] = has_more
    return ok({"data": rows, "pagination": pagination})


async def test_pages_are_followed_by_cursor_and_stop_at_max_items() -> None:
    wire = Wire(page([{"n": 1}, "junk", {"n": 2}], "c2"), page([{"n": 3}, {"n": 4}], "c3"), page([{"n": 5}]))
    rows = [r["n"] async for r in wire.client().paginate("/records", {"type": "t"}, max_items=3)]
    assert rows == [1, 2, 3]
    assert [dict(r.url.params) for r in wire.requests] == [{"type": "t"}, {"type": "t", "cursor": "c2"}]


async def test_paging_stops_when_there_is_no_cursor_or_no_more() -> None:
    wire = Wire(page([{"n": 1}], "c2", has_more=False), page([{"n": 2}]))
    assert [r["n"] async for r in wire.client().paginate("/records", {}, max_items=10)] == [1]
    wire = Wire(page([{"n": 1}], "c2"), page([{"n": 2}], None), page([{"n": 3}]))
    assert [r["n"] async for r in wire.client().paginate("/records", {}, max_items=10)] == [1, 2]
    wire = Wire(ok(["not", "an", "object"]))
    assert [r async for r in wire.client().paginate("/records", {}, max_items=10)] == []
    wire = Wire(ok({"data": None, "pagination": "x"}))
    assert [r async for r in wire.client().paginate("/records", {}, max_items=10)] == []
    assert len(wire.requests) == 1


async def test_a_page_that_fails_once_is_asked_for_again() -> None:
    wire = Wire(httpx2.Response(503), page([{"n": 1}]))
    assert [r["n"] async for r in wire.client().paginate("/records", {}, max_items=10)] == [1]
    assert len(wire.requests) == 2


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_a_streamed_body_is_joined_whole_and_capped_on_its_total_size() -> None:
    chunks = [b'{"a": "', b"x" * 500, b'", "b": 1}']
    wire = Wire(httpx2.Response(200, content=stream(*chunks), headers={"content-type": "application/json"}))
    resp = await wire.client(max_response_bytes=1024).request("GET", "/records")
    assert resp.body == {"a": "x" * 500, "b": 1}
    wire = Wire(httpx2.Response(200, content=stream(b"x" * 600, b"x" * 600)))
    with pytest.raises(ResponseTooLarge):
        await wire.client(max_response_bytes=1024).request("GET", "/records")


def test_a_bad_body_from_a_read_says_it_is_safe_to_repeat() -> None:
    with pytest.raises(BadResponse) as info:
        expect_object(Response(200, "text", httpx2.Headers(), safe=True), "GET /records")
    assert info.value.safe is True


# ---------------------------------------------------------------- the request log


def logged(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    keep = ("event", "level", "method", "path", "status", "outcome", "attempt", "bytes")
    return [{k: e[k] for k in keep if k in e} for e in lines if e.get("event") == "runtype.request"]


async def test_each_attempt_logs_one_request_line(log_stream: io.StringIO) -> None:
    wire = Wire(httpx2.ReadTimeout("slow"), httpx2.ConnectError("refused"), ok({"a": 1}))
    await wire.client().request("GET", "/records")
    (last,) = [json.loads(x) for x in log_stream.getvalue().splitlines() if '"status": 200' in x]
    assert isinstance(last["duration_ms"], float) and 0 < last["duration_ms"] < 10_000
    assert logged(log_stream) == [
        {
            "event": "runtype.request",
            "level": "warning",
            "method": "GET",
            "path": "/records",
            "outcome": "timeout",
            "attempt": 1,
        },
        {
            "event": "runtype.request",
            "level": "warning",
            "method": "GET",
            "path": "/records",
            "outcome": "error",
            "attempt": 2,
        },
        {
            "event": "runtype.request",
            "level": "debug",
            "method": "GET",
            "path": "/records",
            "status": 200,
            "attempt": 3,
            "bytes": 7,
        },
    ]


async def test_a_multipart_upload_sends_its_files_and_fields() -> None:
    wire = Wire()
    await wire.client().request(
        "POST", "/records/upload", files={"file": ("a.csv", b"name\nx\n", "text/csv")}, data={"type": "t"}
    )
    body = wire.requests[0].content
    assert b'name="file"; filename="a.csv"' in body and b"name\nx\n" in body
    assert b'name="type"' in body


async def test_reading_stops_at_the_cap_instead_of_reading_the_whole_body() -> None:
    pulled = 0

    async def huge() -> AsyncIterator[bytes]:  # 10 MB if read to the end
        nonlocal pulled
        for _ in range(20_000):
            pulled += 1
            yield b"x" * 512

    wire = Wire(httpx2.Response(200, content=huge()))
    with pytest.raises(ResponseTooLarge):
        await wire.client(max_response_bytes=4096).request("GET", "/records")
    assert pulled <= 9, "the body was read past the 4 KB cap"


async def test_every_part_of_a_request_is_sent_whether_or_not_it_may_be_retried() -> None:
    for retry in (None, True):
        wire = Wire()
        await wire.client().request(
            "POST",
            "/records/import",
            params={"dry": False},
            files={"file": ("a.csv", b"x", "text/csv")},
            data={"type": "t"},
            headers={"x-extra": "1"},
            retry=retry,
        )
        (sent,) = wire.requests
        assert dict(sent.url.params) == {"dry": "false"} and sent.headers["x-extra"] == "1"
        assert b'filename="a.csv"' in sent.content and b'name="type"' in sent.content


def test_the_configured_timeout_applies_to_every_request() -> None:
    http = BaseClient.build_http(make_settings(timeout=7.5))
    assert (http.timeout.connect, http.timeout.read, http.timeout.write) == (7.5, 7.5, 7.5)


@pytest.mark.parametrize(("backoff", "wait_max"), [(0.5, 5.0), (8.0, 8.0), (0.0, 0.0)])
def test_the_retry_schedule_follows_the_settings(
    monkeypatch: pytest.MonkeyPatch, backoff: float, wait_max: float
) -> None:
    import stamina

    seen: dict[str, Any] = {}

    def recorder(**kwargs: Any) -> Any:
        seen.update(kwargs)
        return kwargs

    monkeypatch.setattr(stamina, "retry_context", recorder)
    s = make_settings(retry_attempts=4, max_retry_wait=12.0)
    client = BaseClient(BaseClient.build_http(s), s, backoff=backoff)
    client.attempts(bool)
    assert seen == {
        "on": bool,
        "attempts": 4,
        "timeout": 12.0,
        "wait_initial": backoff,
        "wait_max": wait_max,
        "wait_jitter": backoff,
    }


async def test_a_300_is_an_answer_to_report_not_a_result_whatever_its_size() -> None:
    wire = Wire(httpx2.Response(300, json={"error": "Pick one"}))
    with pytest.raises(APIError) as info:
        await wire.client().request("GET", "/records")
    assert (
        render(info.value, "t")
        == 't: Runtype answered 300. Runtype said: "Pick one". Check the arguments and try again.'
    )
    wire = Wire(httpx2.Response(300, content=b"x" * 2048))
    with pytest.raises(APIError) as info:
        await wire.client(max_response_bytes=1024).request("GET", "/records")
    assert info.value.status == 300 and not isinstance(info.value, ResponseTooLarge)


async def test_a_body_without_a_content_type_is_still_read_and_headers_are_kept() -> None:
    wire = Wire(httpx2.Response(200, content=b'{"a": 1}', headers={"x-request-id": "req_1"}))
    resp = await wire.client().request("GET", "/records")
    assert resp.body == {"a": 1} and resp.headers["x-request-id"] == "req_1"
    wire = Wire(httpx2.Response(200, content=b"x" * 2048))
    with pytest.raises(ResponseTooLarge) as info:
        await wire.client(max_response_bytes=1024).request("GET", "/records")
    assert info.value.status == 200
