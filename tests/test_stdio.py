"""The real server process over stdio: both protocol eras, and nothing but JSON-RPC on stdout."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from tests.conftest import MODES, text
from tests.stdio_util import raw_exchange, server_params

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_stdio_server_without_key_lists_tools_and_explains_calls(mode: str) -> None:
    async with Client(server_params(), mode=mode) as client:  # type: ignore[arg-type]
        tools = await client.list_tools()
        res = await client.call_tool("get_record", {"record_id": "rec_1"})
    assert "create_record" in {t.name for t in tools.tools}
    assert res.is_error and "RUNTYPE_API_KEY" in text(res)


def test_stdout_carries_only_json_rpc_and_logs_go_to_stderr() -> None:
    messages = [
        INIT,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "list_records", "arguments": {}},
        },
    ]
    lines, stderr = raw_exchange(messages, env={"RUNTYPE_LOG_LEVEL": "DEBUG"})
    replies = [json.loads(line) for line in lines]  # every stdout line must be JSON
    assert all(r.get("jsonrpc") == "2.0" for r in replies)
    by_id = {r["id"]: r for r in replies if "id" in r}
    assert by_id[1]["result"]["serverInfo"]["name"] == "runtype-mcp"
    assert len(by_id[2]["result"]["tools"]) >= 9
    assert by_id[3]["result"]["isError"] is True
    assert '"event": "tool.call"' in stderr or '"event":"tool.call"' in stderr


DISCOVER = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "server/discover",
    "params": {
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    },
}
LATE_INIT = {**INIT, "id": 2}


def test_initialize_after_discover_is_refused_by_default() -> None:
    """Pins the SDK behaviour behind some clients' failure to connect (see README troubleshooting)."""
    lines, _ = raw_exchange([DISCOVER, LATE_INIT])
    by_id = {r["id"]: r for r in map(json.loads, lines)}
    assert "capabilities" in by_id[1]["result"]
    assert by_id[2]["error"]["code"] == -32022


def test_legacy_pin_refuses_discover_so_initialize_opens_the_connection() -> None:
    msgs = [
        DISCOVER,
        LATE_INIT,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
    ]
    lines, _ = raw_exchange(msgs, env={"RUNTYPE_PROTOCOL_ERA": "legacy"})
    by_id = {r["id"]: r for r in map(json.loads, lines)}
    assert by_id[1]["error"]["code"] == -32022
    assert by_id[1]["error"]["data"]["supported"] == ["2025-11-25"]
    assert by_id[2]["result"]["protocolVersion"] == "2025-11-25"
    assert len(by_id[3]["result"]["tools"]) >= 9
