"""Flows, runs and batch endpoints (runtype-api.md §3, §6): one method each."""

from __future__ import annotations

from typing import Any

from runtype_mcp.client.core import BaseClient, expect_object, segment
from runtype_mcp.client.parsing import expect_fields, parse, validated
from runtype_mcp.models import BatchStatus, Flow, Page, RunOnTypeResponse


class FlowsAPI(BaseClient):
    async def list_flows(self, **params: Any) -> Page:
        resp = await self.request("GET", "/flows", params=params)
        return parse(Page, resp, "list flows")

    async def get_flow(self, flow_id: str) -> Flow:
        path = f"/flows/{segment(flow_id, 'flow_id')}"
        resp = await self.request("GET", path, resource=("flow", flow_id))
        return parse(Flow, resp, "get flow")

    async def create_flow(self, body: dict[str, Any]) -> Flow:
        resp = await self.request("POST", "/flows", json_body=body)
        return parse(Flow, resp, "create flow")

    async def run_on_record_type(self, flow_id: str, record_type: str) -> RunOnTypeResponse:
        path = f"/flows/{segment(flow_id, 'flow_id')}/run-on-record-type"
        # A run costs executions and may write records: never retried automatically.
        resp = await self.request(
            "POST", path, json_body={"recordType": record_type}, resource=("flow", flow_id), retry=False
        )
        body = expect_object(resp, "run flow on record type")
        return validated(
            RunOnTypeResponse, {**body, "http_status": resp.status}, resp, "run flow on record type"
        )

    async def batch_status(self, batch_id: str) -> BatchStatus:
        path = f"/batch/status/{segment(batch_id, 'batch_id')}"
        resp = await self.request("GET", path, resource=("batch", batch_id))
        return parse(BatchStatus, resp, "batch status")

    async def update_flow(self, flow_id: str, body: dict[str, Any]) -> Flow:
        path = f"/flows/{segment(flow_id, 'flow_id')}"
        resp = await self.request("PUT", path, json_body=body, resource=("flow", flow_id))
        return parse(Flow, resp, "update flow")

    async def delete_flow(self, flow_id: str) -> Any:
        path = f"/flows/{segment(flow_id, 'flow_id')}"
        return (await self.request("DELETE", path, resource=("flow", flow_id))).body

    async def export_flow_runtime(self, flow_id: str) -> dict[str, Any]:
        path = f"/flows/{segment(flow_id, 'flow_id')}/export-runtime"
        resp = await self.request("GET", path, resource=("flow", flow_id))
        return expect_object(resp, "export flow runtime")

    async def publish_flow(self, flow_id: str) -> dict[str, Any]:
        path = f"/flows/{segment(flow_id, 'flow_id')}/publish"
        resp = await self.request("POST", path, resource=("flow", flow_id), retry=False)
        return expect_object(resp, "publish flow")

    async def flow_step_results(self, flow_id: str, **params: Any) -> dict[str, Any]:
        path = f"/flows/{segment(flow_id, 'flow_id')}/step-results"
        resp = await self.request("GET", path, params=params, resource=("flow", flow_id))
        return expect_object(resp, "flow step results")

    async def dispatch(self, body: dict[str, Any], *, run_async: bool) -> tuple[int, dict[str, Any]]:
        # A run costs an execution and may write records: never retried automatically.
        headers = {"Prefer": "respond-async"} if run_async else None
        resp = await self.request("POST", "/dispatch", json_body=body, headers=headers, retry=False)
        fields = {"status": str, "success": bool, "events": list, "executionId": str}
        return resp.status, expect_fields(expect_object(resp, "dispatch"), resp, "dispatch", fields)

    async def execution_status(self, execution_id: str) -> dict[str, Any]:
        path = f"/executions/{segment(execution_id, 'execution_id')}/status"
        resp = await self.request("GET", path, resource=("execution", execution_id))
        return expect_object(resp, "execution status")

    async def documentation(self, topic: str) -> dict[str, Any]:
        resp = await self.request("GET", "/documentation", params={"topic": topic})
        return expect_object(resp, "documentation")

    async def model_configs(self) -> dict[str, Any]:
        resp = await self.request("GET", "/model-configs/grouped")
        return expect_object(resp, "model configs")

    async def flow_versions(self, flow_id: str) -> dict[str, Any]:
        path = f"/flow-versions/{segment(flow_id, 'flow_id')}"
        resp = await self.request("GET", path, resource=("flow", flow_id))
        return expect_object(resp, "flow versions")

    async def validate_flow(self, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /public/flows/validate`: a read (nothing is saved), so it may be retried."""
        resp = await self.request("POST", "/public/flows/validate", json_body=body, retry=True)
        return expect_object(resp, "validate flow")

    async def flow_version(self, flow_id: str, version_id: str) -> dict[str, Any]:
        """One version with its definition (`flowConfig`); `version_id` may be `published`."""
        path = f"/flow-versions/{segment(flow_id, 'flow_id')}/{segment(version_id, 'version_id')}"
        resp = await self.request("GET", path, resource=("flow", flow_id))
        return expect_object(resp, "flow version")
