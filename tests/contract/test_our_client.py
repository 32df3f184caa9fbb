"""Our client against the SDK: what `RuntypeClient` sends is what the SDK defines, and what it reads parses.

Every request goes through an `httpx2.MockTransport` that records it (method, path, query names, body
keys, form fields) and forwards it to an in-process sandbox. Each recorded request must match an
endpoint the SDK's generated client defines, with query names, JSON keys and form fields the SDK's
method sends; each 2xx JSON answer is validated against the SDK's declared type. Separately, each
response model we parse must accept the SDK type's shape with only its required fields.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from runtype_mcp.client import RuntypeClient
from runtype_mcp.client.batches import BatchAPI
from runtype_mcp.client.flows import FlowsAPI
from runtype_mcp.client.records import RecordsAPI
from runtype_mcp.client.records_more import RecordsMoreAPI
from runtype_mcp.errors import Conflict
from runtype_mcp.models import BatchStatus, Flow, Page, Record, RunOnTypeResponse
from runtype_mcp.sandbox import Sandbox
from tests.conftest import make_settings
from tests.contract import sdk_catalog
from tests.contract.conftest import SKIP_REASON, Ledger
from tests.sandbox.conftest import wait_for

pytest.importorskip("runtype", reason=SKIP_REASON)
pytestmark = pytest.mark.anyio

BASE = "http://sandbox.test"


@dataclass
class Sent:
    method: str
    path: str
    query: set[str]
    body: dict[str, Any] | None
    form: set[str]
    status: int = 0
    answer: Any = None


def _form_names(request: httpx2.Request) -> set[str]:
    return {name.decode() for name in re.findall(rb'; name="([^"]+)"', request.content)}


@asynccontextmanager
async def capturing() -> AsyncIterator[tuple[RuntypeClient, list[Sent], Sandbox]]:
    """Our client on a recording MockTransport in front of a fresh in-process sandbox."""
    sandbox = Sandbox(seed=True)
    sent: list[Sent] = []
    async with (
        sandbox.running(),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=sandbox.app)) as inner,
    ):

        async def handle(request: httpx2.Request) -> httpx2.Response:
            await request.aread()
            kind = request.headers.get("content-type", "")
            body = json.loads(request.content) if "json" in kind and request.content else None
            form = _form_names(request) if kind.startswith("multipart/") else set()
            entry = Sent(request.method, request.url.path, set(request.url.params), body, form)
            sent.append(entry)
            answer = await inner.send(request)
            content = await answer.aread()
            entry.status = answer.status_code
            if "json" in answer.headers.get("content-type", ""):
                entry.answer = json.loads(content)
            return httpx2.Response(answer.status_code, headers=answer.headers, content=content)

        settings = make_settings(base_url=BASE)
        http = RuntypeClient.build_http(settings, httpx2.MockTransport(handle))
        async with http:
            yield RuntypeClient(http, settings, backoff=0), sent, sandbox


def check_against_sdk(sent: list[Sent], ledger: Ledger) -> set[tuple[str, str]]:
    """Every request matches the SDK's endpoint; every 2xx JSON answer parses with its declared type."""
    from runtype._generated.core.pydantic_utilities import parse_obj_as
    from runtype._generated.dispatch.types.post_v1dispatch_request import PostV1DispatchRequest

    used: set[tuple[str, str]] = set()
    for entry in sent:
        endpoint = sdk_catalog.find(entry.method, entry.path)
        where = f"{entry.method} {entry.path}"
        assert entry.query <= set(endpoint.query), (
            f"{where}: query {entry.query - set(endpoint.query)} not in SDK"
        )
        if entry.body is not None:
            if (
                endpoint.body is None and entry.path == "/v1/dispatch"
            ):  # a typed union: ours must parse as one
                parse_obj_as(PostV1DispatchRequest, entry.body)
            elif endpoint.body is None:  # a free-form JSON object (e.g. the flow validator's `request`)
                assert isinstance(entry.body, dict), f"{where}: the SDK sends a JSON object"
            else:
                extra = set(entry.body) - set(endpoint.body)
                assert not extra, f"{where}: body keys {extra} not in the SDK's {endpoint.function}"
        assert entry.form <= set(endpoint.form), f"{where}: form fields {entry.form - set(endpoint.form)}"
        if 200 <= entry.status < 300 and entry.answer is not None and not endpoint.streamed:
            ledger.validate(entry.method, entry.path, entry.answer)
        used.add(endpoint.key)
    ledger.client_uses |= used
    return used


