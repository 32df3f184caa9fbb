"""Per-call overhead: `get_record` through our MCP server over stdio vs a raw httpx2 GET of the same endpoint.

Both go to the sandbox served on loopback (`runtype-mcp sandbox serve`). The paths are interleaved call by
call (rotating which goes first), so machine noise hits them alike; the overhead is the difference of
medians measured in the same run. Then throughput: 50 concurrent calls in one stdio session vs 50
concurrent raw GETs on one httpx2 client, alternating rounds.

    python bench/calls.py [--calls 1000] [--rounds 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
from common import (
    API_KEY,
    HERE,
    PY,
    WireSession,
    ours,
    seed_db,
    served_sandbox,
    server_env,
    summary,
    wire_session,
)
from mcp import Client, StdioServerParameters

from runtype_mcp.client.core import segment

CONCURRENCY = 50
FLOOR = "SDK floor: one-tool MCPServer `ping` over stdio, raw JSON-RPC (no HTTP)"
Call = Callable[[], Awaitable[None]]


def raw_client(url: str) -> httpx2.AsyncClient:
    """What the MCP server's own client does, minus MCP: one keep-alive client, bearer key, JSON parse."""
    limits = httpx2.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    return httpx2.AsyncClient(
        base_url=url + "/v1", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60, limits=limits
    )


def mcp_params(url: str) -> StdioServerParameters:
    return StdioServerParameters(command=PY, args=["-m", "runtype_mcp"], env=server_env(url))


async def pick_record(http: httpx2.AsyncClient) -> str:
    response = await http.get("/records", params={"type": "customer", "limit": "1"})
    response.raise_for_status()
    return str(response.json()["data"][0]["id"])


def raw_get(http: httpx2.AsyncClient, record_id: str) -> Call:
    path = f"/records/{segment(record_id, 'record_id')}"

    async def call() -> None:
        response = await http.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"raw GET {response.status_code}")
        response.json()

    return call


def client_get(client: Client, record_id: str) -> Call:
    async def call() -> None:
        result = await client.call_tool("get_record", {"record_id": record_id})
        if result.is_error:
            raise RuntimeError(f"get_record failed: {result.content}")

    return call


def wire_get(session: WireSession, record_id: str) -> Call:
    async def call() -> None:
        result = await session.call_tool("get_record", {"record_id": record_id})
        if result.get("isError"):
            raise RuntimeError(f"get_record failed: {result}")

    return call


def floor_ping(session: WireSession) -> Call:
    """The SDK's own per-call cost: a one-tool MCPServer answering `ping` over stdio, no HTTP at all."""

    async def call() -> None:
        result = await session.call_tool("ping", {})
        if result.get("isError"):
            raise RuntimeError(f"ping failed: {result}")

    return call


