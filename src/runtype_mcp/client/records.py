"""Records endpoints (runtype-api.md §2): one method each, returning parsed models or dicts."""

from __future__ import annotations

from typing import Any

from runtype_mcp.client.core import BaseClient, segment
from runtype_mcp.client.parsing import parse, validated
from runtype_mcp.models import Page, Record


class RecordsAPI(BaseClient):
    async def list_records(self, **params: Any) -> Page:
        resp = await self.request("GET", "/records", params=params)
        return parse(Page, resp, "list records")

    async def get_record(self, record_id: str) -> Record:
        path = f"/records/{segment(record_id, 'record_id')}"
        resp = await self.request("GET", path, resource=("record", record_id))
        return parse(Record, resp, "get record")

    async def create_record(self, body: dict[str, Any]) -> Record:
        resp = await self.request("POST", "/records", json_body=body)
        return parse(Record, resp, "create record")

    async def update_record(self, record_id: str, body: dict[str, Any]) -> Record:
        path = f"/records/{segment(record_id, 'record_id')}"
        resp = await self.request("PUT", path, json_body=body, resource=("record", record_id))
        return parse(Record, resp, "update record")

    async def find_record(self, record_type: str, name: str) -> Record | None:
        """The record with exactly this type and name, if any (used to resolve 409s and unsure creates)."""
        resp = await self.request("GET", "/records", params={"type": record_type, "name": name, "limit": 25})
        page = parse(Page, resp, "list records")
        for row in page.data:
            if row.get("name") == name and row.get("type", record_type) == record_type and row.get("id"):
                return validated(Record, row, resp, "list records")
        return None
