"""Time bounds: a cancelled call stops its HTTP work, every tool has a deadline, a running batch never
blocks other calls, and 50 concurrent calls each get their own answer."""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from anyio.abc import SocketStream
from mcp import Client

from runtype_mcp.server import build_server
from tests.conftest import MODES, data, text
from tests.reliability.catalog import TOOLS
from tests.reliability.conftest import Collector
from tests.reliability.harness import World, assert_actionable, mcp_client, sandbox_backend, settings
from tests.stdio_util import server_params

pytestmark = pytest.mark.anyio
AREA = "Cancellation, deadlines and concurrency"


class Hanging:
    """A Runtype that never answers; records when the server abandons each request."""

    def __init__(self) -> None:
        self.started = anyio.Event()
        self.stopped = anyio.Event()
        self.open = 0

    async def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.open += 1
        self.started.set()
        try:
            await anyio.sleep_forever()
        finally:
            self.open -= 1
            self.stopped.set()
        raise AssertionError("unreachable")


@pytest.mark.parametrize("mode", MODES)
async def test_a_cancelled_call_stops_its_http_request_and_the_server_keeps_serving(
    mode: str, log_stream: io.StringIO, report: Collector
) -> None:
    with report.case(AREA, "client cancels call_tool (in-memory)", "HTTP request abandoned; next call ok"):
        hanging = Hanging()
        server = build_server(settings(), transport=httpx2.MockTransport(hanging))
        async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.call_tool, "list_records", {})
                with anyio.fail_after(5):
                    await hanging.started.wait()
                tg.cancel_scope.cancel()
            with anyio.fail_after(5):
                await hanging.stopped.wait()
            after = await client.call_tool("get_record", {"record_id": "a/b"})
        assert hanging.open == 0
        assert after.is_error and "must not contain slashes" in text(after)
        calls = [json.loads(line) for line in log_stream.getvalue().splitlines() if '"tool.call"' in line]
        assert calls[0]["tool"] == "list_records" and calls[0]["outcome"] == "cancelled"


@asynccontextmanager
async def silent_api() -> AsyncIterator[tuple[str, anyio.Event, anyio.Event]]:
    """A loopback 'API' that reads a request, never answers, and notices when the client hangs up."""
    seen, closed = anyio.Event(), anyio.Event()

    async def handle(stream: SocketStream) -> None:
        async with stream:
            await stream.receive()
            seen.set()
            try:
                while True:
                    await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                closed.set()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        try:
            yield f"http://127.0.0.1:{port}", seen, closed
        finally:
            tg.cancel_scope.cancel()
    await listener.aclose()


@pytest.mark.parametrize("mode", MODES)
async def test_a_call_cancelled_over_stdio_closes_the_servers_connection_to_runtype(
    mode: str, report: Collector
) -> None:
    with report.case(AREA, "client cancels call_tool (stdio subprocess)", "connection to the API closed"):
        async with silent_api() as (url, seen, closed):
            params = server_params(RUNTYPE_API_KEY="rt_test_cancel", RUNTYPE_BASE_URL=url)
            async with Client(params, mode=mode) as client:  # type: ignore[arg-type]
                async with anyio.create_task_group() as tg:
                    tg.start_soon(client.call_tool, "list_records", {})
                    with anyio.fail_after(30):
                        await seen.wait()
                    tg.cancel_scope.cancel()
                with anyio.fail_after(10):
                    await closed.wait()
                after = await client.call_tool("get_record", {"record_id": "a/b"})
        assert after.is_error and "must not contain slashes" in text(after)


