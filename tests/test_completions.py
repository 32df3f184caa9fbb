"""`completion/complete`: hosts fill prompt arguments and resource-template variables from real data."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import PromptReference, ResourceTemplateReference

from runtype_mcp.config import Settings
from runtype_mcp.http_app import build_http_app
from runtype_mcp.sandbox import Fault, Sandbox
from runtype_mcp.server import SANDBOX_BASE, build_server
from tests.conftest import MODES, make_settings

pytestmark = pytest.mark.anyio

CLEANUP = PromptReference(type="ref/prompt", name="cleanup_records")
DIAGNOSE = PromptReference(type="ref/prompt", name="diagnose_flow_run")
RECORD = ResourceTemplateReference(type="ref/resource", uri="runtype://records/{record_id}")
FLOW = ResourceTemplateReference(type="ref/resource", uri="runtype://flows/{flow_id}")
SCHEMA = ResourceTemplateReference(type="ref/resource", uri="runtype://record-types/{type}/schema")


@asynccontextmanager
async def sandbox_server(mode: str = "auto") -> AsyncIterator[tuple[Client, Sandbox, Any]]:
    """An MCP client on a server whose API is a fresh sandbox with a few known records and flows."""
    sandbox = Sandbox(":memory:")
    async with sandbox.running():
        transport = httpx2.ASGITransport(app=sandbox.app)
        async with httpx2.AsyncClient(transport=transport, base_url=SANDBOX_BASE + "/v1") as api:
            for name, type_, metadata in [
                ("Quokka Corp", "vendor", {"region": "EU", "rating": 4}),
                ("Quorum Ltd", "vendor", {"region": "US"}),
                ("Birch Inc", "vendor", {"region": "US"}),
                ("Quokka Corp", "partner", {"tier": "gold"}),
            ]:
                resp = await api.post("/records", json={"name": name, "type": type_, "metadata": metadata})
                assert resp.status_code in {200, 201}, resp.text
            for name in ["Enrich vendors", "Enrich partners", "Quarterly tickets"]:
                resp = await api.post("/flows", json={"name": name, "steps": []})
                assert resp.status_code in {200, 201}, resp.text
            ids = {
                (r["type"], r["name"]): r["id"] for r in (await api.get("/records?limit=100")).json()["data"]
            }
            flows = {f["name"]: f["id"] for f in (await api.get("/flows?limit=100")).json()["data"]}
        server = build_server(Settings(sandbox=True, sandbox_db=":memory:"), transport=transport)
        async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
            yield client, sandbox, {"records": ids, "flows": flows, "server": server}


async def values(client: Client, ref: Any, name: str, typed: str, **context: str) -> tuple[list[str], bool]:
    with anyio.fail_after(10):
        res = await client.complete(ref, {"name": name, "value": typed}, context or None)
    return res.completion.values, bool(res.completion.has_more)


@pytest.mark.parametrize("mode", MODES)
async def test_record_type_arguments_complete_from_the_types_in_use(mode: str) -> None:
    async with sandbox_server(mode) as (client, _, _):
        everything, more = await values(client, CLEANUP, "record_type", "")
        typed = await values(client, CLEANUP, "record_type", "ve")
        template = await values(client, SCHEMA, "type", "PA")
    assert {"vendor", "partner"} <= set(everything) and not more
    assert typed == (["vendor"], False)
    assert template == (["partner"], False)


@pytest.mark.parametrize("mode", MODES)
async def test_flow_ids_complete_by_flow_name_prefix(mode: str) -> None:
    async with sandbox_server(mode) as (client, _, known):
        enrich, _ = await values(client, DIAGNOSE, "flow_id", "enrich")
        via_template, _ = await values(client, FLOW, "flow_id", "Quar")
    flows = known["flows"]
    assert enrich == [flows["Enrich partners"], flows["Enrich vendors"]]
    assert via_template == [flows["Quarterly tickets"]]


@pytest.mark.parametrize("mode", MODES)
async def test_record_ids_complete_by_name_prefix_within_the_type_given(mode: str) -> None:
    async with sandbox_server(mode) as (client, _, known):
        vendors, _ = await values(client, DIAGNOSE, "record_id", "Qu", record_type="vendor")
        any_type, _ = await values(client, RECORD, "record_id", "quokka")
    ids = known["records"]
    assert vendors == [ids[("vendor", "Quokka Corp")], ids[("vendor", "Quorum Ltd")]]
    assert set(any_type) == {ids[("vendor", "Quokka Corp")], ids[("partner", "Quokka Corp")]}


async def test_field_arguments_complete_with_the_metadata_fields_of_the_type() -> None:
    async with sandbox_server() as (client, _, _):
        fields, _ = await values(client, CLEANUP, "field", "r", record_type="vendor")
        without_type, _ = await values(client, CLEANUP, "field", "")
    assert fields == ["rating", "region"]
    assert without_type == []


async def test_an_argument_with_nothing_to_offer_completes_to_an_empty_list() -> None:
    async with sandbox_server() as (client, _, _):
        assert await values(client, CLEANUP, "criteria", "old") == ([], False)
        assert await values(client, CLEANUP, "record_type", "zzz") == ([], False)


async def test_answers_are_capped_at_100_values_and_say_there_are_more() -> None:
    rows = [{"id": f"rec_{i:04d}", "name": f"Lead {i:04d}", "type": "lead"} for i in range(150)]

    def handler(request: httpx2.Request) -> httpx2.Response:
        page = {"limit": 100, "hasMore": True, "hasPrev": False, "currentOffset": 0, "nextCursor": "c2"}
        return httpx2.Response(200, json={"data": rows, "pagination": page})

    server = build_server(make_settings(), transport=httpx2.MockTransport(handler))
    async with Client(server) as client:  # type: ignore[arg-type]
        shown, more = await values(client, RECORD, "record_id", "Lead")
    assert len(shown) == 100 and more and shown[0] == "rec_0000"


async def test_an_api_error_gives_an_empty_list_and_a_log_line_not_an_error(log_stream: io.StringIO) -> None:
    async with sandbox_server() as (client, sandbox, _):
        sandbox.faults.add([Fault(path="/flows", status=500, times=None)])
        shown = await values(client, DIAGNOSE, "flow_id", "Enr")
    assert shown == ([], False)
    events = [json.loads(line) for line in log_stream.getvalue().splitlines() if line.startswith("{")]
    assert any(e["event"] == "completion.error" and e["argument"] == "flow_id" for e in events)


async def test_typing_further_is_answered_from_the_cache_without_new_requests() -> None:
    async with sandbox_server() as (client, _, known):
        completer = known["server"]._lowlevel_server._request_handlers["completion/complete"].handler
        await values(client, DIAGNOSE, "flow_id", "En")
        await values(client, CLEANUP, "record_type", "")
        before = completer.fetches
        narrowed, _ = await values(client, DIAGNOSE, "flow_id", "Enrich v")
        typed, _ = await values(client, CLEANUP, "record_type", "par")
    assert completer.fetches == before
    assert narrowed == [known["flows"]["Enrich vendors"]] and typed == ["partner"]


async def test_forward_key_callers_never_see_each_others_names() -> None:
    """Two team members on one HTTP server, each with their own Runtype key and data."""
    data = {
        "Bearer rt_alice_0123456789": [{"id": "rec_a", "name": "Alice private", "type": "secret_a"}],
        "Bearer rt_bob_0123456789": [{"id": "rec_b", "name": "Bob private", "type": "secret_b"}],
    }

    def handler(request: httpx2.Request) -> httpx2.Response:
        rows = data.get(request.headers.get("authorization", ""), [])
        return httpx2.Response(200, json={"data": rows, "pagination": {"limit": 100, "hasMore": False}})

    cfg = make_settings(api_key=None, mcp_forward_key=True, transport="streamable-http")
    server = build_server(cfg, transport=httpx2.MockTransport(handler))
    app = build_http_app(server, cfg, "127.0.0.1")
    base = "http://127.0.0.1:8000"
    seen: dict[str, list[str]] = {}
    async with (
        server.session_manager.run(),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=base) as http,
    ):
        for who in ["rt_alice_0123456789", "rt_bob_0123456789"]:
            http.headers["Authorization"] = f"Bearer {who}"
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:  # type: ignore[arg-type]
                seen[who], _ = await values(client, CLEANUP, "record_type", "")
    assert seen == {"rt_alice_0123456789": ["secret_a"], "rt_bob_0123456789": ["secret_b"]}


async def test_the_server_advertises_completions() -> None:
    async with sandbox_server() as (client, _, _):
        assert client.server_capabilities is not None
        assert client.server_capabilities.completions is not None
