"""Streamable HTTP security, the cases tests/test_http.py does not already pin: near-miss tokens,
header spellings, Host/Origin variants, the body cap at its edge, and loopback defaults."""

from __future__ import annotations

import pytest

from runtype_mcp.__main__ import _parser
from tests.fakes import FakeRuntype
from tests.reliability.conftest import Collector
from tests.test_http import INIT, MCP_HEADERS, http_app

pytestmark = pytest.mark.anyio
AREA = "Streamable HTTP security"
TOKEN = "team-token-1f9a-0123456789abcdef0123456789"


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("", 401),
        ("Bearer", 401),
        ("Bearer ", 401),
        (f"Bearer {TOKEN[:-1]}x", 401),  # differs in the last character
        (f"Bearer {TOKEN[:-1]}", 401),  # a prefix of the token
        (f"Bearer {TOKEN}0", 401),  # the token plus one character
        (f"Bearer {TOKEN.upper()}", 401),
        (f"Basic {TOKEN}", 401),
        (TOKEN, 401),
        (f"Bearer  {TOKEN} ", 200),  # surrounding whitespace is not part of the token
        (f"bearer {TOKEN}", 200),  # the scheme is case-insensitive (RFC 9110)
        (f"BEARER {TOKEN}", 200),
        (f"Bearer {TOKEN}", 200),
    ],
)
async def test_only_the_exact_bearer_token_gets_in(
    fake: FakeRuntype, authorization: str | None, status: int, report: Collector
) -> None:
    held = "401 for every near miss, without echoing what was sent; the exact token (any scheme case) gets in"
    with report.case(AREA, "bearer token variants (14)", held):
        headers = dict(MCP_HEADERS)
        if authorization is not None:
            headers["Authorization"] = authorization
        async with http_app(fake, mcp_http_token=TOKEN) as (_, http):
            resp = await http.post("/mcp", json=INIT, headers=headers)
        assert resp.status_code == status, resp.text
        if status == 401:
            assert resp.headers["www-authenticate"] == "Bearer"
            assert TOKEN[:-1] not in resp.text
        assert fake.requests == [], "nothing reaches Runtype during the handshake"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Host": "127.0.0.1:8000"}, 200),
        ({"Host": "localhost:8000"}, 200),
        ({"Host": "127.0.0.1"}, 421),  # the SDK's patterns need a port
        ({"Host": "127.0.0.1.evil.example:8000"}, 421),
        ({"Host": "evil.example:8000", "X-Forwarded-Host": "127.0.0.1:8000"}, 421),
        ({"Origin": "http://127.0.0.1:8000"}, 200),
        ({"Origin": "http://localhost:5173"}, 200),
        ({"Origin": "null"}, 403),
        ({"Origin": "http://127.0.0.1.evil.example"}, 403),
        ({"Origin": "https://evil.example"}, 403),
    ],
)
async def test_dns_rebinding_protection_checks_host_and_origin(
    fake: FakeRuntype, headers: dict[str, str], status: int, report: Collector
) -> None:
    with report.case(AREA, "Host / Origin variants (10)", "loopback accepted, look-alikes refused"):
        async with http_app(fake) as (_, http):
            resp = await http.post("/mcp", json=INIT, headers={**MCP_HEADERS, **headers})
        assert resp.status_code == status, resp.text


@pytest.mark.parametrize(("size", "refused"), [(2 * 1024 * 1024 - 64, False), (2 * 1024 * 1024 + 1, True)])
async def test_request_bodies_are_capped_at_two_mebibytes(
    fake: FakeRuntype, size: int, refused: bool, report: Collector
) -> None:
    with report.case(AREA, "request body just under / just over 2 MiB", "413 only past the cap"):
        body = b'{"jsonrpc":"2.0","id":1,"method":"ping","pad":"' + b"x" * (size - 48) + b'"}'
        async with http_app(fake) as (_, http):
            resp = await http.post("/mcp", content=body, headers=MCP_HEADERS)
        assert (resp.status_code == 413) is refused, resp.status_code


def test_every_server_binds_to_loopback_unless_told_otherwise(report: Collector) -> None:
    with report.case(AREA, "default bind addresses (MCP HTTP, sandbox serve)", "127.0.0.1"):
        assert _parser().parse_args(["--transport", "streamable-http"]).host == "127.0.0.1"
        assert _parser().parse_args(["sandbox", "serve"]).sb_host == "127.0.0.1"
