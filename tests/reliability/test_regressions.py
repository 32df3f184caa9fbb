"""Bugs the reliability suite found, pinned so they stay fixed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from runtype_mcp.http_app import build_http_app
from runtype_mcp.server import build_server
from tests.conftest import data, make_settings, text
from tests.fakes import API_KEY, FakeRuntype
from tests.reliability.conftest import Collector
from tests.reliability.harness import assert_actionable, mcp_client, prepare, sandbox_backend

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("fast_retries")]
AREA = "Regressions found by this suite"


def _seed(fake: FakeRuntype) -> None:
    for i in range(3):
        fake.add_record("customer", f"c{i}", {"tier": "gold"})


async def test_export_records_csv_recovers_from_one_transient_failure_like_any_read(
    fake: FakeRuntype, tmp_path: Path, report: Collector
) -> None:
    with report.case(AREA, "export_records_csv: one 503 before the body", "retried once, file written"):
        _seed(fake)
        fake.fail("GET", "/records/export", 503)
        server = build_server(make_settings(), transport=fake.transport())
        async with Client(server) as client:
            out = data(await client.call_tool("export_records_csv", {"path": str(tmp_path / "x.csv")}))
        assert out["written"] is True and out["row_count"] == 3
        assert len(fake.sent("GET", "/v1/records/export")) == 2


async def test_export_records_csv_is_not_resent_once_bytes_were_written(
    tmp_path: Path, report: Collector
) -> None:
    with report.case(AREA, "export_records_csv: connection lost mid-body", "sent once, no partial file"):
        calls = 0

        async def body() -> AsyncIterator[bytes]:
            yield b"id,type,name\nrec_1,customer,c0\n"
            raise httpx2.ReadError("connection reset by peer")

        def handler(request: httpx2.Request) -> httpx2.Response:
            nonlocal calls
            calls += 1
            return httpx2.Response(200, headers={"content-type": "text/csv"}, content=body())

        server = build_server(make_settings(), transport=httpx2.MockTransport(handler))
        async with Client(server) as client:
            res = await client.call_tool("export_records_csv", {"path": str(tmp_path / "x.csv")})
        assert res.is_error and "could not be reached" in text(res)
        assert calls == 1
        assert [p async for p in anyio.Path(tmp_path).iterdir()] == [], "a partial export is removed"


async def test_export_records_csv_in_forward_key_mode_sends_the_callers_key(
    fake: FakeRuntype, tmp_path: Path, report: Collector
) -> None:
    """It used to refuse with "no API key configured" (and would have sent no key at all)."""
    with report.case(AREA, "export_records_csv over HTTP in forward-key mode", "uses the caller's key"):
        _seed(fake)
        cfg = make_settings(api_key=None, mcp_forward_key=True, transport="streamable-http")
        server = build_server(cfg, transport=fake.transport())
        app = build_http_app(server, cfg, "127.0.0.1")
        base = "http://127.0.0.1:8000"
        async with (
            server.session_manager.run(),
            httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=app),
                base_url=base,
                headers={"Authorization": f"Bearer {API_KEY}"},
            ) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,  # type: ignore[arg-type]
        ):
            res = await client.call_tool("export_records_csv", {})
        assert data(res)["row_count"] == 3
        (sent,) = fake.sent("GET", "/v1/records/export")
        assert sent.headers["authorization"] == f"Bearer {API_KEY}"


def _nested(levels: int) -> dict[str, object]:
    value: dict[str, object] = {"leaf": "x"}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


async def test_deeply_nested_arguments_are_refused_before_anything_is_sent(report: Collector) -> None:
    """At ~250 levels the record was created but the reply broke at the protocol layer, so the
    model saw no tool result at all and a retry hit a conflict."""
    with report.case(AREA, "metadata/inputs/updates/config nested 250 levels", "refused, nothing sent"):
        async with sandbox_backend() as be:
            world = await prepare(be, Path("/nonexistent"))
            async with mcp_client(be) as client:
                mark = len(be.counter.log)
                calls = {
                    "create_record": {"name": "deep", "type": "t", "metadata": _nested(250)},
                    "run_flow": {"flow_id": world.flow_id, "inputs": _nested(250)},
                    "bulk_edit_records": {"record_ids": world.record_ids, "updates": _nested(250)},
                    "update_flow": {
                        "flow_id": world.flow_id,
                        "step_update": {"step": "t", "config": _nested(250)},
                    },
                }
                results = {tool: await client.call_tool(tool, args) for tool, args in calls.items()}
            sent = be.counter.log[mark:]
            created = await be.records_named("t", "deep")
        for tool, res in results.items():
            assert res.is_error and "nested more than 32 levels" in assert_actionable(res, tool)
        assert sent == [] and created == 0


async def test_records_nested_deeper_than_a_reply_can_carry_are_shown_cut_not_crashed(
    report: Collector,
) -> None:
    with report.case(AREA, "a record written by others nested 60/120/252 levels", "get_record answers"):
        async with sandbox_backend() as be:
            ids = {}
            for levels in (60, 120, 252):
                resp = await be.direct.post(
                    "/v1/records", json={"name": f"n{levels}", "type": "deep", "metadata": _nested(levels)}
                )
                ids[levels] = resp.json()["id"]
            async with mcp_client(be) as client, mcp_client(be, "legacy") as legacy:
                got = {n: await client.call_tool("get_record", {"record_id": i}) for n, i in ids.items()}
                listed = await legacy.call_tool("list_records", {"type": "deep"})
        assert data(got[60])["metadata"] == _nested(60), "normal depth is returned whole"
        for levels in (120, 252):
            shown = json.dumps(data(got[levels]))
            assert "nested too deep to show here" in shown
        assert not listed.is_error
