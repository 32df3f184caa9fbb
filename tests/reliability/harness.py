"""Shared pieces of the reliability suite.

- Two backends behind the same MCP server: the in-process sandbox over its real HTTP path
  (`httpx2.ASGITransport`, faults from `Sandbox(faults=...)`) and `FakeRuntype` over `MockTransport`
  (transport-level failures: timeouts, resets, failures after the change landed).
- A counting transport, so a test can say how often a request was really sent.
- A prepared `World` (records, a flow, a result, a running batch) for the tools in `catalog.py`.
- The checks every result must pass, whatever went wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx2
from mcp import Client
from mcp.types import CallToolResult

from runtype_mcp.config import Settings
from runtype_mcp.sandbox import Fault, Sandbox
from runtype_mcp.server import build_server
from tests.conftest import text
from tests.fakes import API_KEY, FakeRuntype
from tests.fence import shown as shown_text

BASE_URL = "http://runtype.test"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
BAD_TEXT = ("Error executing tool", "Traceback", "internal error", 'File "')
NEXT_STEP = (
    "call ",
    "Call ",
    "again",
    "retry",
    "check",
    "Check",
    "Fix",
    "fix ",
    "use ",
    "Use ",
    "RUNTYPE_",
    "read the object back",
    "pass ",
)


class CountingTransport(httpx2.AsyncBaseTransport):
    """Logs (method, path) of every request the server sends, then hands it on."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.log: list[tuple[str, str]] = []
        self.raw: list[bytes] = []  # path and query exactly as sent

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.log.append((request.method, request.url.path))
        self.raw.append(request.url.raw_path)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def count(self, method: str, suffix: str, since: int = 0) -> int:
        pattern = re.compile(f"/v1{suffix}")
        return sum(1 for m, p in self.log[since:] if m == method and pattern.fullmatch(p))


@dataclass(frozen=True)
class Injected:
    """One failure, described once for both backends."""

    label: str
    status: int = 503
    retry_after: str | None = None
    body: str | None = None
    delay_s: float = 0.0
    times: int | None = 1
    exc: type[Exception] | None = None  # MockTransport only
    land: bool = False  # MockTransport only: the change happens, then the failure is answered
    recoverable: bool = False  # a call that is retried must succeed
    persistent: bool = False  # every call must fail


@dataclass
class World:
    """What exists before the tool under test runs."""

    record_type: str
    record_ids: list[str]
    flow_id: str
    result_id: str
    batch_id: str
    tmp: Path
    tag: str

    @property
    def record_id(self) -> str:
        return self.record_ids[0]


