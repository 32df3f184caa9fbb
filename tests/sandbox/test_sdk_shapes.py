"""Sandbox behaviour added to match the official SDK (issue 11), checked without the SDK installed.

tests/contract checks the same endpoints with the SDK's own clients and types; these cases keep the
behaviour covered when `runtype-sdk` is absent.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from runtype_mcp.sandbox import Sandbox
from tests.sandbox.conftest import serving, wait_for

pytestmark = pytest.mark.anyio

STEP = {
    "name": "Mark",
    "type": "update-record",
    "config": {"recordId": "{{_record.id}}", "updates": {"done": "yes"}},
}


async def _record(client: httpx2.AsyncClient, name: str, record_type: str = "lead") -> str:
    response = await client.post(
        "/v1/records", json={"name": name, "type": record_type, "metadata": {"k": 1}}
    )
    assert response.status_code == 201
    return str(response.json()["id"])


async def _flow(client: httpx2.AsyncClient, name: str = "flow") -> str:
    response = await client.post("/v1/flows", json={"name": name, "steps": [STEP]})
    return str(response.json()["id"])


async def test_upload_csv_accepts_file_as_a_plain_form_field_holding_the_csv_text(anyio_backend: str) -> None:
    async with serving(Sandbox(seed=False)) as client:
        for text in ("name\nAda\n", json.dumps("name\nBo\n")):  # as is, and JSON-encoded as the SDK sends it
            response = await client.post(
                "/v1/records/upload-csv",
                data={"file": text, "nameColumn": "name", "typeValue": "people"},
                files={"unused": ("x", b"", "text/plain")},  # forces multipart/form-data
            )
            assert response.status_code == 200, response.text
        names = [
            r["name"] for r in (await client.get("/v1/records", params={"type": "people"})).json()["data"]
        ]
        assert sorted(names) == ["Ada", "Bo"]


async def test_dispatch_events_carry_seq_execution_id_and_kind(anyio_backend: str) -> None:
    async with serving(Sandbox(seed=False)) as client:
        record_id, flow_id = await _record(client, "a"), await _flow(client)
        body = {"flow": {"id": flow_id}, "record": {"id": record_id}, "options": {"streamResponse": False}}
        events: list[dict[str, Any]] = (await client.post("/v1/dispatch", json=body)).json()["events"]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert {e["executionId"] for e in events} == {events[0]["executionId"]}
        assert (events[0]["kind"], events[-1]["kind"]) == ("flow", "flow")
        assert events[0]["startedAt"]


async def test_list_parameters_with_undocumented_meaning_are_refused_by_name(anyio_backend: str) -> None:
    async with serving(Sandbox(seed=False)) as client:
        await _record(client, "a")
        response = await client.get("/v1/records", params={"distinct": "name", "sort_by": "name"})
        assert response.status_code == 400
        assert {d["path"] for d in response.json()["details"]} == {"distinct", "sort_by"}
        listed = (await client.get("/v1/records", params={"includeFields": "true"})).json()["data"]
        assert listed[0]["availableFields"] == ["k"]


async def test_batch_flow_refuses_unknown_record_ids_and_an_agent(anyio_backend: str) -> None:
    async with serving(Sandbox(seed=False)) as client:
        flow_id = await _flow(client)
        missing = await client.post("/v1/batch/flow", json={"flowId": flow_id, "recordIds": ["rec_nope"]})
        assert missing.status_code == 400 and "rec_nope" in missing.json()["details"][0]["message"]
        agent = await client.post("/v1/batch/flow", json={"agentId": "agent_1", "recordIds": ["r"]})
        assert agent.status_code == 400
        assert "agentId" in {d["path"] for d in agent.json()["details"]}
        nothing = await client.post("/v1/batch/flow", json={"flowId": flow_id})
        assert nothing.status_code == 400


async def test_batch_flow_runs_the_given_records_and_only_those(anyio_backend: str) -> None:
    async with serving(Sandbox(seed=False)) as client:
        chosen, other = await _record(client, "chosen"), await _record(client, "other")
        flow_id = await _flow(client)
        submitted = await client.post("/v1/batch/flow", json={"flowId": flow_id, "recordIds": [chosen]})
        assert submitted.status_code == 202
        batch_id = submitted.json()["batchExecutionId"]

        async def done() -> dict[str, Any] | None:
            status: dict[str, Any] = (await client.get(f"/v1/batch/status/{batch_id}")).json()
            return status if status["status"] == "completed" else None

        await wait_for(done)
        assert (await client.get(f"/v1/records/{chosen}")).json()["metadata"]["done"] == "yes"
        assert "done" not in (await client.get(f"/v1/records/{other}")).json()["metadata"]
        cost = (await client.get(f"/v1/batch/{batch_id}/cost")).json()
        assert cost["executions"] == 1
        late = await client.post(f"/v1/batch/cancel/{batch_id}")
        assert late.status_code == 409


async def test_ensure_probe_misses_then_converges_and_stays_unchanged(anyio_backend: str) -> None:
    async with serving(Sandbox(seed=False)) as client:
        probe = await client.post("/v1/flows/ensure", json={"name": "code", "contentHash": "sha256:x"})
        assert probe.json() == {"result": "definitionRequired"}
        definition = {"name": "code", "steps": [STEP]}
        created = (
            await client.post("/v1/flows/ensure", json={"name": "code", "definition": definition})
        ).json()
        again = (
            await client.post("/v1/flows/ensure", json={"name": "code", "definition": definition})
        ).json()
        assert (created["result"], again["result"]) == ("created", "unchanged")
        assert again["contentHash"] == created["contentHash"]
        mismatch = await client.post(
            "/v1/flows/ensure", json={"name": "code", "definition": definition, "contentHash": "sha256:x"}
        )
        assert mismatch.status_code == 422 and mismatch.json()["contentHash"] == created["contentHash"]
        pulled = (await client.get("/v1/flows/pull", params={"name": "code"})).json()
        assert pulled["contentHash"] == created["contentHash"]
