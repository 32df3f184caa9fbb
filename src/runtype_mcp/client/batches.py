"""The batch API and flows as code (SDK `batch` group; `flows.ensure`/`pull`): one method each.

`run_flow_on_records` and `cancel_batch` use the first and third; the rest speak the shapes
tests/contract checks.
"""

from __future__ import annotations

from typing import Any

from runtype_mcp.client.core import BaseClient, expect_object, segment
from runtype_mcp.client.parsing import expect_fields


class BatchAPI(BaseClient):
    async def submit_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /batch/flow`: {flowId | flowDefinition, recordIds?, records?, inputs?}; 202 with a batch id."""
        # A batch costs executions and may write records: never retried automatically.
        resp = await self.request("POST", "/batch/flow", json_body=body, retry=False)
        # Without a batch id the run cannot be followed or stopped: a bad answer, not a started batch.
        ids = {"batchExecutionId": str, "batchId": str}
        return expect_fields(expect_object(resp, "submit batch"), resp, "submit batch", ids)

    async def batch_summary(self) -> dict[str, Any]:
        resp = await self.request("GET", "/batch/summary")
        return expect_object(resp, "batch summary")

    async def cancel_batch(self, batch_id: str) -> dict[str, Any]:
        path = f"/batch/cancel/{segment(batch_id, 'batch_id')}"
        resp = await self.request("POST", path, resource=("batch", batch_id), retry=False)
        fields = {"success": bool, "status": str, "processedRecords": int, "totalRecords": int}
        return expect_fields(expect_object(resp, "cancel batch"), resp, "cancel batch", fields)

    async def batch_cost(self, batch_id: str) -> dict[str, Any]:
        path = f"/batch/{segment(batch_id, 'batch_id')}/cost"
        resp = await self.request("GET", path, resource=("batch", batch_id))
        return expect_object(resp, "batch cost")

    async def batch_record_cost(self, batch_id: str, record_id: str) -> dict[str, Any]:
        path = f"/batch/{segment(batch_id, 'batch_id')}/records/{segment(record_id, 'record_id')}/cost"
        resp = await self.request("GET", path, resource=("record", record_id))
        return expect_object(resp, "batch record cost")

    async def batch_record_steps(self, batch_id: str, record_id: str) -> dict[str, Any]:
        path = f"/batch/{segment(batch_id, 'batch_id')}/records/{segment(record_id, 'record_id')}/steps"
        resp = await self.request("GET", path, resource=("record", record_id))
        return expect_object(resp, "batch record steps")

    async def ensure_flow(self, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /flows/ensure`: converge the flow named `body["name"]` (retried: a converge is idempotent)."""
        resp = await self.request("POST", "/flows/ensure", json_body=body, retry=True)
        return expect_object(resp, "ensure flow")

    async def pull_flow(self, name: str) -> dict[str, Any]:
        resp = await self.request("GET", "/flows/pull", params={"name": name}, resource=("flow", name))
        return expect_object(resp, "pull flow")
