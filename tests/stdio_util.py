"""Helpers to run the real `python -m runtype_mcp` subprocess over stdio."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from typing import Any

from mcp import StdioServerParameters


def server_params(*args: str, **env: str) -> StdioServerParameters:
    base = {"RUNTYPE_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}
    if "COVERAGE_PROCESS_START" in os.environ:
        base["COVERAGE_PROCESS_START"] = os.environ["COVERAGE_PROCESS_START"]
    return StdioServerParameters(
        command=sys.executable, args=["-m", "runtype_mcp", *args], env={**base, **env}
    )


def raw_exchange(
    messages: list[dict[str, Any]], *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[list[str], str]:
    """Send newline-delimited JSON-RPC, read until every request has its reply, then close stdin.

    Returns (stdout lines, stderr)."""
    proc_env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTYPE_")}
    proc_env.update(env or {})
    want = {m["id"] for m in messages if "id" in m}
    with tempfile.TemporaryFile(mode="w+") as err_file:  # a file: a chatty stderr never blocks the child
        return _exchange(messages, args, proc_env, want, err_file, timeout)


def _exchange(
    messages: list[dict[str, Any]],
    args: tuple[str, ...],
    proc_env: dict[str, str],
    want: set[Any],
    err_file: Any,
    timeout: float,
) -> tuple[list[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtype_mcp", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=err_file,
        text=True,
        env=proc_env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    lines: list[str] = []
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        for message in messages:
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
        while want:
            line = proc.stdout.readline()
            if not line:
                break
            if line.strip():
                lines.append(line.rstrip("\n"))
                with contextlib.suppress(ValueError):
                    want.discard(json.loads(line).get("id"))
        proc.stdin.close()
        rest = proc.stdout.read()
        proc.wait(timeout=timeout)
    finally:
        timer.cancel()
        proc.stdout.close()
    err_file.seek(0)
    stderr: str = err_file.read()
    lines += [line for line in rest.splitlines() if line.strip()]
    return lines, stderr
