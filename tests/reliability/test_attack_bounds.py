"""Bounded input and no shared client state: a huge or endless upstream body cannot exhaust memory,
and a cookie one caller's upstream set never rides along with another caller's request."""

from __future__ import annotations

import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from runtype_mcp.config import Settings
from runtype_mcp.http_app import build_http_app
from runtype_mcp.server import build_server
from tests.conftest import make_settings, text
from tests.fakes import API_KEY, FakeRuntype
from tests.reliability.conftest import Collector

pytestmark = pytest.mark.anyio
AREA = "Bounded input"
MB = 2**20
CHUNK = 64 * 1024
MEMORY_BOUND = 100 * MB


@dataclass
class Hose:
    """An upstream that answers every request with a JSON body of `size` bytes (None: endless)."""

    size: int | None
    declare_length: bool = False
    status: int = 200
    sent: int = 0  # bytes the upstream actually produced

    async def body(self) -> AsyncIterator[bytes]:
        yield b'{"data":['
        while self.size is None or self.sent < self.size:
            # A fresh object per chunk, as a socket read would give: holding chunks really costs memory.
            chunk = b'{"id":"rec_%09d","name":"' % self.sent + b"x" * (CHUNK - 40) + b'"},'
            self.sent += len(chunk)
            yield chunk
        yield b"{}]}"

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        headers = {"content-type": "application/json"}
        if self.declare_length and self.size is not None:
            headers["content-length"] = str(self.size + 13)
        return httpx2.Response(self.status, headers=headers, content=self.body())


async def _call_measured(hose: Hose, tool: str, args: dict[str, Any], **kw: Any) -> tuple[str, int, float]:
    """The tool's text, the peak memory it cost (traced allocations) and how long it took."""
    server = build_server(make_settings(tool_timeout=60.0, **kw), transport=httpx2.MockTransport(hose.handle))
    async with Client(server) as client:  # type: ignore[arg-type]
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            started = time.monotonic()
            with anyio.fail_after(30):
                res = await client.call_tool(tool, args)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    assert res.is_error
    return text(res), peak, time.monotonic() - started


@pytest.mark.parametrize(
    ("label", "hose"),
    [
        ("a 500 MB body with its Content-Length", Hose(500 * MB, declare_length=True)),
        ("a 500 MB body without a length (chunked)", Hose(500 * MB)),
        ("an endless body", Hose(None)),
    ],
    ids=["500mb-declared", "500mb-chunked", "endless"],
)
async def test_a_huge_or_endless_upstream_body_ends_in_a_clear_error_with_flat_memory(
    label: str, hose: Hose, report: Collector
) -> None:
    held = "clear 'too large, nothing changed, narrow or raise RUNTYPE_MAX_RESPONSE_BYTES' error; memory < 100 MB"
    with report.case(AREA, f"list_records answered with {label}", held):
        body, peak, seconds = await _call_measured(hose, "list_records", {"type": "customer"})
        assert "list_records" in body and "too large" in body and "32 MB" in body
        assert "Nothing was changed" in body and "limit" in body and "RUNTYPE_MAX_RESPONSE_BYTES" in body
        assert "RUNTYPE_TOOL_TIMEOUT" not in body, "stopped by the cap, not by the tool deadline"
        assert peak < MEMORY_BOUND, f"{peak / MB:.0f} MB traced while reading {label}"
        assert seconds < 20, f"took {seconds:.1f} s"
        # Reading stopped at the cap: the upstream was never drained.
        assert hose.sent <= 33 * MB
        if hose.declare_length:
            assert hose.sent <= CHUNK, "a declared length over the cap is refused before reading"


class GzipBomb(Hose):
    """An endless gzip body: a few KB on the wire, unbounded once decompressed."""

    async def body(self) -> AsyncIterator[bytes]:
        packer = zlib.compressobj(1, zlib.DEFLATED, 31)
        yield packer.compress(b'{"data":[{"name":"')
        while True:
            self.sent += 4 * MB  # counted decompressed: what a reader would have to hold
            if out := packer.compress(b"0" * (4 * MB)):
                yield out

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        headers = {"content-type": "application/json", "content-encoding": "gzip"}
        return httpx2.Response(200, headers=headers, content=self.body())


