"""Real waits and real sockets: Retry-After is honoured, per-request timeouts fire on a loopback
server that is too slow, and a peer that drops or refuses connections yields a clear error."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import anyio
import pytest
import uvicorn
from anyio.abc import SocketStream
from mcp import Client
from starlette.types import ASGIApp, Receive, Scope, Send

from runtype_mcp.sandbox import Fault, Sandbox
from runtype_mcp.server import build_server
from tests.conftest import data
from tests.fakes import API_KEY
from tests.reliability.conftest import Collector
from tests.reliability.harness import assert_actionable, mcp_client, sandbox_backend, settings

pytestmark = pytest.mark.anyio
AREA = "Retry-After waits and real loopback sockets"


@pytest.mark.parametrize(
    ("label", "retry_after"),
    [
        ("seconds", lambda: "1"),
        ("HTTP-date", lambda: format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)),
    ],
)
async def test_a_read_waits_out_retry_after_within_the_bound_then_succeeds(
    label: str, retry_after: Any, report: Collector
) -> None:
    with report.case(AREA, f"429 with Retry-After as {label} (real wait)", "waited as told, then recovered"):
        async with sandbox_backend() as be:
            rec = (await be.direct.post("/v1/records", json={"name": "a", "type": "t"})).json()
            assert be.sandbox is not None
            be.sandbox.faults.add(
                [Fault(method="GET", path=r"^/v1/records/[^/]+$", status=429, retry_after=retry_after())]
            )
            async with mcp_client(be, max_retry_wait=4.0) as client:
                started = time.monotonic()
                with anyio.fail_after(10):
                    out = data(await client.call_tool("get_record", {"record_id": rec["id"]}))
                waited = time.monotonic() - started
        assert out["id"] == rec["id"]
        assert waited >= 0.9, f"retried after {waited:.2f} s, before Retry-After"


class LateWatch:
    """Counts POST /v1/records the sandbox finished handling, including ones whose client gave up."""

    def __init__(self, app: ASGIApp, expected: int) -> None:
        self.app, self.finished, self.expected = app, 0, expected
        self.all_done = anyio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/records":
            self.finished += 1
            if self.finished >= self.expected:
                self.all_done.set()


@asynccontextmanager
async def served(app: ASGIApp) -> AsyncIterator[str]:
    """`app` behind uvicorn on a free 127.0.0.1 port, for as long as the block runs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        with anyio.fail_after(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event; bounded above
                await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
    sock.close()


async def test_slow_answers_past_runtype_timeout_are_retried_for_reads_and_never_duplicate_a_create(
    report: Collector,
) -> None:
    held = "read retried after the timeout; the late create was found, not duplicated"
    with report.case(AREA, "answer slower than RUNTYPE_TIMEOUT on a real socket", held):
        sandbox = Sandbox(":memory:", api_key=API_KEY, seed=False)
        watch = LateWatch(sandbox.app, expected=3)  # the first create, the timed-out one, the resend
        async with sandbox.running(), served(watch) as url:
            server = build_server(settings(base_url=url, timeout=0.3, tool_timeout=10))
            async with Client(server) as client:  # type: ignore[arg-type]
                rec = data(await client.call_tool("create_record", {"name": "a", "type": "t"}))["record"]
                sandbox.faults.add(
                    [
                        Fault(method="GET", path=r"^/v1/records/[^/]+$", status=0, delay_s=1.0),
                        Fault(method="POST", path=r"^/v1/records$", status=0, delay_s=1.0),
                    ]
                )
                got = data(await client.call_tool("get_record", {"record_id": rec["id"]}))
                created = await client.call_tool("create_record", {"name": "late", "type": "t"})
                with anyio.fail_after(10):
                    await watch.all_done.wait()
                listed = data(await client.call_tool("list_records", {"type": "t", "limit": 100}))
        assert got["id"] == rec["id"]
        assert_actionable(created, "create_record")
        assert not created.is_error, "the lookup found nothing yet, so one resend was safe"
        names = [r["name"] for r in listed["records"]]
        assert names.count("late") == 1, names


@asynccontextmanager
async def rude_peer() -> AsyncIterator[str]:
    """A loopback server that reads the request and hangs up without answering."""

    async def hang_up(stream: SocketStream) -> None:
        async with stream:
            await stream.receive()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, hang_up)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            tg.cancel_scope.cancel()
    await listener.aclose()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("peer", ["hangs up", "refuses"])
@pytest.mark.parametrize("tool", ["get_record", "create_record", "run_flow"])
async def test_a_peer_that_hangs_up_or_refuses_gets_a_clear_error(
    peer: str, tool: str, report: Collector
) -> None:
    args = {
        "get_record": {"record_id": "rec_1"},
        "create_record": {"name": "a", "type": "t"},
        "run_flow": {"flow_id": "flow_1", "record_id": "rec_1"},
    }[tool]
    held = "actionable error: reads retried, writes say how to check, nothing private"
    with report.case(AREA, f"loopback peer {peer} (3 tools)", held):
        if peer == "hangs up":
            async with rude_peer() as url:
                res = await _call(url, tool, args)
        else:
            res = await _call(f"http://127.0.0.1:{_closed_port()}", tool, args)
        body = assert_actionable(res, tool)
        assert res.is_error and "could not be reached" in body
        if tool == "get_record":
            assert "after 3 attempts" in body and "safe to repeat" in body
        else:
            assert "may or may not have happened" in body or "did not happen" in body


async def _call(url: str, tool: str, args: dict[str, Any]) -> Any:
    import stamina

    server = build_server(settings(base_url=url, timeout=2))
    with stamina.set_testing(True, attempts=10, cap=True):
        async with Client(server) as client:  # type: ignore[arg-type]
            with anyio.fail_after(15):
                return await client.call_tool(tool, args)
