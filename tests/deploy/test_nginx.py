"""The team deployment in deploy/: nginx (the shipped config) in front of two stateless instances.

Marker `deploy`; needs Debian's nginx and openssl (`.ci/run` installs nginx with apt when it can),
skipped with the reason otherwise."""

from __future__ import annotations

import asyncio
import json
import re
import resource
import ssl
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.deploy.stack import DEPLOY, NGINX, OPENSSL, ROOT, Stack, running_stack

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.skipif(NGINX is None, reason="nginx not installed (CI: apt-get install nginx; see .ci/run)"),
    pytest.mark.skipif(OPENSSL is None, reason="openssl not installed (needed for the test certificate)"),
]

CLIENTS = 50
CALLS_EACH = 12
SLOW = 1000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 8192), hard), hard))
    try:
        with running_stack(tmp_path_factory.mktemp("deploy")) as running:
            yield running
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_read_only_map_never_marks_a_write_tool_replayable() -> None:
    """nginx replays requests it maps to $mcp_read_only=1 on another instance: a write must never match."""
    text = (DEPLOY / "runtype-mcp-read-only.conf").read_text(encoding="utf-8")
    patterns = re.findall(r'^\s*"(~?)(\^?tools/call:[^"]*)"\s+1;', text, flags=re.M)
    manifest = json.loads((ROOT / "src" / "runtype_mcp" / "tools_manifest.json").read_text(encoding="utf-8"))
    tools = {t["name"]: t for t in manifest["stdio"]}
    tools.update({t["name"]: t for t in manifest["streamable-http"] if isinstance(t, dict)})

    def replayable(name: str) -> bool:
        key = f"tools/call:{name}"
        return any(re.search(p, key) if regex else p == key for regex, p in patterns)

    for name, tool in tools.items():
        read_only = bool((tool.get("annotations") or {}).get("readOnlyHint"))
        assert read_only or not replayable(name), f"{name} writes but nginx would replay it"
    assert replayable("list_records") and not replayable("create_record")


async def call_many(stack: Stack, client_no: int, results: list[Any], started: anyio.Event) -> None:
    async with (
        stack.http_client() as http,
        Client(streamable_http_client(stack.url, http_client=http)) as client,  # type: ignore[arg-type]
    ):
        for i in range(CALLS_EACH):
            tool, args = [("list_records", {"limit": 3}), ("list_flows", {"limit": 3})][i % 2]
            res = await client.call_tool(tool, args)
            results.append((client_no, tool, res.is_error, res))
            if len(results) >= CLIENTS * CALLS_EACH // 3:
                started.set()


@pytest.mark.anyio
async def test_fifty_clients_without_affinity_survive_an_instance_stopping(stack: Stack) -> None:
    results: list[Any] = []
    third_done = anyio.Event()
    with anyio.fail_after(240):
        async with anyio.create_task_group() as tg:
            for n in range(CLIENTS):
                tg.start_soon(call_many, stack, n, results, third_done)
            await third_done.wait()
            served_before = {line.split()[2] for line in stack.access_log()}
            await anyio.to_thread.run_sync(stack.stop, "instance1")
            done_at_stop, log_at_stop = len(results), len(stack.access_log())
    failed = [(n, tool, r.content) for n, tool, is_error, r in results if is_error]
    assert len(results) == CLIENTS * CALLS_EACH
    assert failed == []
    ports = {f"127.0.0.1:{p}" for p in stack.instance_ports}
    assert ports <= served_before, f"both instances served before the stop: {served_before}"
    assert done_at_stop < len(results), "calls went on after instance1 had stopped"
    answered_by = [line.split()[-3] for line in stack.access_log()[log_at_stop:]]  # the last instance tried
    assert answered_by and set(answered_by) == {f"127.0.0.1:{stack.instance_ports[0]}"}


async def slow_connection(port: int, tls: ssl.SSLContext, n: int) -> asyncio.StreamWriter:
    """Half-open: 1 in 10 finishes TLS and sends part of its headers; the rest stop inside the TLS
    handshake (half send the first bytes of a ClientHello, half nothing at all)."""
    if n % 10:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        if n % 2:
            writer.write(b"\x16\x03\x01\x02")
            await writer.drain()
        return writer
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls, server_hostname="127.0.0.1")
    writer.write(f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: applic".encode())
    await writer.drain()
    return writer


@pytest.mark.anyio
async def test_a_thousand_slow_connections_do_not_delay_a_real_request(stack: Stack) -> None:
    tls = stack.tls()
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "list_records", "arguments": {"limit": 1}},
    }
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
    writers: list[asyncio.StreamWriter] = []
    try:
        writers = list(await asyncio.gather(*(slow_connection(stack.port, tls, n) for n in range(SLOW))))
        held = sum(not w.is_closing() for w in writers)
        began = time.perf_counter()
        with anyio.fail_after(2):
            async with stack.http_client() as http:  # a new client: a new TLS connection
                resp = await http.post(stack.url, json=call, headers=headers)
        elapsed = time.perf_counter() - began
    finally:
        for w in writers:
            w.transport.abort()
    assert held == SLOW, "all the slow connections were open when the request was sent"
    assert resp.status_code == 200
    assert resp.json()["result"]["structuredContent"]["count"] == 1
    assert elapsed < 2
