"""`logging/setLevel` (2025-era connections): over stdio the client sets the server's own log level."""

from __future__ import annotations

import io
import json

import pytest
from mcp import MCPError

from tests.conftest import connect
from tests.fakes import FakeRuntype

# The client warns that the method is deprecated (it is, at 2026-07-28); 2025-era hosts still send it.
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]


def events(stream: io.StringIO) -> list[str]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    stream.seek(0)
    stream.truncate()
    return [e["event"] for e in lines]


async def test_set_level_changes_what_the_server_logs(fake: FakeRuntype, log_stream: io.StringIO) -> None:
    async with connect(fake, "legacy") as client:
        assert client.server_capabilities.logging is not None
        await client.set_logging_level("error")
        events(log_stream)
        await client.call_tool("list_records", {})
        quiet = events(log_stream)
        await client.set_logging_level("info")
        await client.call_tool("list_records", {})
        loud = events(log_stream)
    assert "tool.call" not in quiet
    assert "tool.call" in loud


async def test_over_http_a_client_cannot_change_the_shared_servers_log_level(
    fake: FakeRuntype, log_stream: io.StringIO
) -> None:
    async with connect(fake, "legacy", transport="streamable-http") as client:
        await client.set_logging_level("error")
        events(log_stream)
        await client.call_tool("list_records", {})
        assert "tool.call" in events(log_stream)


async def test_modern_connections_have_no_set_level(fake: FakeRuntype) -> None:
    async with connect(fake, "auto") as client:
        with pytest.raises(MCPError):
            await client.set_logging_level("error")
