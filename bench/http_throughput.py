"""Streamable-HTTP throughput: 50 concurrent MCP clients calling `get_record`, on one instance and on
two instances behind nginx (the config in deploy/, over TLS), beside 50 concurrent raw GETs of the
same record from the same API in the same run.

The API is `runtype-mcp sandbox serve` (one process); the stack is tests/deploy/stack.py, the one the
deployment test uses. Each client opens its MCP session first (not timed), then makes its calls one
after another; calls/s = all calls / wall time of the round. Rounds alternate the paths. Each MCP path
is driven twice: by `mcp.Client` (2026-07-28) and by a light client (bare JSON-RPC POSTs).
Without nginx the proxy row is left out (and says so).

    python bench/http_throughput.py [--clients 50] [--calls 20] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
from common import HERE, ROOT, summary

sys.path.insert(0, str(ROOT))
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from tests.deploy.stack import API_KEY, NGINX, OPENSSL, TOKEN, Stack, running_stack

# The light client: one JSON-RPC POST per call (2025-11-25, stateless), no MCP client library, so the
# load generator's own CPU cost stays small; mcp.Client rows show what a Python host would see.
LIGHT_VERSION = "2025-11-25"


async def round_of(
    open_client: Callable[[], Any], clients: int, calls: int, call: Callable[[Any], Awaitable[None]]
) -> dict[str, Any]:
    """`clients` concurrent clients, each `calls` sequential calls: calls/s and per-call latency."""
    latencies: list[float] = []
    ready = anyio.Event()
    opened = 0

    async def one() -> None:
        nonlocal opened
        async with open_client() as client:
            opened += 1
            if opened == clients:
                ready.set()
            await ready.wait()
            for _ in range(calls):
                began = time.perf_counter()
                await call(client)
                latencies.append(time.perf_counter() - began)

    async with anyio.create_task_group() as tg:
        for _ in range(clients):
            tg.start_soon(one)
        await ready.wait()
        began = time.perf_counter()
    wall = time.perf_counter() - began
    return {"calls_per_s": len(latencies) / wall, "latency": summary(latencies), "calls": len(latencies)}


def mcp_opener(url: str, tls: Any = None) -> Callable[[], Any]:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def open_client() -> Any:
        async with (
            httpx2.AsyncClient(
                verify=tls if tls is not None else True,
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=60,
            ) as http,
            Client(streamable_http_client(url, http_client=http)) as client,  # type: ignore[arg-type]
        ):
            yield client

    return open_client


async def measure_async(stack: Stack, clients: int, calls: int, rounds: int) -> dict[str, Any]:
    async with httpx2.AsyncClient(
        base_url=stack.api_url + "/v1", headers={"Authorization": f"Bearer {API_KEY}"}
    ) as api:
        record_id = (await api.get("/records", params={"limit": 1})).json()["data"][0]["id"]

    async def mcp_call(client: Any) -> None:
        res = await client.call_tool("get_record", {"record_id": record_id})
        assert not res.is_error, res

    def raw_opener() -> Any:
        limits = httpx2.Limits(max_connections=1)
        return httpx2.AsyncClient(
            base_url=stack.api_url + "/v1", headers={"Authorization": f"Bearer {API_KEY}"}, limits=limits
        )

    async def raw_call(http: httpx2.AsyncClient) -> None:
        resp = await http.get(f"/records/{record_id}")
        assert resp.status_code == 200

    def post_opener(url: str, tls: Any = None) -> Callable[[], Any]:
        headers = {"Authorization": f"Bearer {TOKEN}", "MCP-Protocol-Version": LIGHT_VERSION}
        return lambda: httpx2.AsyncClient(
            verify=tls if tls is not None else True, headers=headers, limits=httpx2.Limits(max_connections=1)
        )

    def post_call(url: str) -> Callable[[httpx2.AsyncClient], Awaitable[None]]:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "get_record", "arguments": {"record_id": record_id}},
        }

        async def call(http: httpx2.AsyncClient) -> None:
            resp = await http.post(url, json=body, headers={"Accept": "application/json, text/event-stream"})
            assert resp.status_code == 200, resp.text[:300]
            assert '"isError":true' not in resp.text, resp.text[:300]

        return call

    one = f"http://127.0.0.1:{stack.instance_ports[0]}/mcp"
    paths: dict[str, tuple[Callable[[], Any], Callable[[Any], Awaitable[None]]]] = {
        "raw API GET (httpx2)": (raw_opener, raw_call),
        "MCP, one instance, mcp.Client": (mcp_opener(one), mcp_call),
        "MCP, one instance, light client": (post_opener(one), post_call(one)),
    }
    if "nginx" in stack.procs:
        paths["MCP, 2 instances + nginx (TLS), mcp.Client"] = (mcp_opener(stack.url, stack.tls()), mcp_call)
        paths["MCP, 2 instances + nginx (TLS), light client"] = (
            post_opener(stack.url, stack.tls()),
            post_call(stack.url),
        )
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, (opener, call) in paths.items():
            results[name].append(await round_of(opener, clients, calls, call))
    out: dict[str, Any] = {}
    for name, runs in results.items():
        best = max(runs, key=lambda r: r["calls_per_s"])
        out[name] = {
            "calls_per_s_median": statistics.median(r["calls_per_s"] for r in runs),
            "calls_per_s_best": best["calls_per_s"],
            "p50_ms": statistics.median(r["latency"]["median_ms"] for r in runs),
            "p99_ms": statistics.median(r["latency"]["p99_ms"] for r in runs),
        }
    return out


def measure(clients: int = 50, calls: int = 20, rounds: int = 2) -> dict[str, Any]:
    proxy = NGINX is not None and OPENSSL is not None
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp), proxy=proxy) as stack:
        figures = anyio.run(measure_async, stack, clients, calls, rounds)
    return {
        "clients": clients,
        "calls_each": calls,
        "rounds": rounds,
        "paths": figures,
        "proxy": "measured" if proxy else "skipped: nginx or openssl not installed",
    }


def table(result: dict[str, Any]) -> str:
    rows = ["| path | calls/s (median of rounds) | p50 | p99 |", "| --- | --- | --- | --- |"]
    for name, f in result["paths"].items():
        rows.append(
            f"| {name} | {f['calls_per_s_median']:.0f} | {f['p50_ms']:.1f} ms | {f['p99_ms']:.1f} ms |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    result = measure(args.clients, args.calls, args.rounds)
    result["machine"] = {"cores": os.cpu_count(), "python": platform.python_version()}
    result["date"] = time.strftime("%Y-%m-%d", time.gmtime())
    (HERE / "results" / "http_throughput.json").write_text(
        json.dumps(result, indent=2) + "\n", encoding="utf-8"
    )
    print(table(result))


if __name__ == "__main__":
    main()
