"""Fixtures for the sandbox suite.

`api` runs a test against the in-process sandbox and, when `RUNTYPE_LIVE_API_KEY` is set, against
the live API too (`RUNTYPE_LIVE_BASE_URL`, default https://api.runtype.com). Live cases use unique
names and delete what they create.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import pytest

from runtype_mcp.sandbox import Sandbox
from tests.sandbox.openapi_check import OpenApiChecker

BASE = "http://sandbox"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


CHECKER = OpenApiChecker()


@asynccontextmanager
async def client_for(
    sandbox: Sandbox, *, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx2.AsyncClient]:
    """An HTTP client driving the sandbox app in-process (the caller has entered `running()`).

    Every response is checked against the sandbox's OpenAPI document.
    """
    transport = httpx2.ASGITransport(app=sandbox.app)
    hooks: dict[str, list[Callable[..., Any]]] = {"response": [CHECKER]}
    async with httpx2.AsyncClient(
        transport=transport, base_url=BASE, headers=headers, event_hooks=hooks
    ) as client:
        yield client


@asynccontextmanager
async def serving(sandbox: Sandbox, **kw: Any) -> AsyncIterator[httpx2.AsyncClient]:
    async with sandbox.running(), client_for(sandbox, **kw) as client:
        yield client


@dataclass
class Api:
    """One API under test, with unique names and cleanup of what a test creates."""

    client: httpx2.AsyncClient
    is_sandbox: bool
    sandbox: Sandbox | None = None
    created_records: list[str] = field(default_factory=list)
    created_flows: list[str] = field(default_factory=list)
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    def unique(self, prefix: str) -> str:
        return f"rtmcp_{prefix}_{self.token}"

    def sandbox_only(self, why: str = "a sandbox decision where the API is undocumented") -> None:
        if not self.is_sandbox:
            pytest.skip(why)

    async def create_record(
        self, name: str, record_type: str, metadata: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/v1/records", json={"name": name, "type": record_type, "metadata": metadata or {}}
        )
        assert response.status_code in (200, 201), response.text
        record: dict[str, Any] = response.json()
        self.created_records.append(record["id"])
        return record

    async def create_flow(self, name: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
        response = await self.client.post("/v1/flows", json={"name": name, "steps": steps})
        assert response.status_code in (200, 201), response.text
        flow: dict[str, Any] = response.json()
        self.created_flows.append(flow["id"])
        return flow

    async def cleanup(self) -> None:
        for start in range(0, len(self.created_records), 100):
            chunk = self.created_records[start : start + 100]
            await self.client.post("/v1/records/bulk-delete", json={"ids": chunk})
        for flow_id in self.created_flows:
            await self.client.delete(f"/v1/flows/{flow_id}")


@pytest.fixture(params=["sandbox", pytest.param("live", marks=pytest.mark.live)])
async def api(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncIterator[Api]:
    if request.param == "live":
        key = os.environ.get("RUNTYPE_LIVE_API_KEY")
        if not key:
            pytest.skip("set RUNTYPE_LIVE_API_KEY to run the contract suite against the live API")
        base = os.environ.get("RUNTYPE_LIVE_BASE_URL", "https://api.runtype.com")
        headers = {"Authorization": f"Bearer {key}", "User-Agent": "runtype-mcp-tests"}
        async with httpx2.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
            live = Api(client, is_sandbox=False)
            try:
                yield live
            finally:
                await live.cleanup()
        return
    sandbox = Sandbox()
    async with serving(sandbox) as client:
        yield Api(client, is_sandbox=True, sandbox=sandbox)


@pytest.fixture
async def sb(anyio_backend: str) -> AsyncIterator[tuple[Sandbox, httpx2.AsyncClient]]:
    """A fresh in-memory sandbox (seeded) and a client for it."""
    sandbox = Sandbox()
    async with serving(sandbox) as client:
        yield sandbox, client


async def wait_for(check: Callable[[], Any], seconds: float = 10.0) -> Any:
    """Poll `check` (async) until it returns a truthy value; bounded by `anyio.fail_after`."""
    with anyio.fail_after(seconds):
        while True:
            value = await check()
            if value:
                return value
            await anyio.sleep(0.01)
