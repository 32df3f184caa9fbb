"""The names the CLI and server import, and the standalone HTTP server they start."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import anyio
import httpx2
import pytest
from anyio.abc import ByteReceiveStream

pytestmark = pytest.mark.anyio


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_importing_the_package_is_cheap_and_exposes_the_public_names() -> None:
    out = run_python(
        "import sys, runtype_mcp.sandbox as s;"
        "print('starlette' in sys.modules, 'sqlite3' in sys.modules, callable(s.serve), s.default_db_path().name);"
        "from runtype_mcp.sandbox import Fault, Sandbox; print(Sandbox.__name__, Fault().status)"
    )

    assert out.splitlines() == ["False False True sandbox.sqlite3", "Sandbox 503"]


def test_serve_is_the_function_whichever_way_it_is_imported() -> None:
    out = run_python(
        "from runtype_mcp.sandbox.serve import serve as a; from runtype_mcp.sandbox import serve as b;"
        "print(a is b, callable(b))"
    )

    assert out == "True True"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def read_all(stream: ByteReceiveStream | None) -> bytes:
    chunks = []
    if stream is not None:
        async for chunk in stream:
            chunks.append(chunk)
    return b"".join(chunks)


async def test_serve_runs_the_sandbox_over_http_and_logs_only_to_stderr(
    tmp_path: Path, anyio_backend: str
) -> None:
    port = free_port()
    db = tmp_path / "db.sqlite3"
    code = f"from runtype_mcp.sandbox import serve; serve(port={port}, db_path={str(db)!r}, api_key='k')"
    async with await anyio.open_process([sys.executable, "-c", code]) as process:
        try:
            headers = {"Authorization": "Bearer k"}
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
                with anyio.fail_after(20):
                    while True:
                        try:
                            response = await client.get("/v1/records", params={"type": "customer"})
                            break
                        except httpx2.TransportError:
                            await anyio.sleep(0.05)
                wrong_key = await client.get("/v1/records", headers={"Authorization": "Bearer x"})
        finally:
            process.terminate()
        with anyio.fail_after(20):
            stdout, stderr = await read_all(process.stdout), await read_all(process.stderr)
            await process.wait()

    assert response.status_code == 200
    assert len(response.json()["data"]) == 3
    assert wrong_key.status_code == 401
    assert stdout == b""
    assert b"GET /v1/records" in stderr
    assert db.exists()