def endpoint_methods() -> set[str]:
    """The endpoint methods of `RuntypeClient` (everything but the transport core)."""
    return {
        name
        for mixin in (RecordsAPI, RecordsMoreAPI, FlowsAPI, BatchAPI)
        for name, member in vars(mixin).items()
        if not name.startswith("_") and inspect.iscoroutinefunction(member)
    }


STEPS = [
    {
        "name": "Label",
        "type": "prompt",
        "config": {
            "model": "sandbox-default",
            "userPrompt": "Label {{_record.name}}",
            "outputVariable": "label",
        },
    }
]


async def _exercise(client: RuntypeClient) -> set[str]:
    """Call every endpoint method once, with the parameter names the tools pass."""
    called: set[str] = set()

    async def call(name: str, *args: Any, **kwargs: Any) -> Any:
        called.add(name)
        method: Callable[..., Any] = getattr(client, name)
        return await method(*args, **kwargs)

    page = await call(
        "list_records", type="customer", limit=5, cursor=None, view="compact", includeCount=True
    )
    record_id = page.data[0]["id"]
    await call("get_record", record_id)
    created = await call("create_record", {"type": "contract_ours", "name": "ours", "metadata": {"a": 1}})
    await call("update_record", created.id, {"metadata": {"a": 2}})
    assert await call("find_record", "contract_ours", "ours") is not None
    await call("bulk_edit_records", {"recordIds": [created.id], "updates": {"b": True}, "dryRun": True})
    merged = await call("merge_record", created.id, {"c": 3}, ["b"])
    assert merged["recordIds"] == [created.id]
    await call("field_values", type="customer", field="tier", limit=5)
    await call(
        "preview_record_filter", {"type": "customer", "where": {"field": "tier", "op": "eq", "value": "gold"}}
    )
    await call("discover_record_schema", type="customer", sample=10)
    await call(
        "upload_records_csv",
        "r.csv",
        b"name,tier\nZed,gold\n",
        {"nameColumn": "name", "typeValue": "contract_csv"},
    )
    chunks: list[bytes] = []

    async def write(chunk: bytes) -> None:
        chunks.append(chunk)

    await call("export_records_csv", {"type": "customer"}, write, max_rows=1000, max_bytes=1_000_000)
    flows = await call("list_flows", search=None, limit=5, cursor=None, view="compact")
    flow = await call("create_flow", {"name": "contract ours", "steps": STEPS})
    await call("get_flow", flow.id)
    await call("update_flow", flow.id, {"description": "d"})
    await call("export_flow_runtime", flow.id)
    await call("publish_flow", flow.id)
    versions = await call("flow_versions", flow.id)
    await call("flow_version", flow.id, versions["versions"][0]["id"])
    await call("validate_flow", {"name": "contract ours", "steps": STEPS})
    await call("documentation", "types-flow-steps")
    await call("model_configs")
    run = await call("run_on_record_type", flow.id, "contract_ours")
    await call("batch_status", run.batch_id)
    await call(
        "flow_step_results",
        flow.id,
        recordId=None,
        batchId=run.batch_id,
        status=None,
        limit=5,
        offset=0,
        sortOrder="desc",
    )
    await call("record_results", created.id, page=1, limit=5, status=None, flowId=flow.id, sortOrder="desc")
    await call(
        "record_step_results", created.id, flowId=None, status=None, limit=5, offset=0, sortOrder="desc"
    )
    await call("record_costs", created.id)
    status, _ = await call(
        "dispatch",
        {"flow": {"id": flow.id}, "record": {"id": created.id}, "options": {"streamResponse": False}},
        run_async=False,
    )
    assert status == 200
    results = await call("record_results", created.id)
    await call("delete_record_result", created.id, results["data"][0]["id"])
    status, handle = await call("dispatch", {"flow": {"id": flow.id}}, run_async=True)
    await call("execution_status", handle["executionId"])
    ensured = await call(
        "ensure_flow",
        {"name": "contract ours ensure", "definition": {"name": "contract ours ensure", "steps": STEPS}},
    )
    assert ensured["result"] == "created"
    assert (await call("pull_flow", "contract ours ensure"))["contentHash"] == ensured["contentHash"]
    batch = await call("submit_batch", {"flowId": flow.id, "recordIds": [created.id], "inputs": {"x": 1}})
    batch_id = batch["batchExecutionId"]

    async def done() -> bool:
        return (await call("batch_status", batch_id)).status not in ("scheduled", "running")

    await wait_for(done, 30)
    await call("batch_summary")
    await call("batch_cost", batch_id)
    await call("batch_record_cost", batch_id, created.id)
    assert (await call("batch_record_steps", batch_id, created.id))["data"]
    scheduled = await call("submit_batch", {"flowId": flow.id, "recordIds": [created.id]})
    with contextlib.suppress(Conflict):  # 409 when it already finished: the request is what is checked
        await call("cancel_batch", scheduled["batchExecutionId"])
    await call("delete_flow", flow.id)
    await call("bulk_delete_records", [created.id])
    other = await call("create_record", {"type": "contract_ours", "name": "gone"})
    await call("delete_record", other.id)
    assert flows.data is not None and chunks
    return called


