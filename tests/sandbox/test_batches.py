"""Background batches (§3.8 202 path, §6.3 status), their consistency, and restarts that interrupt them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx2
import pytest

from runtype_mcp.sandbox import Sandbox
from tests.sandbox.conftest import serving, wait_for

pytestmark = pytest.mark.anyio

MARK = {
    "name": "Mark",
    "type": "update-record",
    "config": {"recordId": "{{_record.id}}", "updates": {"done": "yes"}},
}


async def setup(
    client: httpx2.AsyncClient, count: int, steps: list[dict[str, Any]], record_type: str = "lead"
) -> str:
    for index in range(count):
        response = await client.post("/v1/records", json={"name": f"lead-{index:03d}", "type": record_type})
        assert response.status_code == 201
    flow = await client.post("/v1/flows", json={"name": "batch flow", "steps": steps})
    return str(flow.json()["id"])


async def finished(client: httpx2.AsyncClient, batch_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        status: dict[str, Any] = (await client.get(f"/v1/batch/status/{batch_id}")).json()
        return status if status["status"] not in ("scheduled", "running") else None

    result: dict[str, Any] = await wait_for(check)
    return result


async def test_more_records_than_the_inline_limit_schedule_a_batch(anyio_backend: str) -> None:
    async with serving(Sandbox(inline_limit=3, batch_concurrency=2)) as client:
        flow_id = await setup(client, 7, [MARK])

        response = await client.post(f"/v1/flows/{flow_id}/run-on-record-type", json={"recordType": "lead"})

        assert response.status_code == 202
        body = response.json()
        assert body == {
            "success": True,
            "batchId": body["batchId"],
            "flowId": flow_id,
            "recordType": "lead",
            "recordCount": 7,
            "status": "scheduled",
            "executedImmediately": False,
            # Nothing ran yet; present because the SDK's declared type requires them (tests/contract).
            "successCount": 0,
            "failureCount": 0,
            "completedAt": body["completedAt"],
            "results": [],
        }
        status = await finished(client, body["batchId"])
        assert status["status"] == "completed"
        assert (status["totalRecords"], status["processedRecords"], status["successCount"]) == (7, 7, 7)
        assert status["failedRecords"] == 0
        assert status["progress"] == 100
        assert status["startedAt"] and status["completedAt"]
        records = (await client.get("/v1/records", params={"type": "lead", "limit": 100})).json()["data"]
        assert all(record["metadata"] == {"done": "yes"} for record in records)
        steps = (
            await client.get(f"/v1/flows/{flow_id}/step-results", params={"batchId": body["batchId"]})
        ).json()
        assert len(steps["data"]) == 7


async def test_batch_counts_failed_records(anyio_backend: str) -> None:
    crawl = {"name": "Crawl", "type": "crawl", "config": {"url": "https://example.com"}}
    async with serving(Sandbox(inline_limit=1)) as client:
        flow_id = await setup(client, 3, [crawl])

        response = await client.post(f"/v1/flows/{flow_id}/run-on-record-type", json={"recordType": "lead"})
        status = await finished(client, response.json()["batchId"])

        assert status["status"] == "completed"
        assert (status["processedRecords"], status["failedRecords"], status["successCount"]) == (3, 3, 0)
        record_id = (await client.get("/v1/records", params={"type": "lead", "limit": 1})).json()["data"][0][
            "id"
        ]
        result = (await client.get(f"/v1/records/{record_id}/results")).json()["data"][0]
        assert result["status"] == "failed"


async def test_missing_batch_is_404(sb: tuple[Sandbox, httpx2.AsyncClient]) -> None:
    _, client = sb

    response = await client.get("/v1/batch/status/batch_missing")

    assert response.status_code == 404
    assert response.json() == {"error": "Batch batch_missing not found"}


async def test_shutdown_mid_batch_marks_it_interrupted_and_keeps_records_consistent(
    anyio_backend: str, tmp_path: Path
) -> None:
    db = tmp_path / "sandbox.sqlite3"
    async with serving(Sandbox(db, inline_limit=1, batch_concurrency=1, seed=False)) as client:
        flow_id = await setup(client, 40, [MARK])
        batch_id = (
            await client.post(f"/v1/flows/{flow_id}/run-on-record-type", json={"recordType": "lead"})
        ).json()["batchId"]

    async with serving(Sandbox(db, seed=False)) as client:
        status = (await client.get(f"/v1/batch/status/{batch_id}")).json()
        assert status["status"] == "interrupted"
        assert status["processedRecords"] < 40
        done = 0
        records = (await client.get("/v1/records", params={"type": "lead", "limit": 100})).json()["data"]
        for record in records:
            results = (await client.get(f"/v1/records/{record['id']}/results")).json()["data"]
            # each record is either fully processed (one result and the write) or untouched
            assert len(results) == (1 if record["metadata"] == {"done": "yes"} else 0)
            done += len(results)
        assert done == status["processedRecords"]


async def test_restart_marks_batches_a_crashed_process_left_running_as_interrupted(
    anyio_backend: str, tmp_path: Path
) -> None:
    db = tmp_path / "sandbox.sqlite3"
    async with serving(Sandbox(db)):
        pass
    with sqlite3.connect(db) as conn:  # what a killed process leaves behind
        conn.execute(
            "INSERT INTO batches (id, flow_id, record_type, status, total_records, processed_records, created_at)"
            " VALUES ('batch_crashed', 'flow_x', 'lead', 'running', 10, 4, '2026-01-01T00:00:00.000Z')"
        )
        conn.execute(
            "INSERT INTO executions (id, status, target_kind, created_at)"
            " VALUES ('exec_crashed', 'queued', 'flow', '2026-01-01T00:00:00.000Z')"
        )
    conn.close()

    async with serving(Sandbox(db)) as client:
        batch = (await client.get("/v1/batch/status/batch_crashed")).json()
        execution = (await client.get("/v1/executions/exec_crashed/status")).json()

    assert batch["status"] == "interrupted"
    assert batch["processedRecords"] == 4
    assert batch["progress"] == 40
    assert execution["status"] == "interrupted"