async def test_an_endless_gzip_bomb_is_bounded_by_its_decompressed_size(report: Collector) -> None:
    with report.case(AREA, "list_records answered with an endless gzip body", "clear error; memory < 100 MB"):
        bomb = GzipBomb(None)
        body, peak, seconds = await _call_measured(bomb, "list_records", {})
        assert "too large" in body and "Nothing was changed" in body
        assert peak < MEMORY_BOUND and seconds < 20
        assert bomb.sent <= 48 * MB


async def test_an_endless_answer_to_a_write_says_the_request_was_sent(report: Collector) -> None:
    held = "says the request was sent and how to check before repeating; memory < 100 MB"
    with report.case(AREA, "create_record answered with an endless body", held):
        body, peak, _ = await _call_measured(Hose(None), "create_record", {"name": "a", "type": "customer"})
        assert "too large" in body and "The request was sent" in body and "list_" in body
        assert "Nothing was changed" not in body
        assert peak < MEMORY_BOUND


async def test_an_error_status_with_an_endless_body_keeps_its_meaning(report: Collector) -> None:
    with report.case(AREA, "503 with an endless body", "reported as the server error it is, after retries"):
        hose = Hose(None, status=503)
        body, peak, _ = await _call_measured(hose, "list_records", {}, retry_attempts=2, max_retry_wait=0.5)
        assert "server error (503" in body and "too large" not in body
        assert peak < MEMORY_BOUND


@pytest.mark.parametrize(("size", "ok"), [(900, True), (5000, False)])
async def test_max_response_bytes_is_the_setting_that_bounds_a_body(
    size: int, ok: bool, monkeypatch: pytest.MonkeyPatch, report: Collector
) -> None:
    with report.case(AREA, "RUNTYPE_MAX_RESPONSE_BYTES=1024 and a body under / over it", "honoured exactly"):
        monkeypatch.setenv("RUNTYPE_MAX_RESPONSE_BYTES", "1024")
        assert Settings().max_response_bytes == 1024
        fake = FakeRuntype()
        rec = fake.add_record("customer", "a", {"blob": "x" * (size - 300)})
        server = build_server(make_settings(max_response_bytes=1024), transport=fake.transport())
        async with Client(server) as client:  # type: ignore[arg-type]
            res = await client.call_tool("get_record", {"record_id": rec["id"]})
        assert res.is_error is not ok, text(res)
        if not ok:
            assert "too large (a body over 1024 bytes" in text(res)


async def test_forwarded_keys_share_no_cookie_jar(report: Collector) -> None:
    held = "no request carries a cookie; each carries only its own caller's key"
    with report.case(AREA, "upstream sets a cookie per caller; two forward-key clients interleave", held):
        keys = [f"rt_test_caller_one_{'a' * 20}", f"rt_test_caller_two_{'b' * 20}"]
        seen: list[httpx2.Request] = []

        def upstream(request: httpx2.Request) -> httpx2.Response:
            seen.append(request)
            who = request.headers.get("authorization", "")[-8:]
            return httpx2.Response(
                200,
                json={"data": [], "pagination": {"hasMore": False}},
                headers=[
                    ("set-cookie", f"session={who}; Path=/"),
                    ("set-cookie", f"sid={who}; Domain=runtype.test; Path=/v1"),
                ],
            )

        cfg = make_settings(
            api_key=None,
            mcp_forward_key=True,
            transport="streamable-http",
            base_url="https://api.runtype.test",
        )
        server = build_server(cfg, transport=httpx2.MockTransport(upstream))
        app = build_http_app(server, cfg, "127.0.0.1")
        async with server.session_manager.run():
            for round_ in range(4):
                for key in keys:
                    async with (
                        httpx2.AsyncClient(
                            transport=httpx2.ASGITransport(app=app),
                            base_url="http://127.0.0.1:8000",
                            headers={"Authorization": f"Bearer {key}"},
                        ) as http,
                        Client(
                            streamable_http_client("http://127.0.0.1:8000/mcp", http_client=http)
                        ) as client,
                    ):
                        res = await client.call_tool("list_records", {"limit": 1 + round_})
                        assert not res.is_error, text(res)
        assert len(seen) == 8
        assert [r.headers.get("cookie") for r in seen] == [None] * 8
        assert [r.headers["authorization"] for r in seen] == [f"Bearer {k}" for k in keys] * 4
        assert API_KEY not in str([r.headers for r in seen])
