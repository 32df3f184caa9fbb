"""`aggregate_records` at scale: 100,000 records grouped by one field, beside the raw export it folds.

    python bench/aggregate.py [--records 100000] [--repeat 3]

Seeds a temporary sandbox file, serves it with `runtype-mcp sandbox serve` on loopback, then times,
alternately:
- the raw export: GET /v1/records/export?type=order streamed to the end with httpx2 (no MCP, nothing
  parsed), and
- `aggregate_records(type=order, group_by=[region], metrics=[count, sum:amount, avg:amount])` called
  over stdio on our server: the same export streamed and folded inside the server.
Memory: the server's peak RSS (VmHWM) in a fresh process after folding 10,000 records, and in another
after folding 100,000 (flat means no growth). Target: <= 5 s for 100,000 records on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
from common import API_KEY, ours, proc_status_kb, served_sandbox, server_env, structured, wire_session

REGIONS = ("eu-west", "eu-north", "us-east", "us-west", "apac", "latam", "mea", "ca")
TARGET_S = 5.0
ARGS = {"group_by": ["region"], "metrics": ["count", "sum:amount", "avg:amount"]}


def mb(kb: int | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


def orders(count: int, kind: str, seed: int) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    from runtype_mcp.sandbox.ids import new_id

    rng = random.Random(seed)
    for index in range(count):
        amount: Any = round(rng.uniform(1, 500), 2) if rng.random() < 0.98 else "n/a"
        metadata = {
            "region": rng.choice(REGIONS),
            "amount": amount,
            "status": rng.choice(("paid", "refunded")),
        }
        yield new_id("rec"), kind, f"{kind}-{index:07d}", metadata


def seed(db: Path, records: int) -> None:
    from runtype_mcp.sandbox import Sandbox
    from runtype_mcp.sandbox.records_store import insert_many

    async def fill() -> None:
        sandbox = Sandbox(db, seed=False)
        async with sandbox.running():
            sandbox.db.call_write(lambda conn: insert_many(conn, orders(records, "order", 11)))
            sandbox.db.call_write(lambda conn: insert_many(conn, orders(records // 10, "order_small", 12)))

    anyio.run(fill)


async def raw_export(url: str) -> tuple[float, int]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx2.AsyncClient(base_url=url, timeout=600, headers=headers) as client:
        started = time.perf_counter()
        size = 0
        async with client.stream("GET", "/v1/records/export", params={"type": "order"}) as resp:
            assert resp.status_code == 200, resp.status_code
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
        return time.perf_counter() - started, size


async def aggregate(url: str, kind: str, repeat: int) -> tuple[list[float], dict[str, Any], float | None]:
    """`repeat` calls in one fresh server process; returns durations, the last answer and its peak RSS."""
    env = server_env(url, RUNTYPE_EXPORT_MAX_ROWS=str(10**7))
    async with wire_session(ours(), env) as session:
        took: list[float] = []
        out: dict[str, Any] = {}
        for _ in range(repeat):
            started = time.perf_counter()
            with anyio.fail_after(600):
                result = await session.call_tool("aggregate_records", {"type": kind, **ARGS})
            took.append(time.perf_counter() - started)
            out = structured(result)
        return took, out, mb(proc_status_kb(session.pid, "VmHWM"))


async def run(url: str, repeat: int) -> dict[str, Any]:
    _, _, rss_small = await aggregate(url, "order_small", 1)
    raw: list[float] = []
    size = 0
    for _ in range(repeat):
        took, size = await raw_export(url)
        raw.append(took)
    agg, out, rss_all = await aggregate(url, "order", repeat)
    return {
        "records": out["scanned"],
        "groups": out["groups"],
        "skipped_non_numeric": out.get("skipped_non_numeric"),
        "export_bytes": size,
        "raw_export_s": round(statistics.median(raw), 2),
        "aggregate_s": round(statistics.median(agg), 2),
        "server_peak_rss_mb_small": rss_small,
        "server_peak_rss_mb_all": rss_all,
        "target_s": TARGET_S,
        "met": statistics.median(agg) <= TARGET_S,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "aggregate.sqlite3"
        seed(db, args.records)
        with served_sandbox(db) as served:
            result = anyio.run(run, served.url, args.repeat)
    print(json.dumps(result, indent=1))
    print(
        f"\n| `aggregate_records`, {result['records']:,} records grouped by one field ({result['groups']} groups) | "
        f"median {result['aggregate_s']:.2f} s vs raw export {result['raw_export_s']:.2f} s "
        f"({result['export_bytes'] / 1e6:.1f} MB); server peak RSS {result['server_peak_rss_mb_small']} MB "
        f"(10,000 records) vs {result['server_peak_rss_mb_all']} MB (100,000) | <= 5 s, flat | "
        f"{'met' if result['met'] else '**missed**'} |"
    )


if __name__ == "__main__":
    main()