async def test_every_request_our_client_sends_is_one_the_sdk_defines(ledger: Ledger) -> None:
    async with capturing() as (client, sent, _):
        called = await _exercise(client)
    assert called == endpoint_methods(), "a RuntypeClient endpoint method has no contract case"
    used = check_against_sdk(sent, ledger)
    assert len(used) >= 36


def _required_only(model: Any, body: Any) -> Any:
    """`body` cut down to the keys the SDK type requires (one level into lists of models)."""
    if not isinstance(body, dict) or not hasattr(model, "model_fields"):
        return body
    kept: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if field.is_required() and key in body:
            inner = getattr(field.annotation, "__args__", (None,))[0]
            value = body[key]
            kept[key] = [_required_only(inner, v) for v in value] if isinstance(value, list) else value
    return kept


PARSERS: dict[str, tuple[str, str, Callable[[dict[str, Any]], Any]]] = {
    "list records": ("GET", "/v1/records", Page.model_validate),
    "get record": ("GET", "/v1/records/{id}", Record.model_validate),
    "create record": ("POST", "/v1/records", Record.model_validate),
    "update record": ("PUT", "/v1/records/{id}", Record.model_validate),
    "list flows": ("GET", "/v1/flows", Page.model_validate),
    "get flow": ("GET", "/v1/flows/{id}", Flow.model_validate),
    "create flow": ("POST", "/v1/flows", Flow.model_validate),
    "update flow": ("PUT", "/v1/flows/{id}", Flow.model_validate),
    "run on record type": ("POST", "/v1/flows/{id}/run-on-record-type", RunOnTypeResponse.model_validate),
    "batch status": ("GET", "/v1/batch/status/{id}", BatchStatus.model_validate),
}


async def test_every_model_our_client_parses_accepts_the_sdk_types_required_shape() -> None:
    async with capturing() as (client, sent, _):
        await _exercise(client)
    answers = {
        sdk_catalog.find(e.method, e.path).key: e.answer for e in sent if 200 <= e.status < 300 and e.answer
    }
    for label, (method, path, parse) in PARSERS.items():
        endpoint = sdk_catalog.find(method, path)
        minimal = _required_only(endpoint.response_model(), answers[endpoint.key])
        parse(minimal)  # raises if our model needs a field the SDK leaves optional
        assert minimal, label


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"success": True, "batchId": "batch_1", "status": "scheduled"}, id="documented-202"),
        pytest.param(
            {
                "success": True,
                "batchId": "batch_1",
                "flowId": "flow_1",
                "recordType": "lead",
                "recordCount": 40,
                "status": "scheduled",
                "executedImmediately": False,
                "successCount": 0,
                "failureCount": 0,
                "completedAt": "2026-01-01T00:00:00Z",
                "results": [],
            },
            id="sdk-typed-202",
        ),
    ],
)
async def test_our_client_reads_both_202_bodies_of_run_on_record_type_as_a_scheduled_batch(
    body: dict[str, Any],
) -> None:
    transport = httpx2.MockTransport(lambda request: httpx2.Response(202, json=body))
    settings = make_settings(base_url=BASE)
    async with RuntypeClient.build_http(settings, transport) as http:
        run = await RuntypeClient(http, settings, backoff=0).run_on_record_type("flow_1", "lead")
    assert (run.http_status, run.batch_id, run.status, run.results) == (202, "batch_1", "scheduled", [])
