"""The sandbox's request guards, request by request: what a client (or a hostile page) gets back.

`JsonBodyGuard` answers 415 to a body that is not JSON; `HostGuard` (`sandbox serve`) answers 421
to a foreign Host and 403 to a foreign Origin. Each refusal is checked as the client sees it (status,
the whole JSON error body) and each pass as "the sandbox itself answered". The app is called
directly over ASGI, so headers can be exactly what a browser or an attacker would send.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from runtype_mcp.sandbox.guard import HostGuard, JsonBodyGuard

pytestmark = pytest.mark.anyio

HOST_REFUSAL = {
    "error": "Unknown Host: the sandbox answers only to its own host names (loopback, or "
    "RUNTYPE_MCP_ALLOWED_HOSTS)",
    "code": "INVALID_HOST",
}
ORIGIN_REFUSAL = {"error": "Cross-origin requests are not accepted by the sandbox", "code": "INVALID_ORIGIN"}


def media_refusal(sent: str) -> dict[str, str]:
    return {
        "error": f"Unsupported content type {sent!r}: send the body as JSON with Content-Type: application/json",
        "code": "UNSUPPORTED_MEDIA_TYPE",
    }


class Inner:
    """The sandbox behind the guard: reads the request through `receive` and answers 200 "served"
    through `send` (so a guard that passed on anything but the real channels fails); counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        message = await receive()
        if scope["type"] != "http":
            await send({"type": f"{message['type']}.complete"})
            return
        assert message["type"] == "http.request"
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"served"})


async def call(
    app: Any, method: str = "POST", path: str = "/v1/records", headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 8787),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    if body == b"served":
        return status, "served"
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert (b"content-type", b"application/json") in start["headers"]
    return status, json.loads(body)


# --- JsonBodyGuard: 415 unless the body is JSON ---------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "  application/json  ",
        "application/merge-patch+json",
        "application/vnd.api+json;charset=utf-8",
    ],
)
async def test_a_json_body_reaches_the_sandbox(content_type: str) -> None:
    inner = Inner()
    headers = {"content-type": content_type, "content-length": "2"}
    assert await call(JsonBodyGuard(inner), headers=headers) == (200, "served")
    assert inner.calls == 1


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        ("text/plain", "text/plain"),
        ("text/plain;charset=UTF-8", "text/plain"),
        ("  text/plain ; charset=UTF-8", "text/plain"),
        ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
        ("multipart/form-data; boundary=x", "multipart/form-data"),
        ("text/json", "text/json"),  # +json only under application/
        ("text/x+json", "text/x+json"),
        ("application/jsonp", "application/jsonp"),
        ("application/json-seq", "application/json-seq"),
        ("xapplication/json", "xapplication/json"),
        ("", "no content type"),  # an empty Content-Type header reads as none
        ("a" * 100, "a" * 80),  # what the refusal repeats is bounded
    ],
)
async def test_a_body_that_is_not_json_is_refused_with_415_naming_its_type(
    content_type: str, shown: str
) -> None:
    inner = Inner()
    status, body = await call(
        JsonBodyGuard(inner), headers={"content-type": content_type, "content-length": "5"}
    )
    assert (status, body) == (415, media_refusal(shown))
    assert inner.calls == 0


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_every_body_method_is_guarded(method: str) -> None:
    inner = Inner()
    status, body = await call(JsonBodyGuard(inner), method, headers={"content-type": "text/plain"})
    assert (status, body) == (415, media_refusal("text/plain"))
    assert inner.calls == 0


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
async def test_methods_without_a_body_are_not_guarded(method: str) -> None:
    inner = Inner()
    headers = {"content-type": "text/plain", "content-length": "5"}
    assert await call(JsonBodyGuard(inner), method, headers=headers) == (200, "served")


@pytest.mark.parametrize(
    "headers",
    [
        {"content-length": "12"},
        {"content-length": " 7 "},
        {"content-length": "00"},  # not the literal "0": counted as a body
        {"transfer-encoding": "chunked"},
    ],
)
async def test_a_body_without_a_content_type_is_refused(headers: dict[str, str]) -> None:
    inner = Inner()
    status, body = await call(JsonBodyGuard(inner), headers=headers)
    assert (status, body) == (415, media_refusal("no content type"))
    assert inner.calls == 0


