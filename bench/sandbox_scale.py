"""How the sandbox holds up at scale: seed N records, then time the read paths a model leans on.

    python bench/sandbox_scale.py [--records 100000] [--repeat 5] [--db PATH]

Records are bulk-inserted straight through the store (not over HTTP). Every timed call goes through
the real ASGI app; the CSV export is consumed chunk by chunk from the app without buffering, so the
peak RSS reflects the sandbox's own memory use. Prints a Markdown table of medians.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import anyio
import httpx2

from runtype_mcp.sandbox import Sandbox
from runtype_mcp.sandbox.ids import new_id
from runtype_mcp.sandbox.records_store import insert_many

TYPES = (("customer", 0.5), ("lead", 0.25), ("support_ticket", 0.2), ("note", 0.05))
TIERS = ("bronze", "silver", "gold", "platinum")
CITIES = ("Paris", "Lyon", "Berlin", "Madrid", "Oslo", "Lisbon", "Rome", "Vienna")
WHERE = {
    "op": "and",
    "conditions": [
        {"field": "tier", "op": "eq", "value": "gold"},
        {"field": "score", "op": "gte", "value": 50},
    ],
}


def rows(count: int, seed: int = 7) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """Deterministic records, generated lazily so seeding does not inflate the peak RSS."""
    rng = random.Random(seed)
    kinds = rng.choices([kind for kind, _ in TYPES], weights=[weight for _, weight in TYPES], k=count)
    for index, kind in enumerate(kinds):
        metadata = {
            "tier": rng.choice(TIERS),
            "score": rng.randint(0, 100),
            "city": rng.choice(CITIES),
            "email": f"user{index}@example.com",
            "active": rng.random() < 0.7,
            "notes": "Lorem ipsum dolor sit amet " * rng.randint(1, 8),
        }
        yield new_id("rec"), kind, f"{kind}-{index:07d}", metadata


def peak_rss_mb() -> float:
    kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return kilobytes / (1024 * 1024) if sys.platform == "darwin" else kilobytes / 1024


async def export_rows(sandbox: Sandbox, query: str) -> int:
    """Drive GET /v1/records/export at the ASGI level, counting lines as chunks arrive."""
    lines = 0
    status = 0
    requested = False
    finished = anyio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()  # like a client that stays connected until the body ends
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal lines, status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            lines += message.get("body", b"").count(b"\n")
            if not message.get("more_body", False):
                finished.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/records/export",
        "raw_path": b"/v1/records/export",
        "query_string": query.encode(),
        "headers": [(b"host", b"sandbox")],
        "client": ("127.0.0.1", 1),
        "server": ("sandbox", 80),
    }
    await sandbox.app(scope, receive, send)
    assert status == 200, status
    assert finished.is_set()
    return lines - 1  # minus the header; values never contain raw newlines here


async def timed(repeat: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    durations = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await call()
        durations.append((time.perf_counter() - started) * 1000)
    return statistics.median(durations), result


async def main(records: int, repeat: int, db_path: Path) -> None:
    sandbox = Sandbox(db_path, seed=False)
    async with sandbox.running():
        started = time.perf_counter()
        sandbox.db.call_write(lambda conn: insert_many(conn, rows(records)))
        seeded_s = time.perf_counter() - started
        transport = httpx2.ASGITransport(app=sandbox.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox", timeout=600) as client:

            async def get(path: str, **params: Any) -> Any:
                response = await client.get(path, params=params)
                assert response.status_code == 200, response.text
                return response.json()

            async def post(path: str, body: dict[str, Any]) -> Any:
                response = await client.post(path, json=body)
                assert response.status_code == 200, response.text
                return response.json()

            record_filter = json.dumps({"type": "customer", "where": WHERE})
            cases: list[tuple[str, Callable[[], Awaitable[Any]], Callable[[Any], str]]] = [
                (
                    "list first page (limit 20)",
                    lambda: get("/v1/records"),
                    lambda r: f"{len(r['data'])} rows",
                ),
                (
                    "list type=customer (limit 100)",
                    lambda: get("/v1/records", type="customer", limit=100),
                    lambda r: f"{len(r['data'])} rows",
                ),
                (
                    "list page 2 via cursor",
                    lambda: cursor_page(get),
                    lambda r: f"{len(r['data'])} rows",
                ),
                (
                    "list with includeCount",
                    lambda: get("/v1/records", type="customer", includeCount="true"),
                    lambda r: f"total {r['pagination']['totalCount']}",
                ),
                (
                    "list with recordFilter",
                    lambda: get("/v1/records", recordFilter=record_filter, limit=100),
                    lambda r: f"{len(r['data'])} rows",
                ),
                (
                    "preview-filter",
                    lambda: post("/v1/records/preview-filter", {"type": "customer", "where": WHERE}),
                    lambda r: f"matched {r['matchedCount']}",
                ),
                (
                    "field-values tier",
                    lambda: get("/v1/records/field-values", type="customer", field="tier"),
                    lambda r: f"{len(r['values'])} values",
                ),
                (
                    "schema (sample 100)",
                    lambda: get("/v1/records/schema", type="customer"),
                    lambda r: f"{len(r['fields'])} fields",
                ),
                (
                    "export type=customer (streamed)",
                    lambda: export_rows(sandbox, "type=customer"),
                    lambda r: f"{r} rows",
                ),
            ]
            print(f"Seeded {records:,} records in {seeded_s:.1f} s ({db_path})\n")
            print("| operation | median ms | result |")
            print("| --- | ---: | --- |")
            for label, call, describe in cases:
                median, result = await timed(repeat, call)
                print(f"| {label} | {median:.1f} | {describe(result)} |")
    print(f"\nPeak RSS: {peak_rss_mb():.0f} MB (repeat={repeat})")


async def cursor_page(get: Callable[..., Awaitable[Any]]) -> Any:
    first = await get("/v1/records", type="customer", limit=100)
    return await get("/v1/records", type="customer", limit=100, cursor=first["pagination"]["nextCursor"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (default: a temporary file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        anyio.run(main, args.records, args.repeat, args.db or Path(scratch) / "bench.sqlite3")