class WorldFake(FakeRuntype):
    """`FakeRuntype` plus the endpoints of the flow-reference and batch tools (answers shaped as the
    sandbox's), so every tool of the catalogue has a real answer over MockTransport too."""

    EXTRA: tuple[tuple[str, str, str], ...] = (
        ("GET", r"/documentation", "_documentation"),
        ("GET", r"/model-configs/grouped", "_models"),
        ("POST", r"/public/flows/validate", "_validate"),
        ("GET", r"/flow-versions/([^/]+)", "_versions"),
        ("GET", r"/flow-versions/([^/]+)/([^/]+)", "_version"),
        ("POST", r"/batch/flow", "_submit_batch"),
        ("POST", r"/batch/cancel/([^/]+)", "_cancel_batch"),
    )

    def _route(self, request: httpx2.Request, sub: str) -> httpx2.Response:
        raw = request.url.raw_path.decode().split("?")[0][3:]
        for method, pattern, name in self.EXTRA:
            match = re.fullmatch(pattern, raw)
            if method == request.method and match:
                return getattr(self, name)(request, *[unquote(g) for g in match.groups()])  # type: ignore[no-any-return]
        return super()._route(request, sub)

    @staticmethod
    def _json(status: int, body: Any) -> httpx2.Response:
        return httpx2.Response(status, json=body)

    def _documentation(self, request: httpx2.Request) -> httpx2.Response:
        return self._json(200, {"topic": request.url.params.get("topic"), "mimeType": "text/markdown",
                                "content": "# Steps\nprompt, template, set-record."})  # fmt: skip

    def _models(self, request: httpx2.Request) -> httpx2.Response:
        model = {"baseModel": "echo", "displayName": "Echo", "isConfigured": True,
                 "providers": [{"modelId": "echo-1"}], "description": "repeats the prompt"}  # fmt: skip
        return self._json(200, {"data": [model]})

    def _validate(self, request: httpx2.Request) -> httpx2.Response:
        return self._json(200, {"valid": True, "errors": [], "warnings": []})

    def _versions(self, request: httpx2.Request, fid: str) -> httpx2.Response:
        if fid not in self.flows:
            return self._json(404, {"error": "Flow not found"})
        versions = [{"id": f"{fid}_v{n}", "versionNumber": n, "versionType": kind, "stepCount": 1}
                    for n, kind in ((1, "published"), (2, "draft"))]  # fmt: skip
        return self._json(200, {"flowId": fid, "publishedVersionId": f"{fid}_v1", "versions": versions})

    def _version(self, request: httpx2.Request, fid: str, vid: str) -> httpx2.Response:
        if fid not in self.flows:
            return self._json(404, {"error": "Flow not found"})
        steps = self.flows[fid].get("flowSteps") or []
        return self._json(200, {"id": vid, "flowId": fid, "flowConfig": {"steps": steps}})

    def _submit_batch(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if body.get("flowId") not in self.flows:
            return self._json(404, {"error": "Flow not found"})
        return self._json(202, {"batchExecutionId": "batch_2", "status": "scheduled",
                                "recordCount": len(body.get("recordIds") or [])})  # fmt: skip

    def _cancel_batch(self, request: httpx2.Request, bid: str) -> httpx2.Response:
        if bid != "batch_1":
            return self._json(404, {"error": "Batch not found"})
        return self._json(200, {"success": True, "batchId": bid, "status": "cancelled",
                                "processedRecords": 6, "totalRecords": 12})  # fmt: skip


@dataclass
class Backend:
    name: str
    counter: CountingTransport
    direct: httpx2.AsyncClient  # setup and checks; not counted, never faulted
    sandbox: Sandbox | None = None
    fake: FakeRuntype | None = None
    mark: int = 0

    def inject(self, fault: Injected, method: str, suffix: str) -> None:
        if self.sandbox is not None:
            assert fault.exc is None and not fault.land, "the sandbox answers HTTP; use the fake for these"
            self.sandbox.faults.add(
                [
                    Fault(
                        method=method,
                        path=f"^/v1{suffix}$",
                        status=fault.status,
                        retry_after=fault.retry_after,
                        delay_s=fault.delay_s,
                        times=fault.times,
                        body=fault.body,
                    )
                ]
            )
            return
        assert self.fake is not None and fault.delay_s == 0, "delays are a sandbox fault"
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        self.fake.fail(
            method,
            suffix,
            fault.status,
            headers=headers,
            body=fault.body,
            times=99 if fault.times is None else fault.times,
            exc=fault.exc,
            land=fault.land,
        )

    def clear_faults(self) -> None:
        if self.sandbox is not None:
            self.sandbox.faults.replace([])
        if self.fake is not None:
            self.fake.failures.clear()

    def sent(self, method: str, suffix: str) -> int:
        return self.counter.count(method, suffix, self.mark)

    async def records_named(self, record_type: str, name: str) -> int:
        resp = await self.direct.get("/v1/records", params={"type": record_type, "limit": 100})
        assert resp.status_code == 200, resp.text
        return sum(1 for r in resp.json()["data"] if r.get("name") == name)

    async def flows_named(self, name: str) -> int:
        resp = await self.direct.get("/v1/flows", params={"search": name, "limit": 100})
        assert resp.status_code == 200, resp.text
        return sum(1 for f in resp.json()["data"] if f.get("name") == name)

    async def record_exists(self, record_id: str) -> bool:
        return (await self.direct.get(f"/v1/records/{record_id}")).status_code == 200

    async def flow_exists(self, flow_id: str) -> bool:
        return (await self.direct.get(f"/v1/flows/{flow_id}")).status_code == 200


TEMPLATE_STEP = {
    "name": "t",
    "type": "template",
    "order": 1,
    "config": {"template": "hi {{_record.name}}", "outputVariable": "g"},
}


@asynccontextmanager
async def sandbox_backend(**sandbox_kw: Any) -> AsyncIterator[Backend]:
    sandbox = Sandbox(":memory:", api_key=API_KEY, **{"seed": False, "inline_limit": 2, **sandbox_kw})
    async with (
        sandbox.running(),
        httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=sandbox.app), base_url=BASE_URL, headers=AUTH
        ) as direct,
    ):
        yield Backend("sandbox", CountingTransport(httpx2.ASGITransport(app=sandbox.app)), direct, sandbox)


