"""The real HTTP path without an account: MCP tools against the sandbox, in-process and over stdio."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from runtype_mcp.config import Settings
from runtype_mcp.server import build_server
from tests.conftest import MODES, data, text
from tests.stdio_util import server_params

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def sandbox_client(mode: str = "auto", db: str = ":memory:") -> AsyncIterator[Client]:
    server = build_server(Settings(sandbox=True, sandbox_db=db))
    async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
        yield client


@pytest.mark.parametrize("mode", MODES)
async def test_core_workflow_against_the_sandbox(mode: str) -> None:
    async with sandbox_client(mode) as client:
        seeded = data(await client.call_tool("list_records", {"type": "customer"}))
        assert seeded["count"] >= 3, "first start seeds demo records"
        created = data(
            await client.call_tool(
                "create_record", {"name": "Umbrella", "type": "customer", "metadata": {"tier": "silver"}}
            )
        )
        rid = created["record"]["id"]
        dup = await client.call_tool("create_record", {"name": "Umbrella", "type": "customer"})
        assert dup.is_error and f'record_id="{rid}"' in text(dup)
        data(await client.call_tool("update_record", {"record_id": rid, "metadata": {"score": 7}}))
        got = data(await client.call_tool("get_record", {"record_id": rid}))
        assert got["metadata"] == {"tier": "silver", "score": 7}, "merge mode keeps existing keys"
        flow = data(
            await client.call_tool(
                "create_flow",
                {
                    "name": "Tag tier",
                    "steps": [
                        {
                            "name": "Ask",
                            "type": "prompt",
                            "config": {
                                "model": "m",
                                "userPrompt": "Tier of {{_record.name}}",
                                "outputVariable": "answer",
                            },
                        },
                        {
                            "name": "Save",
                            "type": "update-record",
                            "config": {"updates": {"note": "{{answer}}"}},
                        },
                    ],
                },
            )
        )
        run = data(
            await client.call_tool(
                "run_flow_on_record_type", {"flow_id": flow["id"], "record_type": "customer"}
            )
        )
        assert run["status"] == "completed" and run["failure_count"] == 0
        assert rid in {r["record_id"] for r in run["results"]}
        after = data(await client.call_tool("get_record", {"record_id": rid}))
        assert after["metadata"]["note"].startswith("[sandbox model m] Tier of Umbrella")
        history = data(await client.call_tool("get_record_results", {"record_id": rid}))
        steps = data(await client.call_tool("get_record_step_results", {"record_id": rid}))
        costs = data(await client.call_tool("get_record_costs", {"record_id": rid}))
    assert [r["flow_name"] for r in history["results"]] == ["Tag tier"]
    assert history["results"][0]["status"] == "completed"
    assert {s["step"] for s in steps["step_results"]} == {"Ask", "Save"}
    assert costs["execution_count"] == 1


async def test_large_run_is_scheduled_and_batch_status_reaches_completion() -> None:
    async with sandbox_client() as client:
        for i in range(12):
            data(
                await client.call_tool(
                    "create_record", {"name": f"lead-{i}", "type": "lead", "metadata": {"n": i}}
                )
            )
        flow = data(
            await client.call_tool(
                "create_flow",
                {
                    "name": "Greet",
                    "steps": [
                        {
                            "name": "t",
                            "type": "template",
                            "config": {"template": "hi {{_record.name}}", "outputVariable": "g"},
                        }
                    ],
                },
            )
        )
        run = data(
            await client.call_tool("run_flow_on_record_type", {"flow_id": flow["id"], "record_type": "lead"})
        )
        assert run["status"] == "scheduled" and run["record_count"] == 12
        status: dict[str, Any] = {}
        with anyio.fail_after(20):
            while status.get("status") != "completed":
                status = data(await client.call_tool("get_batch_status", {"batch_id": run["batch_id"]}))
                await anyio.sleep(0.05)
        assert status["processed"] == 12 and status["failed"] == 0 and status["progress"] == 100


async def test_sandbox_errors_are_translated_end_to_end() -> None:
    async with sandbox_client() as client:
        missing = await client.call_tool("get_record", {"record_id": "rec_nope"})
        bad_cursor = await client.call_tool("list_records", {"cursor": "not-a-cursor"})
        no_flow = await client.call_tool(
            "run_flow_on_record_type", {"flow_id": "flow_nope", "record_type": "customer"}
        )
    assert missing.is_error and "list_records" in text(missing)
    assert (
        bad_cursor.is_error
        and "- cursor:" in text(bad_cursor)
        and "call list_records again" in text(bad_cursor)
    )
    assert no_flow.is_error and "Call list_flows" in text(no_flow)


async def test_sandbox_data_persists_across_restarts(tmp_path: Path) -> None:
    db = str(tmp_path / "sb.sqlite3")
    async with sandbox_client(db=db) as client:
        data(await client.call_tool("create_record", {"name": "keep-me", "type": "note"}))
    async with sandbox_client(db=db) as client:
        rows = data(await client.call_tool("list_records", {"type": "note"}))
        customers = data(await client.call_tool("list_records", {"type": "customer"}))
    assert [r["name"] for r in rows["records"]] == ["keep-me"]
    assert customers["count"] == 3, "demo data is seeded once, not again on restart"


async def test_readme_first_command_serves_tools_over_stdio() -> None:
    """`runtype-mcp --sandbox`: start over stdio, list tools, call list_records."""
    async with Client(server_params("--sandbox", "--sandbox-db", ":memory:")) as client:  # type: ignore[arg-type]
        tools = await client.list_tools()
        listed = data(await client.call_tool("list_records", {"limit": 5}))
    assert {"list_records", "create_record", "run_flow_on_record_type"} <= {t.name for t in tools.tools}
    assert listed["count"] == 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served_sandbox(tmp_path: Path) -> Iterator[str]:
    """`runtype-mcp sandbox serve` on loopback with a key; stopped when the test ends."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTYPE_")}
    env["RUNTYPE_API_KEY"] = "rt_test_served"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runtype_mcp",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "s.db"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(url + "/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert proc.poll() is None, "sandbox serve exited early"
            assert time.monotonic() < deadline, "sandbox serve did not come up"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("mode", MODES)
async def test_stdio_server_against_an_api_on_loopback(served_sandbox: str, mode: str) -> None:
    params = server_params(RUNTYPE_API_KEY="rt_test_served", RUNTYPE_BASE_URL=served_sandbox)
    async with Client(params, mode=mode) as client:  # type: ignore[arg-type]
        rec = data(await client.call_tool("create_record", {"name": f"n-{mode}", "type": "demo"}))["record"]
        data(await client.call_tool("update_record", {"record_id": rec["id"], "name": f"m-{mode}"}))
        assert data(await client.call_tool("get_record", {"record_id": rec["id"]}))["name"] == f"m-{mode}"
        flow = data(
            await client.call_tool(
                "create_flow",
                {"name": "f", "steps": [{"name": "t", "type": "template", "config": {"template": "x"}}]},
            )
        )
        run = data(
            await client.call_tool("run_flow_on_record_type", {"flow_id": flow["id"], "record_type": "demo"})
        )
    assert run["record_count"] == 1 and run["failure_count"] == 0
    wrong = server_params(RUNTYPE_API_KEY="rt_test_wrong", RUNTYPE_BASE_URL=served_sandbox)
    async with Client(wrong, mode=mode) as client:  # type: ignore[arg-type]
        res = await client.call_tool("list_records", {})
    assert res.is_error and "rejected the API key (401)" in text(res)
    assert "rt_test_wrong" not in json.dumps(res.model_dump(mode="json"))
