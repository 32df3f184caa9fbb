"""Cold start: process spawn -> `tools/list` answered over stdio, ours vs a one-tool MCPServer.

Runs both alternately in one session and reports medians and the ratio.
    python bench/cold_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MESSAGES = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize",
     "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]  # fmt: skip
PAYLOAD = "".join(json.dumps(m) + "\n" for m in MESSAGES)


def once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    if proc.stdin is None or proc.stdout is None:
        raise RuntimeError("no pipes")
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
    return elapsed


def measure(runs: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTYPE_")}
    env["RUNTYPE_LOG_LEVEL"] = "WARNING"
    ours_cmd = [sys.executable, "-m", "runtype_mcp"]
    floor_cmd = [sys.executable, str(HERE / "floor_server.py")]
    once(ours_cmd, env), once(floor_cmd, env)  # warm the OS file cache
    ours, floor = [], []
    for _ in range(runs):
        ours.append(once(ours_cmd, env))
        floor.append(once(floor_cmd, env))
    o, f = statistics.median(ours), statistics.median(floor)
    return {"ours_ms": o * 1000, "floor_ms": f * 1000, "ratio": o / f}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    r = measure(parser.parse_args().runs)
    print(
        f"cold start to tools/list: runtype-mcp {r['ours_ms']:.0f} ms, one-tool MCPServer {r['floor_ms']:.0f} ms, ratio {r['ratio']:.3f}"
    )


if __name__ == "__main__":
    main()