@pytest.mark.parametrize(
    "headers", [{}, {"content-length": "0"}, {"content-length": ""}, {"content-length": " 0 "}]
)
async def test_a_post_without_body_or_type_reaches_the_sandbox(headers: dict[str, str]) -> None:
    inner = Inner()
    assert await call(JsonBodyGuard(inner), headers=headers) == (200, "served")


async def test_only_the_csv_upload_takes_multipart() -> None:
    inner = Inner()
    headers = {"content-type": "multipart/form-data; boundary=x", "content-length": "9"}
    assert await call(JsonBodyGuard(inner), path="/v1/records/upload-csv", headers=headers) == (200, "served")
    status, _ = await call(JsonBodyGuard(inner), path="/v1/records/upload-csv/", headers=headers)
    assert status == 415
    status, _ = await call(JsonBodyGuard(inner), path="/v1/records", headers=headers)
    assert status == 415


def _collector(sent: list[dict[str, Any]]) -> Any:
    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    return send


async def test_non_http_scopes_pass_both_guards_with_their_channels() -> None:
    for guard in (JsonBodyGuard, lambda app: HostGuard(app, bind_host="127.0.0.1")):
        inner = Inner()
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "lifespan.startup"}

        await guard(inner)({"type": "lifespan"}, receive, _collector(sent))
        assert inner.calls == 1
        assert sent == [{"type": "lifespan.startup.complete"}]


async def test_parameters_after_the_first_do_not_hide_the_media_type() -> None:
    inner = Inner()
    headers = {"content-type": "application/json; charset=utf-8; x=y", "content-length": "2"}
    assert await call(JsonBodyGuard(inner), headers=headers) == (200, "served")
    headers = {"content-type": "text/plain; a=1; b=2", "content-length": "2"}
    assert await call(JsonBodyGuard(inner), headers=headers) == (415, media_refusal("text/plain"))


# --- HostGuard: 421 for a foreign Host, 403 for a foreign Origin ---------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.0.0.1:8787",
        "localhost",
        "LOCALHOST:1",
        " localhost ",
        "[::1]",
        "[::1]:8787",
    ],
)
async def test_loopback_host_names_are_served(host: str) -> None:
    inner = Inner()
    guard = HostGuard(inner, bind_host="127.0.0.1")
    assert await call(guard, "GET", headers={"host": host}) == (200, "served")
    assert inner.calls == 1


@pytest.mark.parametrize(
    "host",
    [
        "",
        "evil.example",
        "evil.example:8787",
        "localhost.evil.example",
        "localhost:",
        "localhost:80a",
        "localhost:-1",
        "localhost:8787:1",
        ":8787",
        "[::1",
        "[::1]x",
        "[::1]:",
        "[::1]:x",
        "[]",
        "[]:80",
        "::1",
        "0.0.0.0",
    ],
)
async def test_foreign_or_malformed_hosts_get_421(host: str) -> None:
    inner = Inner()
    guard = HostGuard(inner, bind_host="127.0.0.1")
    assert await call(guard, "GET", headers={"host": host}) == (421, HOST_REFUSAL)
    assert inner.calls == 0


async def test_a_request_without_host_gets_421() -> None:
    inner = Inner()
    assert await call(HostGuard(inner, bind_host="127.0.0.1"), "GET") == (421, HOST_REFUSAL)


