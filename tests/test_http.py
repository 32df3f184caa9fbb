"""Streamable HTTP: loopback + DNS-rebinding protection, bearer token, per-client key forwarding."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from runtype_mcp.http_app import HTTPConfigError, build_http_app
from runtype_mcp.server import build_server
from tests.conftest import MODES, data, make_settings, text
from tests.fakes import API_KEY, FakeRuntype

pytestmark = pytest.mark.anyio
BASE = "http://127.0.0.1:8000"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"},
    },
}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@asynccontextmanager
async def http_app(fake: FakeRuntype, **settings: Any) -> AsyncIterator[tuple[Any, httpx2.AsyncClient]]:
    cfg = make_settings(**{"transport": "streamable-http", **settings})
    server = build_server(cfg, transport=fake.transport())
    app = build_http_app(server, cfg, "127.0.0.1")
    async with (
        server.session_manager.run(),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as http,
    ):
        yield server, http


@pytest.mark.parametrize("mode", MODES)
async def test_tools_work_over_streamable_http(fake: FakeRuntype, mode: str) -> None:
    fake.add_record("customer", "Acme")
    async with (
        http_app(fake) as (_, http),
        Client(streamable_http_client(f"{BASE}/mcp", http_client=http), mode=mode) as client,
    ):  # type: ignore[arg-type]
        tools = await client.list_tools()
        listed = data(await client.call_tool("list_records", {}))
    assert "create_record" in {t.name for t in tools.tools}
    assert listed["records"][0]["name"] == "Acme"


async def test_foreign_host_header_is_rejected(fake: FakeRuntype) -> None:
    async with http_app(fake) as (_, http):
        resp = await http.post("/mcp", json=INIT, headers={**MCP_HEADERS, "Host": "evil.example:8000"})
    assert resp.status_code == 421


async def test_foreign_origin_is_rejected(fake: FakeRuntype) -> None:
    async with http_app(fake) as (_, http):
        resp = await http.post("/mcp", json=INIT, headers={**MCP_HEADERS, "Origin": "http://evil.example"})
    assert resp.status_code == 403


@pytest.mark.parametrize(
    ("header", "status"),
    [(None, 401), ("Bearer wrong", 401), ("Bearer team-token-1-0123456789abcdef0123456789", 200)],
)
async def test_bearer_token_is_required_when_set(fake: FakeRuntype, header: str | None, status: int) -> None:
    headers = dict(MCP_HEADERS)
    if header:
        headers["Authorization"] = header
    async with http_app(fake, mcp_http_token="team-token-1-0123456789abcdef0123456789") as (_, http):
        resp = await http.post("/mcp", json=INIT, headers=headers)
    assert resp.status_code == status
    if status == 401:
        assert "RUNTYPE_MCP_HTTP_TOKEN" in resp.json()["error"]
        assert "team-token-1-0123456789abcdef0123456789" not in resp.text


async def test_oversized_request_body_is_refused(fake: FakeRuntype) -> None:
    async with http_app(fake) as (_, http):
        resp = await http.post("/mcp", content=b"{" + b" " * (3 * 1024 * 1024) + b"}", headers=MCP_HEADERS)
    assert resp.status_code == 413


@pytest.mark.parametrize("mode", MODES)
async def test_forward_mode_uses_each_clients_own_key_and_never_logs_it(
    fake: FakeRuntype, log_stream: io.StringIO, mode: str
) -> None:
    async with http_app(fake, api_key=None, mcp_forward_key=True) as (_, http):
        http.headers["Authorization"] = f"Bearer {API_KEY}"
        async with Client(streamable_http_client(f"{BASE}/mcp", http_client=http), mode=mode) as client:  # type: ignore[arg-type]
            ok = await client.call_tool("list_records", {})
        http.headers["Authorization"] = "Bearer rt_test_someone_else"
        async with Client(streamable_http_client(f"{BASE}/mcp", http_client=http), mode=mode) as client:  # type: ignore[arg-type]
            denied = await client.call_tool("list_records", {})
    assert not ok.is_error
    assert [r.headers["authorization"] for r in fake.requests] == [
        f"Bearer {API_KEY}",
        "Bearer rt_test_someone_else",
    ]
    assert denied.is_error and "rejected the API key (401)" in text(denied)
    logs = log_stream.getvalue()
    assert API_KEY not in logs and "rt_test_someone_else" not in logs
    assert "rt_test_someone_else" not in json.dumps(denied.model_dump(mode="json"))


async def test_forward_mode_without_a_bearer_is_refused_at_the_door(fake: FakeRuntype) -> None:
    async with http_app(fake, api_key=None, mcp_forward_key=True) as (_, http):
        resp = await http.post("/mcp", json=INIT, headers=MCP_HEADERS)
    assert resp.status_code == 401 and "Runtype API key" in resp.json()["error"]


def test_serving_beyond_loopback_needs_authentication(fake: FakeRuntype) -> None:
    cfg = make_settings(transport="streamable-http")
    server = build_server(cfg, transport=fake.transport())
    with pytest.raises(HTTPConfigError, match="RUNTYPE_MCP_HTTP_TOKEN"):
        build_http_app(server, cfg, "0.0.0.0")
    both = make_settings(mcp_http_token="t", mcp_forward_key=True, transport="streamable-http")
    with pytest.raises(HTTPConfigError, match="choose one"):
        build_http_app(build_server(both, transport=fake.transport()), both, "127.0.0.1")


def test_a_server_built_for_stdio_is_never_served_over_http(fake: FakeRuntype) -> None:
    """The stdio tools read and write local files; serving them to remote clients is refused."""
    stdio = make_settings()
    with pytest.raises(HTTPConfigError, match="built for stdio"):
        build_http_app(build_server(stdio, transport=fake.transport()), stdio, "127.0.0.1")
    http = make_settings(transport="streamable-http")
    with pytest.raises(HTTPConfigError, match="built for stdio"):
        build_http_app(build_server(stdio, transport=fake.transport()), http, "127.0.0.1")


@pytest.mark.parametrize("mode", MODES)
async def test_streamable_http_client_against_the_sandbox(mode: str) -> None:
    from runtype_mcp.config import Settings

    cfg = Settings(sandbox=True, sandbox_db=":memory:", transport="streamable-http")
    server = build_server(cfg)
    app = build_http_app(server, cfg, "127.0.0.1")
    async with (
        server.session_manager.run(),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as http,
        Client(streamable_http_client(f"{BASE}/mcp", http_client=http), mode=mode) as client,  # type: ignore[arg-type]
    ):
        listed = data(await client.call_tool("list_records", {"type": "customer"}))
        prompts = await client.list_prompts()
    assert listed["count"] == 3
    assert len(prompts.prompts) >= 4