async def interleaved(paths: dict[str, Call], calls: int, warmup: int = 30) -> dict[str, list[float]]:
    names = list(paths)
    for name in names:
        for _ in range(warmup):
            await paths[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter
    for i in range(calls):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            started = clock()
            await paths[name]()
            samples[name].append(clock() - started)
    return samples


async def burst(call: Call, per_task: int) -> tuple[float, list[float]]:
    """CONCURRENCY tasks in one task group, each making `per_task` calls: (wall seconds, latencies)."""
    latencies: list[float] = []

    async def worker() -> None:
        for _ in range(per_task):
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(CONCURRENCY):
            tg.start_soon(worker)
    return time.perf_counter() - started, latencies


async def throughput(paths: dict[str, Call], rounds: int, per_task: int) -> dict[str, Any]:
    walls: dict[str, list[float]] = {name: [] for name in paths}
    lat: dict[str, list[float]] = {name: [] for name in paths}
    for call in paths.values():  # warm every connection the pool will use
        await burst(call, 1)
    for i in range(rounds):
        order = list(paths) if i % 2 == 0 else list(reversed(paths))
        for name in order:
            wall, latencies = await burst(paths[name], per_task)
            walls[name].append(wall)
            lat[name].extend(latencies)
    calls_per_round = CONCURRENCY * per_task
    out: dict[str, Any] = {}
    for name in paths:
        out[name] = {
            "calls_per_s": round(calls_per_round / statistics.median(walls[name]), 1),
            "latency_under_load": summary(lat[name]),
        }
    return {"concurrency": CONCURRENCY, "calls_per_round": calls_per_round, "rounds": rounds, "paths": out}


async def decomposition(url: str, http: httpx2.AsyncClient, record_id: str, calls: int) -> dict[str, Any]:
    """Split the added time using the server's own `tool.call` log line (duration inside call_tool).

    client round trip - server duration = stdio framing, JSON-RPC and SDK dispatch (both processes);
    server duration - raw GET = the tool body beyond the HTTP request (our client, shaping, logging).
    Measured in its own session at log level INFO (the level that writes that line)."""
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "server.log"
        env = server_env(url, RUNTYPE_LOG_LEVEL="INFO", RUNTYPE_LOG_FORMAT="json")
        async with wire_session(ours(), env, stderr=log) as session:
            paths = {"wire": wire_get(session, record_id), "raw": raw_get(http, record_id)}
            samples = await interleaved(paths, calls)
        durations = []
        for line in log.read_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "tool.call" and event.get("tool") == "get_record":
                durations.append(float(event["duration_ms"]))
    durations = durations[-calls:]  # the measured calls, after the warm-up
    client_ms = summary(samples["wire"])["median_ms"]
    server_ms = round(statistics.median(durations), 3)
    raw_ms = summary(samples["raw"])["median_ms"]
    return {
        "client_round_trip_median_ms": client_ms,
        "server_call_tool_median_ms": server_ms,
        "raw_get_median_ms": raw_ms,
        "transport_and_sdk_ms": round(client_ms - server_ms, 3),
        "tool_body_beyond_http_ms": round(server_ms - raw_ms, 3),
        "note": "raw JSON-RPC client, 2025-11-25; server at log level INFO",
    }


async def measure_async(url: str, calls: int, rounds: int, per_task: int) -> dict[str, Any]:
    async with raw_client(url) as http:
        record_id = await pick_record(http)
        async with (
            Client(mcp_params(url), mode="auto") as modern,
            Client(mcp_params(url), mode="legacy") as legacy,
            wire_session(ours(), server_env(url)) as wire,
            wire_session([PY, str(HERE / "floor_server.py")], {}) as floor,
        ):
            paths = {
                "raw httpx2 GET": raw_get(http, record_id),
                "MCP stdio, mcp.Client 2026-07-28": client_get(modern, record_id),
                "MCP stdio, mcp.Client 2025-11-25": client_get(legacy, record_id),
                "MCP stdio, raw JSON-RPC 2025-11-25": wire_get(wire, record_id),
                FLOOR: floor_ping(floor),
            }
            samples = await interleaved(paths, calls)
            split = await decomposition(url, http, record_id, max(100, calls // 3))
            tp = await throughput(
                {
                    "raw httpx2 GET": paths["raw httpx2 GET"],
                    "MCP stdio (one session)": paths["MCP stdio, mcp.Client 2026-07-28"],
                },
                rounds,
                per_task,
            )
    base = samples["raw httpx2 GET"]
    latency: dict[str, Any] = {}
    for name, values in samples.items():
        entry: dict[str, Any] = summary(values)
        if name not in ("raw httpx2 GET", FLOOR):
            entry["added_median_ms"] = round(entry["median_ms"] - summary(base)["median_ms"], 3)
            entry["added_paired_median_ms"] = round(
                statistics.median(a - b for a, b in zip(values, base, strict=True)) * 1000, 3
            )
            entry["added_p99_ms"] = round(entry["p99_ms"] - summary(base)["p99_ms"], 3)
        latency[name] = entry
    raw_tp = tp["paths"]["raw httpx2 GET"]["calls_per_s"]
    tp["mcp_vs_raw_ratio"] = round(tp["paths"]["MCP stdio (one session)"]["calls_per_s"] / raw_tp, 3)
    return {
        "calls_per_path": calls,
        "latency": latency,
        "where_the_time_goes": split,
        "throughput": tp,
        "target_added_median_ms": 1.5,
    }


def measure(calls: int = 1000, rounds: int = 8, per_task: int = 4, records: int = 2000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "calls.sqlite3"
        seed_db(db, [(None, records)])
        with served_sandbox(db) as served:
            return anyio.run(measure_async, served.url, calls, rounds, per_task)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    print(json.dumps(measure(args.calls, args.rounds), indent=2))


if __name__ == "__main__":
    main()