@pytest.mark.parametrize("tool", list(TOOLS))
async def test_every_tool_stops_at_its_deadline_and_abandons_the_request(
    tool: str, tmp_path: Path, report: Collector
) -> None:
    held = "stopped at RUNTYPE_TOOL_TIMEOUT with an actionable error; request abandoned; no stray files"
    with report.case(AREA, "API never answers: every tool's deadline (0.2 s)", held):
        hanging = Hanging()
        world = World("rel", ["rec_1", "rec_2"], "flow_1", "res_1", "batch_1", tmp_path, "d")
        server = build_server(settings(tool_timeout=0.2), transport=httpx2.MockTransport(hanging))
        async with Client(server) as client:  # type: ignore[arg-type]
            started = time.monotonic()
            with anyio.fail_after(5):
                res = await client.call_tool(tool, TOOLS[tool].args(world))
            took = time.monotonic() - started
        body = assert_actionable(res, tool)
        assert res.is_error and "RUNTYPE_TOOL_TIMEOUT" in body
        assert took < 2
        assert hanging.stopped.is_set() and hanging.open == 0
        assert [p async for p in anyio.Path(tmp_path).iterdir()] == [], "nothing half-written is left"


async def test_a_running_batch_never_blocks_other_calls(report: Collector) -> None:
    with report.case(AREA, "calls while a 1,000-record batch runs", "answered while it ran, each within 2 s"):
        async with sandbox_backend(inline_limit=10) as be:
            csv = "name,n\n" + "".join(f"lead-{i},{i}\n" for i in range(1000))
            await be.direct.post(
                "/v1/records/upload-csv",
                files={"file": ("l.csv", csv.encode(), "text/csv")},
                data={"nameColumn": "name", "typeValue": "lead"},
            )
            steps = [
                {**step, "order": i + 1, "name": f"t{i}"}
                for i, step in enumerate(
                    [
                        {
                            "type": "template",
                            "config": {"template": "hi {{_record.name}}", "outputVariable": "g"},
                        }
                    ]
                    * 5
                )
            ]
            flow = (await be.direct.post("/v1/flows", json={"name": "slow", "steps": steps})).json()
            async with mcp_client(be) as client:
                run = data(
                    await client.call_tool(
                        "run_flow_on_record_type", {"flow_id": flow["id"], "record_type": "lead"}
                    )
                )
                latencies: list[float] = []
                during: list[float] = []
                with anyio.fail_after(60):
                    while True:
                        started = time.monotonic()
                        with anyio.fail_after(2.0):
                            listed = await client.call_tool("list_records", {"type": "lead", "limit": 5})
                            status = data(
                                await client.call_tool("get_batch_status", {"batch_id": run["batch_id"]})
                            )
                        latencies.append(time.monotonic() - started)
                        assert not listed.is_error
                        if status["status"] in ("completed", "failed"):
                            break
                        during.append(latencies[-1])
        assert run["status"] == "scheduled"
        assert status["status"] == "completed" and status["processed"] == 1000
        assert len(during) >= 3, "calls were answered while the batch was still running"
        assert max(latencies) < 2.0


@pytest.mark.parametrize("mode", MODES)
async def test_fifty_concurrent_calls_each_get_their_own_answer(mode: str, report: Collector) -> None:
    with report.case(
        AREA, "50 concurrent creates, then 50 concurrent reads", "every result matches its call"
    ):
        async with sandbox_backend() as be, mcp_client(be, mode) as client:
            created: dict[int, Any] = {}
            fetched: dict[int, Any] = {}

            async def create(i: int) -> None:
                args = {"name": f"c-{i}", "type": "conc", "metadata": {"i": i, "tag": "x" * i}}
                created[i] = await client.call_tool("create_record", args)

            async def fetch(i: int) -> None:
                rid = data(created[i])["record"]["id"]
                fetched[i] = await client.call_tool("get_record", {"record_id": rid})

            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    for i in range(50):
                        tg.start_soon(create, i)
                async with anyio.create_task_group() as tg:
                    for i in range(50):
                        tg.start_soon(fetch, i)
            count = len(
                (await be.direct.get("/v1/records", params={"type": "conc", "limit": 100})).json()["data"]
            )
        for i in range(50):
            rec = data(created[i])["record"]
            got = data(fetched[i])
            assert rec["name"] == got["name"] == f"c-{i}"
            assert got["metadata"] == {"i": i, "tag": "x" * i}
        assert count == 50