@asynccontextmanager
async def fake_backend() -> AsyncIterator[Backend]:
    fake = WorldFake()
    async with httpx2.AsyncClient(transport=fake.transport(), base_url=BASE_URL, headers=AUTH) as direct:
        yield Backend("fake", CountingTransport(fake.transport()), direct, fake=fake)


async def _post(be: Backend, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = await be.direct.post(path, json=body)
    assert resp.status_code in (200, 201, 202), resp.text
    out: dict[str, Any] = resp.json()
    return out


async def prepare(be: Backend, tmp: Path, tag: str = "t") -> World:
    """Two records of type `rel` (inline runs), three of `relbatch` (a running batch), a flow, a result."""
    ids = []
    for i, (name, tier) in enumerate([("alpha", "gold"), ("beta", "silver")]):
        rec = await _post(
            be, "/v1/records", {"name": name, "type": "rel", "metadata": {"tier": tier, "n": i}}
        )
        ids.append(rec["id"])
    flow = await _post(be, "/v1/flows", {"name": "rel-flow", "steps": [TEMPLATE_STEP]})
    if be.fake is not None:
        be.fake.results[ids[0]] = [
            {"id": "res_1", "status": "completed", "result": "hi alpha", "flowId": flow["id"]}
        ]
        be.fake.step_results.append(
            {"id": "sr_1", "flowId": flow["id"], "recordId": ids[0], "status": "completed", "stepName": "t"}
        )
        return World("rel", ids, flow["id"], "res_1", "batch_1", tmp, tag)
    await _post(
        be,
        "/v1/dispatch",
        {"flow": {"id": flow["id"]}, "record": {"id": ids[0]}, "options": {"streamResponse": False}},
    )
    results = (await be.direct.get(f"/v1/records/{ids[0]}/results")).json()["data"]
    for i in range(3):
        await _post(be, "/v1/records", {"name": f"b{i}", "type": "relbatch", "metadata": {}})
    batch = await _post(be, f"/v1/flows/{flow['id']}/run-on-record-type", {"recordType": "relbatch"})
    return World("rel", ids, flow["id"], results[0]["id"], batch["batchId"], tmp, tag)


def settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {
        "api_key": API_KEY,
        "base_url": BASE_URL,
        "timeout": 5.0,
        "tool_timeout": 15.0,
        "max_retry_wait": 2.0,
        "retry_attempts": 3,
    }
    return Settings(**{**base, **kw})


@asynccontextmanager
async def mcp_client(be: Backend, mode: str = "auto", **settings_kw: Any) -> AsyncIterator[Client]:
    server = build_server(settings(**settings_kw), transport=be.counter)
    async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
        yield client


def assert_actionable(res: CallToolResult, tool: str, *, limit: int = 4000) -> str:
    """Success, or an error the model can act on: names the tool, says the next step, nothing private."""
    body = text(res)
    for bad in BAD_TEXT:
        assert bad not in body, f"{tool}: {bad!r} in {body!r}"
    if res.is_error:
        assert body.strip(), f"{tool}: empty error"
        assert tool in body, f"{tool}: error does not name the tool: {body!r}"
        assert any(cue in body for cue in NEXT_STEP), f"{tool}: error gives no next step: {body!r}"
        assert len(body) <= limit, f"{tool}: error of {len(body)} chars"
    else:
        assert res.structured_content is not None
        shown_text(body)  # one fenced JSON object (+ guidance), or it fails
    return body
