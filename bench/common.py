"""Shared pieces of the bench: statistics, a loopback sandbox process, and a raw stdio JSON-RPC client.

Everything here talks to 127.0.0.1 only, and every process it starts is stopped in a `finally`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx2

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
API_KEY = "rt_test_bench"
LEGACY = "2025-11-25"


# ---------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): p99 of 1,000 samples is the 990th smallest."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary(samples_s: Sequence[float]) -> dict[str, float]:
    """Median, p99 and mean in milliseconds of samples given in seconds."""
    ms = [s * 1000 for s in samples_s]
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "min_ms": round(min(ms), 3),
    }


def tokens(chars: int) -> int:
    """The issue's approximation: one token per four characters."""
    return round(chars / 4)


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The parent's environment without RUNTYPE_* (so a developer's key never leaks in), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTYPE_")}
    env.update(extra)
    return env


def server_env(base_url: str | None = None, **extra: str) -> dict[str, str]:
    """Environment for our MCP server: quiet logs, and the loopback sandbox when `base_url` is given."""
    env = {"RUNTYPE_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", **extra}
    if base_url is not None:
        env.update(RUNTYPE_BASE_URL=base_url, RUNTYPE_API_KEY=API_KEY)
    return env


def proc_status_kb(pid: int, key: str) -> int | None:
    """A `/proc/<pid>/status` field in KiB (VmHWM = peak RSS, VmRSS = current RSS); None off Linux."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class Served:
    url: str  # http://127.0.0.1:PORT (the client adds /v1)
    pid: int


@contextlib.contextmanager
def served_sandbox(db_path: Path, *, timeout: float = 60) -> Iterator[Served]:
    """`runtype-mcp sandbox serve` on a free loopback port with a key, in its own process (uvicorn).
    Ready when /openapi.json answers."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [PY, "-m", "runtype_mcp", "sandbox", "serve", "--port", str(port), "--db", str(db_path)],
            env=clean_env(RUNTYPE_API_KEY=API_KEY, RUNTYPE_LOG_LEVEL="WARNING"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                with contextlib.suppress(httpx2.TransportError):
                    if httpx2.get(url + "/openapi.json", timeout=2).status_code == 200:
                        break
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"sandbox serve exited early:\n{log.read().decode()[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError("sandbox serve did not answer within the timeout")
                time.sleep(0.05)  # readiness poll interval, not synchronisation
            yield Served(url=url, pid=proc.pid)
        finally:
            stop(proc)


def seed_db(db_path: Path, groups: Sequence[tuple[str | None, int]], *, seed: int = 7) -> float:
    """Create a sandbox database: the demo seed plus generated records, inserted in bulk.

    `groups` is `(type, count)`; a type of None means sandbox_scale's mix of customer/lead/ticket/note.
    Returns the seconds spent.
    """
    from sandbox_scale import rows  # the sandbox engineer's generator (realistic metadata)

    from runtype_mcp.sandbox import Sandbox
    from runtype_mcp.sandbox.records_store import insert_many

    started = time.perf_counter()

    async def fill() -> None:
        sandbox = Sandbox(db_path, seed=True)
        async with sandbox.running():
            for index, (record_type, count) in enumerate(groups):
                made = rows(count, seed=seed + index)
                if record_type is not None:
                    made = [
                        (rid, record_type, f"{record_type}-{n:07d}", meta)
                        for n, (rid, _, _, meta) in enumerate(made)
                    ]
                sandbox.db.call_write(lambda conn, made=made: insert_many(conn, made))

    anyio.run(fill)
    return time.perf_counter() - started


# ---------------------------------------------------------------- a raw stdio JSON-RPC client


@dataclass
class WireSession:
    """Newline-delimited JSON-RPC to a stdio MCP server, exactly as on the wire (legacy handshake).

    Sequential requests only; notifications that arrive meanwhile are kept in `notifications`.
    """

    process: anyio.abc.Process
    next_id: int = 1
    buffer: bytearray = field(default_factory=bytearray)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    last_raw: str = ""
    on_notification: Callable[[dict[str, Any]], None] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _line(self) -> bytes:
        assert self.process.stdout is not None
        while b"\n" not in self.buffer:
            chunk = await self.process.stdout.receive(1 << 16)
            self.buffer += chunk
        line, _, rest = bytes(self.buffer).partition(b"\n")
        self.buffer = bytearray(rest)
        return line

    async def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send((json.dumps(message) + "\n").encode())

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `result` of one request; raises on a JSON-RPC error. The raw reply line is in `last_raw`."""
        request_id = self.next_id
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        while True:
            raw = await self._line()
            if not raw.strip():
                continue
            reply = json.loads(raw)
            if reply.get("id") == request_id and "method" not in reply:
                self.last_raw = raw.decode()
                if "error" in reply:
                    raise RuntimeError(f"{method}: JSON-RPC error {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result
            self.notifications.append(reply)
            if self.on_notification is not None:
                self.on_notification(reply)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], progress_token: str | int | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name, "arguments": arguments}
        if progress_token is not None:
            params["_meta"] = {"progressToken": progress_token}
        return await self.request("tools/call", params)


@contextlib.asynccontextmanager
async def wire_session(
    command: Sequence[str], env: dict[str, str], stderr: Path | None = None
) -> AsyncIterator[WireSession]:
    """Spawn a stdio MCP server, run the 2025-11-25 handshake, and stop it on exit.

    The server's stderr goes to the file `stderr` if given (for its logs), else nowhere."""
    with contextlib.ExitStack() as files:
        err: Any = files.enter_context(stderr.open("w")) if stderr is not None else subprocess.DEVNULL
        process = await anyio.open_process(list(command), env=clean_env(**env), stderr=err)
    session = WireSession(process)
    try:
        with anyio.fail_after(60):
            await session.request(
                "initialize",
                {
                    "protocolVersion": LEGACY,
                    "capabilities": {},
                    "clientInfo": {"name": "bench", "version": "0"},
                },
            )
            await session.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        yield session
    finally:
        with anyio.CancelScope(shield=True):
            if process.stdin is not None:
                with contextlib.suppress(Exception):
                    await process.stdin.aclose()
            with anyio.move_on_after(10):
                await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()


def ours(*args: str) -> list[str]:
    """The command line of our stdio server."""
    return [PY, "-m", "runtype_mcp", *args]


def text_of(result: dict[str, Any]) -> str:
    """The text a model reads from a tools/call result: its text content blocks, joined."""
    return "\n".join(
        block.get("text", "") for block in result.get("content", []) if block.get("type") == "text"
    )


def structured(result: dict[str, Any]) -> dict[str, Any]:
    """structuredContent of a successful result; raises with the model-visible text on a tool error."""
    if result.get("isError"):
        raise RuntimeError(f"tool error: {text_of(result)[:500]}")
    data = result.get("structuredContent")
    if isinstance(data, dict):
        return data
    return dict(json.loads(text_of(result)))
