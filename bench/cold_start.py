"""Cold start: process spawn -> `tools/list` answered over stdio, ours vs a one-tool MCPServer.

Both servers are started alternately in one session (the machine is noisy); medians and the ratio
come from the same run. `importtime()` runs `python -X importtime` on both and lists what our server
imports beyond the SDK; `phases()` times import, build_server and tools/list inside one fresh process.

    python bench/cold_start.py [--runs 21] [--importtime-runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PY = sys.executable
MESSAGES = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize",
     "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]  # fmt: skip
PAYLOAD = "".join(json.dumps(m) + "\n" for m in MESSAGES)
OURS = [PY, "-m", "runtype_mcp"]
FLOOR = [PY, str(HERE / "floor_server.py")]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTYPE_")}
    env["RUNTYPE_LOG_LEVEL"] = "WARNING"
    return env


def once(cmd: list[str], env: dict[str, str], extra_args: tuple[str, ...] = ()) -> tuple[float, str]:
    """Seconds from spawn to the tools/list reply, and stderr (for -X importtime)."""
    with tempfile.TemporaryFile(mode="w+") as err_file:  # a file: a chatty stderr never blocks the child
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*cmd[:1], *extra_args, *cmd[1:]],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err_file if extra_args else subprocess.DEVNULL,
            text=True,
            env=env,
        )
        if proc.stdin is None or proc.stdout is None:
            raise RuntimeError("no pipes")
        try:
            proc.stdin.write(PAYLOAD)
            proc.stdin.flush()
            while True:
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"{cmd} exited before answering tools/list")
                if json.loads(line).get("id") == 2:
                    break
            elapsed = time.perf_counter() - start
            proc.stdin.close()
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            proc.stdout.close()
        err_file.seek(0)
        return elapsed, err_file.read()


def measure(runs: int) -> dict[str, Any]:
    """Alternate ours and the floor `runs` times each (after one warm-up of each)."""
    env = _env()
    once(OURS, env), once(FLOOR, env)  # warm the OS file cache and .pyc files
    ours, floor = [], []
    for _ in range(runs):
        ours.append(once(OURS, env)[0])
        floor.append(once(FLOOR, env)[0])
    o, f = statistics.median(ours), statistics.median(floor)
    return {
        "runs": runs,
        "ours_median_ms": round(o * 1000, 1),
        "floor_median_ms": round(f * 1000, 1),
        "ours_min_ms": round(min(ours) * 1000, 1),
        "floor_min_ms": round(min(floor) * 1000, 1),
        "ratio": round(o / f, 3),
        "ratio_of_mins": round(min(ours) / min(floor), 3),
        "target_ratio": 1.10,
    }


def _parse_importtime(stderr: str) -> dict[str, tuple[int, int]]:
    """module -> (self us, cumulative us) from `-X importtime` output."""
    out: dict[str, tuple[int, int]] = {}
    for own, cumulative, _, name in _importtime_lines(stderr):
        out[name] = (own, cumulative)
    return out


def _importtime_lines(stderr: str) -> list[tuple[int, int, int, str]]:
    """(self us, cumulative us, nesting depth, module), in the order printed (children before parents)."""
    lines = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, raw = line.split(":", 1)[1].split("|")
        name = raw.strip()
        lines.append((int(own), int(cumulative), len(raw) - len(raw.lstrip()), name))
    return lines


def _ours(module: str) -> bool:
    return module == "runtype_mcp" or module.startswith("runtype_mcp.")


def _extra_roots(stderr: str, extra: set[str]) -> dict[str, int]:
    """Each third-party module in `extra` imported by our code or by the SDK: its self time (us) plus
    that of its descendants also in `extra` (what the import costs beyond what the floor loads)."""
    stack: list[tuple[int, str, int]] = []  # (depth, module, extra us in its subtree)
    roots: dict[str, int] = {}
    for own, _, depth, name in _importtime_lines(stderr):
        children = 0
        while stack and stack[-1][0] > depth:
            _, child, child_us = stack.pop()
            children += child_us
            if child in extra and (name not in extra or _ours(name)) and not _ours(child):
                roots[child] = roots.get(child, 0) + child_us
        stack.append((depth, name, (own if name in extra else 0) + children))
    for _, module, us in stack:
        if module in extra and not _ours(module):
            roots[module] = roots.get(module, 0) + us
    return roots


def importtime(runs: int = 3, top: int = 12) -> dict[str, Any]:
    """Modules our server imports (up to answering tools/list) that the one-tool floor does not."""
    env = _env()
    ours_raw = [once(OURS, env, ("-X", "importtime"))[1] for _ in range(runs)]
    floor_runs = [_parse_importtime(once(FLOOR, env, ("-X", "importtime"))[1]) for _ in range(runs)]
    ours_runs = [_parse_importtime(raw) for raw in ours_raw]
    extra = set().union(*ours_runs) - set().union(*floor_runs)

    def med_self(module: str) -> float:
        return statistics.median(r[module][0] for r in ours_runs if module in r) / 1000

    by_package: dict[str, float] = defaultdict(float)
    own_modules: dict[str, float] = {}
    for module in extra:
        by_package[module.split(".")[0]] += med_self(module)
        if module.startswith("runtype_mcp"):
            own_modules[module] = med_self(module)
    root_runs = [_extra_roots(raw, extra) for raw in ours_raw]
    third_party = {
        root: statistics.median(r.get(root, 0) for r in root_runs) / 1000 for root in set().union(*root_runs)
    }

    def top_of(values: dict[str, float]) -> dict[str, float]:
        return {k: round(v, 1) for k, v in sorted(values.items(), key=lambda kv: -kv[1])[:top]}

    return {
        "extra_modules": len(extra),
        "extra_self_ms": round(sum(by_package.values()), 1),
        "by_package_self_ms": top_of(by_package),
        "third_party_imports_beyond_sdk_ms": top_of(third_party),
        "own_modules_self_ms": top_of(own_modules),
    }


PHASES = """
import json, time
t0 = time.perf_counter()
from mcp.server import MCPServer
t1 = time.perf_counter()
from runtype_mcp.config import Settings
import runtype_mcp.__main__, runtype_mcp.logs
t2 = time.perf_counter()
from runtype_mcp.server import build_server
t3 = time.perf_counter()
server = build_server(Settings())
t4 = time.perf_counter()
import anyio
tools = anyio.run(server.list_tools)
t5 = time.perf_counter()
from runtype_mcp.client import RuntypeClient
http = RuntypeClient.build_http(Settings())  # what the lifespan does before the first message is read
t6 = time.perf_counter()
print(json.dumps({"sdk_import_ms": (t1 - t0) * 1e3, "config_logs_import_ms": (t2 - t1) * 1e3,
                  "server_tools_import_ms": (t3 - t2) * 1e3, "build_server_ms": (t4 - t3) * 1e3,
                  "list_tools_ms": (t5 - t4) * 1e3, "lifespan_http_client_ms": (t6 - t5) * 1e3,
                  "tools": len(tools)}))
"""


def phases(runs: int = 5) -> dict[str, float]:
    """Where our start-up time goes, measured inside one fresh interpreter per run (medians)."""
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [PY, "-c", PHASES], env=_env(), capture_output=True, text=True, timeout=120, check=True
        )
        samples.append(json.loads(out.stdout))
    return {key: round(statistics.median(s[key] for s in samples), 1) for key in samples[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--importtime-runs", type=int, default=3)
    args = parser.parse_args()
    r = measure(args.runs)
    print(
        f"cold start to tools/list: runtype-mcp {r['ours_median_ms']:.0f} ms, one-tool MCPServer "
        f"{r['floor_median_ms']:.0f} ms, ratio {r['ratio']:.3f} (target <= 1.10)"
    )
    print(json.dumps({"phases": phases(), "importtime": importtime(args.importtime_runs)}, indent=2))


if __name__ == "__main__":
    main()
