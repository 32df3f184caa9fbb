"""Bulk: a sandbox holding 100k records, driven through our MCP server over stdio.

- list by filter (list_records by type, free-text search, preview_record_filter), MCP vs raw httpx2;
- export_records_csv of 10k and of all ~100k rows, each in a fresh server process, with the server's
  peak RSS (VmHWM from /proc/<pid>/status) before and after: it must stay < 150 MB and flat;
- upload_records_csv of a 50k-row CSV file;
- run_flow_on_record_type on a 10k-record type (the 202 path), polling get_batch_status: time to the
  202, to the first progress report and to completion.

The database is seeded in bulk through the store (sandbox_scale's generator), not over HTTP.

    python bench/bulk.py [--quick]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
from common import (
    API_KEY,
    WireSession,
    ours,
    proc_status_kb,
    seed_db,
    served_sandbox,
    server_env,
    structured,
    summary,
    text_of,
    wire_session,
)
from sandbox_scale import WHERE

SMALL_TYPE = "bench_small"
UPLOAD_TYPE = "bench_upload"
RSS_LIMIT_MB = 150
POLL_S = 0.25  # get_batch_status poll interval: fine enough to time the first progress report


@dataclass(frozen=True)
class Sizes:
    total: int  # records seeded (besides the demo seed)
    small: int  # of which of SMALL_TYPE: the "10k" export and the flow run
    upload: int  # rows in the uploaded CSV
    repeat: int  # repeats of each list/filter timing

    @property
    def label(self) -> str:
        return f"{self.total:,} records"


FULL = Sizes(total=100_000, small=10_000, upload=50_000, repeat=9)
QUICK = Sizes(total=20_000, small=2_000, upload=5_000, repeat=3)


def mb(kb: int | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


def needs(tools: set[str], *names: str) -> str | None:
    missing = [n for n in names if n not in tools]
    return f"pending: tool(s) {', '.join(missing)} not in this build's tools/list" if missing else None


async def tool_names(session: WireSession) -> set[str]:
    return {t["name"] for t in (await session.request("tools/list"))["tools"]}


async def timed_pair(
    repeat: int, mcp: Callable[[], Awaitable[Any]], raw: Callable[[], Awaitable[Any]]
) -> dict[str, Any]:
    await mcp(), await raw()  # warm
    a: list[float] = []
    b: list[float] = []
    for i in range(repeat):
        for fn, out in ((mcp, a), (raw, b)) if i % 2 == 0 else ((raw, b), (mcp, a)):
            started = time.perf_counter()
            await fn()
            out.append(time.perf_counter() - started)
    ma, mb_ = summary(a)["median_ms"], summary(b)["median_ms"]
    return {"mcp_median_ms": ma, "raw_median_ms": mb_, "added_ms": round(ma - mb_, 2)}


async def list_by_filter(url: str, http: httpx2.AsyncClient, sizes: Sizes) -> dict[str, Any]:
    async with wire_session(ours(), server_env(url)) as session:
        tools = await tool_names(session)

        def tool(name: str, args: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
            async def call() -> Any:
                return structured(await session.call_tool(name, args))

            return call

        def get(path: str, **params: str) -> Callable[[], Awaitable[Any]]:
            async def call() -> Any:
                response = await http.get(path, params=params)
                response.raise_for_status()
                return response.json()

            return call

        out: dict[str, Any] = {
            "list_records type=customer limit=100": await timed_pair(
                sizes.repeat,
                tool("list_records", {"type": "customer", "limit": 100}),
                get("/records", type="customer", limit="100", view="compact"),
            ),
            "list_records search (full scan)": await timed_pair(
                sizes.repeat,
                tool("list_records", {"search": "user1234@", "limit": 20}),
                get("/records", search="user1234@", limit="20", view="compact"),
            ),
        }
        if "preview_record_filter" in tools:

            async def raw_preview() -> Any:
                response = await http.post(
                    "/records/preview-filter", json={"type": "customer", "where": WHERE}
                )
                response.raise_for_status()
                return response.json()

            row = await timed_pair(
                sizes.repeat,
                tool("preview_record_filter", {"type": "customer", "filter": WHERE}),
                raw_preview,
            )
            row["matched"] = (await tool("preview_record_filter", {"type": "customer", "filter": WHERE})())[
                "matched_count"
            ]
            out["preview_record_filter tier=gold and score>=50"] = row
        else:
            out["preview_record_filter"] = needs(tools, "preview_record_filter")
        return out


async def export(url: str, scratch: Path, label: str, args: dict[str, Any]) -> dict[str, Any]:
    """One export in a fresh server process, so its VmHWM belongs to this export alone."""
    async with wire_session(ours(), server_env(url)) as session:
        tools = await tool_names(session)
        pending = needs(tools, "export_records_csv")
        if pending:
            return {"status": pending}
        before = proc_status_kb(session.pid, "VmHWM")
        path = scratch / f"export-{label}.csv"
        started = time.perf_counter()
        with anyio.fail_after(600):
            result = await session.call_tool(
                "export_records_csv", {"path": str(path), "overwrite": True, **args}
            )
        seconds = time.perf_counter() - started
        after = proc_status_kb(session.pid, "VmHWM")
        data = structured(result)
        size = path.stat().st_size if path.exists() else 0
        path.unlink(missing_ok=True)
    return {
        "rows": data.get("row_count"),
        "bytes": data.get("bytes", size),
        "seconds": round(seconds, 2),
        "rows_per_s": round((data.get("row_count") or 0) / seconds),
        "server_peak_rss_mb_before": mb(before),
        "server_peak_rss_mb_after": mb(after),
        "result_chars": len(text_of(result)),
    }


def write_csv(path: Path, rows: int) -> int:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "tier", "score", "city", "email"])
        tiers, cities = ("bronze", "silver", "gold"), ("Paris", "Oslo", "Rome", "Lyon")
        for i in range(rows):
            writer.writerow([f"upload-{i:06d}", tiers[i % 3], i % 101, cities[i % 4], f"u{i}@example.com"])
    return path.stat().st_size


async def upload(url: str, http: httpx2.AsyncClient, scratch: Path, rows: int) -> dict[str, Any]:
    async with wire_session(ours(), server_env(url)) as session:
        tools = await tool_names(session)
        pending = needs(tools, "upload_records_csv")
        if pending:
            return {"status": pending}
        path = scratch / "upload.csv"
        size = write_csv(path, rows)
        before = proc_status_kb(session.pid, "VmHWM")
        started = time.perf_counter()
        with anyio.fail_after(600):
            result = await session.call_tool(
                "upload_records_csv", {"path": str(path), "name_column": "name", "type_value": UPLOAD_TYPE}
            )
        seconds = time.perf_counter() - started
        after = proc_status_kb(session.pid, "VmHWM")
    if result.get("isError"):
        return {"rows": rows, "csv_bytes": size, "status": "error", "text": text_of(result)[:500]}
    data = structured(result)
    response = await http.get("/records", params={"type": UPLOAD_TYPE, "limit": "1", "includeCount": "true"})
    stored = response.json().get("pagination", {}).get("totalCount")
    return {
        "rows": rows,
        "csv_bytes": size,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "created": data.get("created"),
        "errors": data.get("errors"),
        "stored_after": stored,
        "server_peak_rss_mb_before": mb(before),
        "server_peak_rss_mb_after": mb(after),
        "result_chars": len(text_of(result)),
    }


FLOW = {
    "name": "bench: greet",
    "steps": [
        {
            "name": "greet",
            "type": "template",
            "config": {"template": "Hello {{_record.name}}", "outputVariable": "g"},
        }
    ],
}


async def flow_run(url: str, records: int, deadline_s: float = 600) -> dict[str, Any]:
    async with wire_session(ours(), server_env(url)) as session:
        tools = await tool_names(session)
        pending = needs(tools, "create_flow", "run_flow_on_record_type", "get_batch_status")
        if pending:
            return {"status": pending}
        flow_id = structured(await session.call_tool("create_flow", FLOW))["id"]
        progress_at: list[float] = []
        started = time.perf_counter()
        session.on_notification = lambda m: (
            progress_at.append(time.perf_counter() - started)
            if m.get("method") == "notifications/progress"
            else None
        )
        run = structured(
            await session.call_tool(
                "run_flow_on_record_type",
                {"flow_id": flow_id, "record_type": SMALL_TYPE},
                progress_token="run",
            )
        )
        accepted_s = time.perf_counter() - started
        if run.get("status") != "scheduled" or not run.get("batch_id"):
            return {"status": f"not scheduled: {json.dumps(run)[:300]}"}
        first_progress_s = None
        polls = 0
        status: dict[str, Any] = {}
        with anyio.fail_after(deadline_s):
            while True:
                status = structured(
                    await session.call_tool("get_batch_status", {"batch_id": run["batch_id"]})
                )
                polls += 1
                if first_progress_s is None and (status.get("processed") or 0) > 0:
                    first_progress_s = time.perf_counter() - started
                if status.get("status") not in ("scheduled", "running", "queued", "pending"):
                    break
                await anyio.sleep(POLL_S)
        total_s = time.perf_counter() - started
    processed = status.get("processed") or 0
    return {
        "records": run.get("record_count"),
        "status": status.get("status"),
        "processed": processed,
        "failed": status.get("failed"),
        "accepted_202_s": round(accepted_s, 3),
        "first_progress_s": None if first_progress_s is None else round(first_progress_s, 2),
        "mcp_progress_notifications": len(progress_at),
        "total_s": round(total_s, 1),
        "records_per_s": round(processed / total_s),
        "polls": polls,
        "poll_interval_s": POLL_S,
    }


async def run_all(url: str, scratch: Path, sizes: Sizes) -> dict[str, Any]:
    async with httpx2.AsyncClient(
        base_url=url + "/v1", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=600
    ) as http:
        out: dict[str, Any] = {"list_by_filter": await list_by_filter(url, http, sizes)}
        small = await export(url, scratch, "small", {"type": SMALL_TYPE})
        everything = await export(url, scratch, "all", {})
        out["export_csv"] = {f"{sizes.small:,} rows": small, f"all (~{sizes.total:,} rows)": everything}
        low, high = small.get("server_peak_rss_mb_after"), everything.get("server_peak_rss_mb_after")
        if isinstance(low, float) and isinstance(high, float):
            out["export_csv"]["peak_rss_growth_mb"] = round(high - low, 1)
            out["export_csv"]["peak_rss_under_limit"] = max(low, high) < RSS_LIMIT_MB
        out["upload_csv"] = await upload(url, http, scratch, sizes.upload)
        out["flow_run_202"] = await flow_run(url, sizes.small)
    return out


def measure(quick: bool = False) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        db = scratch / "bulk.sqlite3"
        seeded_s = seed_db(db, [(SMALL_TYPE, sizes.small), (None, sizes.total - sizes.small)])
        db_mb = round(db.stat().st_size / 1e6, 1)
        with served_sandbox(db) as served:
            out = anyio.run(run_all, served.url, scratch, sizes)
            out["sandbox_peak_rss_mb"] = mb(proc_status_kb(served.pid, "VmHWM"))
    return {
        "records": sizes.total,
        "seeded_s": round(seeded_s, 1),
        "db_mb": db_mb,
        **out,
        "rss_limit_mb": RSS_LIMIT_MB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK.total:,} records instead of {FULL.total:,}"
    )
    args = parser.parse_args()
    print(json.dumps(measure(args.quick), indent=2))


if __name__ == "__main__":
    main()
