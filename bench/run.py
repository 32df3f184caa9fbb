"""Run the runtype-mcp benchmarks and print a Markdown summary; results go to bench/results/latest.json.

    python bench/run.py                       # everything (~3-5 min on 2 cores)
    python bench/run.py --quick               # small N, well under 2 minutes
    python bench/run.py --only cold,context   # parts: cold, calls, context, bulk, alt
    python bench/run.py --summary             # re-print the summary of bench/results/latest.json

Everything runs offline against 127.0.0.1. Part `alt` needs bench/.venv-alt (`bash bench/setup_alt.sh`)
and is skipped with a message without it. Parts measured in this run replace the same parts in
latest.json; the others are kept, each with its own date and mode.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bench modules import each other by name

PARTS = ("cold", "calls", "context", "bulk", "alt")
RESULTS = HERE / "results" / "latest.json"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+uncommitted src changes" if dirty else "")


def machine() -> dict[str, Any]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "packages": {n: version(n) for n in ("runtype-mcp", "mcp", "httpx2", "pydantic", "uvicorn")},
        "revision": git_revision(),
    }


def part_runners(quick: bool) -> dict[str, Callable[[], dict[str, Any]]]:
    import alt
    import bulk
    import calls
    import cold_start
    import context

    def cold() -> dict[str, Any]:
        out = cold_start.measure(5 if quick else 21)
        out["phases"] = cold_start.phases(2 if quick else 5)
        out["importtime"] = cold_start.importtime(1 if quick else 3)
        return out

    return {
        "cold": cold,
        "calls": lambda: calls.measure(
            calls=150 if quick else 1000, rounds=2 if quick else 8, per_task=2 if quick else 4
        ),
        "context": context.measure,
        "bulk": lambda: bulk.measure(quick=quick),
        "alt": lambda: alt.measure(calls=60 if quick else 300),
    }


# ---------------------------------------------------------------- summary


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value}{unit}"


def summarize(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str]] = []  # (measure, figure, target, status)
    parts = results.get("parts", {})

    cold = parts.get("cold", {}).get("result")
    if cold:
        rows.append(
            (
                "Cold start, spawn to `tools/list` (median)",
                f"{_fmt(cold['ours_median_ms'], ' ms', 0)} vs one-tool MCPServer {_fmt(cold['floor_median_ms'], ' ms', 0)}"
                f" = ratio **{cold['ratio']:.2f}**",
                "ratio <= 1.10",
                _met(cold["ratio"] <= 1.10),
            )
        )

    call = parts.get("calls", {}).get("result")
    if call:
        lat = call["latency"]
        raw = lat["raw httpx2 GET"]
        for name, entry in lat.items():
            if name == "raw httpx2 GET":
                continue
            if "added_median_ms" not in entry:
                rows.append(
                    (
                        name,
                        f"median {_fmt(entry['median_ms'], ' ms', 2)}, p99 {_fmt(entry['p99_ms'], ' ms', 2)}",
                        "-",
                        "-",
                    )
                )
                continue
            rows.append(
                (
                    f"`get_record`, {name}",
                    f"median {_fmt(entry['median_ms'], ' ms', 2)}, p99 {_fmt(entry['p99_ms'], ' ms', 2)}; raw httpx2 "
                    f"median {_fmt(raw['median_ms'], ' ms', 2)}, p99 {_fmt(raw['p99_ms'], ' ms', 2)}; "
                    f"added **{_fmt(entry['added_median_ms'], ' ms', 2)}** median",
                    "added <= 1.5 ms",
                    _met(entry["added_median_ms"] <= 1.5),
                )
            )
        split = call.get("where_the_time_goes")
        if split:
            rows.append(
                (
                    "Where the added time goes (server's own `tool.call` duration)",
                    f"stdio + JSON-RPC + SDK dispatch {_fmt(split['transport_and_sdk_ms'], ' ms', 2)}; tool body beyond "
                    f"the HTTP GET {_fmt(split['tool_body_beyond_http_ms'], ' ms', 2)}",
                    "-",
                    "-",
                )
            )
        tp = call["throughput"]
        mcp_tp = tp["paths"]["MCP stdio (one session)"]
        raw_tp = tp["paths"]["raw httpx2 GET"]
        rows.append(
            (
                f"Throughput, {tp['concurrency']} concurrent `get_record`",
                f"MCP (one stdio session) {_fmt(mcp_tp['calls_per_s'], ' calls/s', 0)} vs raw httpx2 "
                f"{_fmt(raw_tp['calls_per_s'], ' calls/s', 0)} = {tp['mcp_vs_raw_ratio']:.2f}x",
                "-",
                "-",
            )
        )

    ctx = parts.get("context", {}).get("result")
    if ctx:
        for label, entry in ctx["tools_list"].items():
            visible = entry["model_visible"]
            rows.append(
                (
                    f"`tools/list`, {label} ({entry['tools']} tools)",
                    f"model-visible {_fmt(visible['chars'])} chars = **{_fmt(visible['tokens'])} tokens**; "
                    f"full wire {_fmt(entry['full']['tokens'])} tokens",
                    "<= 6,000 tokens" if label == "full surface" else "-",
                    _met(visible["tokens"] <= 6000) if label == "full surface" else "-",
                )
            )
        listed = ctx["list_records_50"]
        rows.append(
            (
                "`list_records`, 50 rows (compact, what the model reads)",
                f"**{_fmt(listed['list_records_compact']['tokens'])} tokens** vs the same 50 records in full "
                f"(API `view=full`) {_fmt(listed['api_view_full_50']['tokens'])} tokens "
                f"({listed['ratio_compact_vs_full']:.2f}x)",
                "<= 2,500 tokens",
                _met(listed["list_records_compact"]["tokens"] <= 2500),
            )
        )
        if fence := listed.get("boundary_cost"):
            big, small = fence["list_records_50"], fence["get_record"]
            rows.append(
                (
                    "Untrusted-data boundary, per answer (text vs the same object as plain JSON)",
                    f"**{big['chars']} chars (~{big['tokens']} tokens)**: {big['share']:.1%} of the 50-row list; "
                    f"{small['chars']} chars = {small['share']:.1%} of one `get_record` ({small['answer_chars']} chars)",
                    "one boundary per answer",
                    "met" if big["chars"] < 100 and small["chars"] < 100 else "**missed**",
                )
            )

    bulk = parts.get("bulk", {}).get("result")
    if bulk:
        for label, entry in bulk["list_by_filter"].items():
            if isinstance(entry, dict):
                rows.append(
                    (
                        f"{bulk['records']:,} records: {label}",
                        f"MCP {_fmt(entry['mcp_median_ms'], ' ms')} vs raw {_fmt(entry['raw_median_ms'], ' ms')} (median)",
                        "-",
                        "-",
                    )
                )
            else:
                rows.append((f"{bulk['records']:,} records: {label}", str(entry), "-", "pending"))
        export = bulk["export_csv"]
        for label, entry in export.items():
            if not isinstance(entry, dict):
                continue
            if "status" in entry:
                rows.append((f"`export_records_csv`, {label}", entry["status"], "-", "pending"))
                continue
            rows.append(
                (
                    f"`export_records_csv`, {label}",
                    f"{_fmt(entry['rows'])} rows, {_fmt(entry['bytes'] / 1e6, ' MB')} in {_fmt(entry['seconds'], ' s', 2)}; "
                    f"server peak RSS {_fmt(entry['server_peak_rss_mb_after'], ' MB')}",
                    "< 150 MB, flat",
                    _met(
                        entry["server_peak_rss_mb_after"] is not None
                        and entry["server_peak_rss_mb_after"] < bulk["rss_limit_mb"]
                    ),
                )
            )
        if "peak_rss_growth_mb" in export:
            rows.append(
                (
                    "Export peak RSS growth, small vs all rows",
                    f"{_fmt(export['peak_rss_growth_mb'], ' MB')}",
                    "does not grow",
                    _met(export["peak_rss_growth_mb"] < 5),
                )
            )
        up = bulk["upload_csv"]
        if "seconds" in up:
            rows.append(
                (
                    f"`upload_records_csv`, {up['rows']:,}-row CSV ({_fmt(up['csv_bytes'] / 1e6, ' MB')})",
                    f"{_fmt(up['seconds'], ' s', 2)} ({_fmt(up['rows_per_s'], ' rows/s')}), created {_fmt(up['created'])}, "
                    f"errors {_fmt(up['errors'])}; server peak RSS {_fmt(up['server_peak_rss_mb_after'], ' MB')}",
                    "-",
                    "-",
                )
            )
        else:
            rows.append(("`upload_records_csv`", str(up.get("status", up)), "-", "pending"))
        flow = bulk["flow_run_202"]
        if "total_s" in flow:
            rows.append(
                (
                    f"`run_flow_on_record_type` on {flow['records']:,} records (202 path)",
                    f"202 after {_fmt(flow['accepted_202_s'], ' s', 2)}, first progress (`get_batch_status`) after "
                    f"{_fmt(flow['first_progress_s'], ' s', 2)}, {flow['status']} in {_fmt(flow['total_s'], ' s')} "
                    f"({_fmt(flow['records_per_s'], ' records/s')}, {flow['failed']} failed)",
                    "-",
                    "-",
                )
            )
        else:
            rows.append(("`run_flow_on_record_type` (202 path)", str(flow.get("status")), "-", "pending"))

    alt = parts.get("alt", {}).get("result")
    if alt and "skipped" in alt:
        rows.append(("Generated OpenAPI server", alt["skipped"], "-", "skipped"))
    elif alt:
        ours_tl, gen_tl = alt["tools_list"]["runtype-mcp"], alt["tools_list"]["generated"]
        lat = alt["get_record_latency"]
        rows.append(
            (
                f"vs {alt['generator']}: tools, `tools/list`",
                f"ours {ours_tl['tools']} tools, {_fmt(ours_tl['model_visible']['tokens'])} tokens model-visible "
                f"({_fmt(ours_tl['full']['tokens'])} full); generated {gen_tl['tools']} tools, "
                f"{_fmt(gen_tl['model_visible']['tokens'])} tokens ({_fmt(gen_tl['full']['tokens'])} full)",
                "-",
                "-",
            )
        )
        rows.append(
            (
                "vs generated: get-record latency (median / p99)",
                f"ours {_fmt(lat['runtype-mcp get_record']['median_ms'], ' ms', 2)} / "
                f"{_fmt(lat['runtype-mcp get_record']['p99_ms'], ' ms', 2)}; generated "
                f"{_fmt(lat['generated getRecord']['median_ms'], ' ms', 2)} / {_fmt(lat['generated getRecord']['p99_ms'], ' ms', 2)}; "
                f"raw {_fmt(lat['raw httpx2 GET']['median_ms'], ' ms', 2)}",
                "-",
                "-",
            )
        )

    lines = ["| measure | figure | target | status |", "| --- | --- | --- | --- |"]
    lines += [f"| {m} | {f} | {t} | {s} |" for m, f, t, s in rows]
    if alt and "error_text" in alt:
        lines += ["", "What the model reads on errors (exact text):", ""]
        for case in alt["error_text"]["runtype-mcp"]:
            lines.append(f"- {case}")
            for server in ("runtype-mcp", "generated"):
                text = alt["error_text"][server][case]["text"].replace("\n", " / ")
                lines.append(f"  - {server}: `{text}`")
    notes = []
    for name, part in parts.items():
        notes.append(f"{name}: {part.get('mode')} run, {part.get('measured_at')}, {part.get('seconds')} s")
        if "error" in part:
            notes.append(f"{name}: FAILED: {part['error']}")
    info = results.get("machine", {})
    header = (
        f"Machine: {info.get('nproc')} cores, {info.get('cpu')}, Python {info.get('python')}, "
        f"{info.get('os')}; runtype-mcp {info.get('packages', {}).get('runtype-mcp')} at {info.get('revision')}"
    )
    return "\n".join([header, "", *lines, "", *(f"- {n}" for n in notes)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {','.join(PARTS)}")
    parser.add_argument("--quick", action="store_true", help="small N: the whole run in under 2 minutes")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="results JSON (default bench/results/latest.json)"
    )
    parser.add_argument("--summary", action="store_true", help="only re-print the summary of --out")
    args = parser.parse_args()

    previous: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    if args.summary:
        print(summarize(previous))
        return
    chosen = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(chosen) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")

    results: dict[str, Any] = {"machine": machine(), "parts": dict(previous.get("parts", {}))}
    runners = part_runners(args.quick)
    mode = "quick" if args.quick else "full"
    started_all = time.perf_counter()
    for name in PARTS:
        if name not in chosen:
            continue
        print(f"== {name} ({mode}) ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        entry: dict[str, Any] = {
            "mode": mode,
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        try:
            entry["result"] = runners[name]()
        except Exception as exc:  # one failing part must not lose the others' figures
            traceback.print_exc()
            entry["error"] = f"{type(exc).__name__}: {exc}"
        entry["seconds"] = round(time.perf_counter() - started, 1)
        results["parts"][name] = entry
        print(f"   {name} done in {entry['seconds']} s", file=sys.stderr, flush=True)
    results["last_run"] = {
        "parts": chosen,
        "mode": mode,
        "seconds": round(time.perf_counter() - started_all, 1),
    }

    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(args.out)
    print(summarize(results))
    print(f"\nFull results: {args.out}")
    failed = [n for n in chosen if "error" in results["parts"][n]]
    if failed:
        raise SystemExit(f"part(s) failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