@pytest.mark.parametrize(
    ("allowed", "host", "served"),
    [
        (["sandbox.lan"], "sandbox.lan", True),
        (["sandbox.lan"], "SANDBOX.LAN:9000", True),
        ([" Sandbox.LAN "], "sandbox.lan", True),
        (["sandbox.lan:*"], "sandbox.lan:1", True),
        (["sandbox.lan:8787"], "sandbox.lan", True),  # an allowed entry with a port names the host
        (["[fd00::1]:8787"], "[fd00::1]", True),
        (["[fd00::1]"], "[fd00::1]:1", True),
        (["", "  "], "", False),  # blank entries allow nothing, not the empty host
        (["sandbox.lan"], "other.lan", False),
        (["sandbox.lan:*"], "sandbox.lan:*", False),
    ],
)
async def test_allowed_hosts_extend_the_loopback_names(allowed: list[str], host: str, served: bool) -> None:
    inner = Inner()
    guard = HostGuard(inner, bind_host="127.0.0.1", allowed_hosts=allowed)
    expected = (200, "served") if served else (421, HOST_REFUSAL)
    assert await call(guard, "GET", headers={"host": host}) == expected
    # loopback names stay allowed whatever is added
    assert await call(guard, "GET", headers={"host": "localhost"}) == (200, "served")


@pytest.mark.parametrize(
    ("bind", "host", "served"),
    [
        ("192.168.1.5", "192.168.1.5:8787", True),
        ("Box.LAN", "box.lan", True),
        (" box.lan ", "box.lan", True),
        ("box.lan:8787", "box.lan", True),
        ("[fd00::2]", "[fd00::2]:80", True),
        ("0.0.0.0", "0.0.0.0", False),  # "every interface" is not a host name
        ("::", "[::]", False),
        ("", "", False),
        (" 0.0.0.0 ", "0.0.0.0", False),
    ],
)
async def test_the_bind_address_is_a_host_name_unless_it_means_every_interface(
    bind: str, host: str, served: bool
) -> None:
    guard = HostGuard(Inner(), bind_host=bind)
    expected = (200, "served") if served else (421, HOST_REFUSAL)
    assert await call(guard, "GET", headers={"host": host}) == expected


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:8787",
        "https://localhost",
        "http://127.0.0.1",
        "http://[::1]:8787",
        " http://LOCALHOST:3000 ",
        "http://sandbox.lan",
    ],
)
async def test_same_site_origins_are_served(origin: str) -> None:
    inner = Inner()
    guard = HostGuard(inner, bind_host="127.0.0.1", allowed_hosts=["sandbox.lan"])
    assert await call(guard, headers={"host": "localhost", "origin": origin}) == (200, "served")


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "https://localhost.evil.example",
        "null",
        "",
        "file://localhost",
        "ws://localhost",
        "http://localhost:99999",  # malformed port
        "http://localhost:x",
        "http://[::1",
        "localhost",
    ],
)
async def test_foreign_or_malformed_origins_get_403(origin: str) -> None:
    inner = Inner()
    guard = HostGuard(inner, bind_host="127.0.0.1")
    assert await call(guard, headers={"host": "localhost", "origin": origin}) == (403, ORIGIN_REFUSAL)
    assert inner.calls == 0


async def test_a_foreign_host_is_refused_before_its_origin_is_read() -> None:
    guard = HostGuard(Inner(), bind_host="127.0.0.1")
    headers = {"host": "evil.example", "origin": "http://evil.example"}
    assert await call(guard, headers=headers) == (421, HOST_REFUSAL)


async def test_a_request_without_host_is_refused_whatever_names_are_allowed() -> None:
    guard = HostGuard(Inner(), bind_host="box.lan", allowed_hosts=["xxxx", "sandbox.lan", "no-host"])
    assert await call(guard, "GET") == (421, HOST_REFUSAL)


async def test_a_bare_ipv6_address_matches_in_any_case() -> None:
    """IPv6 addresses are case-insensitive; a bare one (as `--host` and the allowed list take it)
    matches the bracketed form in Host and Origin."""
    guard = HostGuard(Inner(), bind_host="FD00::2", allowed_hosts=["FD00::1"])
    assert await call(guard, "GET", headers={"host": "[fd00::2]:8787"}) == (200, "served")
    headers = {"host": "[fd00::2]:8787", "origin": "http://[fd00::1]:8787"}
    assert await call(guard, headers=headers) == (200, "served")
    headers = {"host": "[fd00::2]:8787", "origin": "http://[fd00::3]:8787"}
    assert await call(guard, headers=headers) == (403, ORIGIN_REFUSAL)
