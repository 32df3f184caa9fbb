"""The remaining Records endpoints (runtype-api.md §2.3-2.9, §2.12-2.16): one method each."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import aclosing
from typing import Any

import httpx2

from runtype_mcp.client.core import (
    BaseClient,
    Response,
    _parse,
    _query,
    _scope,
    call_stats,
    current_secrets,
    expect_object,
    segment,
)
from runtype_mcp.client.csv_stream import ExportStats, RowCutter
from runtype_mcp.errors import RequestInfo, TransportFailure, error_from_response
from runtype_mcp.scrub import StreamScrubber, scrub_bytes, scrub_text

MAX_ERROR_BODY = 65536


class RecordsMoreAPI(BaseClient):
    async def delete_record(self, record_id: str) -> Response:
        path = f"/records/{segment(record_id, 'record_id')}"
        return await self.request("DELETE", path, resource=("record", record_id))

    async def bulk_delete_records(self, ids: list[str]) -> dict[str, Any]:
        resp = await self.request("POST", "/records/bulk-delete", json_body={"ids": ids})
        return expect_object(resp, "bulk delete")

    async def bulk_edit_records(self, body: dict[str, Any]) -> dict[str, Any]:
        # A dry run writes nothing, so it may be retried like a read; a real write may not.
        resp = await self.request(
            "POST", "/records/bulk-edit", json_body=body, retry=bool(body.get("dryRun"))
        )
        return expect_object(resp, "bulk edit")

    async def merge_record(
        self, record_id: str, updates: dict[str, Any], delete_fields: list[str]
    ) -> dict[str, Any]:
        """A server-side merge into one record (bulk edit on its id): atomic, unlike read-then-write.
        Setting the same keys twice gives the same record, so it is retried like a read."""
        body: dict[str, Any] = {"recordIds": [record_id], "dryRun": False}
        if updates:
            body["updates"] = updates
        if delete_fields:
            body["deleteFields"] = delete_fields
        resp = await self.request(
            "POST", "/records/bulk-edit", json_body=body, retry=True, resource=("record", record_id)
        )
        return expect_object(resp, "bulk edit")

    async def field_values(self, **params: Any) -> dict[str, Any]:
        resp = await self.request("GET", "/records/field-values", params=params)
        return expect_object(resp, "field values")

    async def preview_record_filter(self, body: dict[str, Any]) -> dict[str, Any]:
        resp = await self.request("POST", "/records/preview-filter", json_body=body, retry=True)
        return expect_object(resp, "preview filter")

    async def discover_record_schema(self, **params: Any) -> dict[str, Any]:
        resp = await self.request("GET", "/records/schema", params=params)
        return expect_object(resp, "record schema")

    async def upload_records_csv(
        self, filename: str, content: bytes, fields: dict[str, str]
    ) -> dict[str, Any]:
        """A real multipart file part (the generated SDK sends none: runtype-api.md §0.1 pitfall 2)."""
        resp = await self.request(
            "POST", "/records/upload-csv", files={"file": (filename, content, "text/csv")}, data=fields
        )
        return expect_object(resp, "upload csv")

    async def record_costs(self, record_id: str) -> dict[str, Any]:
        path = f"/records/{segment(record_id, 'record_id')}/costs"
        resp = await self.request("GET", path, resource=("record", record_id))
        return expect_object(resp, "record costs")

    async def record_results(self, record_id: str, **params: Any) -> dict[str, Any]:
        path = f"/records/{segment(record_id, 'record_id')}/results"
        resp = await self.request("GET", path, params=params, resource=("record", record_id))
        return expect_object(resp, "record results")

    async def delete_record_result(self, record_id: str, result_id: str) -> Response:
        path = f"/records/{segment(record_id, 'record_id')}/results"
        return await self.request(
            "DELETE", path, json_body={"resultId": result_id}, resource=("result", result_id)
        )

    async def record_step_results(self, record_id: str, **params: Any) -> dict[str, Any]:
        path = f"/records/{segment(record_id, 'record_id')}/step-results"
        resp = await self.request("GET", path, params=params, resource=("record", record_id))
        return expect_object(resp, "record step results")

    async def export_records_csv(
        self,
        params: Mapping[str, Any],
        write: Callable[[bytes], Awaitable[object]],
        *,
        max_rows: int,
        max_bytes: int,
    ) -> ExportStats:
        """Stream the CSV into `write` chunk by chunk, scrubbed of secrets as it arrives, until the
        end or a cap (`max_rows` data rows, `max_bytes` bytes; the upstream response is closed then).

        After a cap the writer truncates its output to `stats.bytes` (the last whole row). Retried like
        any read while nothing has arrived (an error status, a timeout or a refused connection before
        the body); never once bytes arrived, since a retry would duplicate them (the caller discards a
        partial file). Errors map through the same function as every request.
        """
        headers = self.auth_headers()
        path = "/records/export"
        info = RequestInfo(method="GET", path=path, scope=_scope("GET", path))
        stats = call_stats.get()
        if stats is not None:
            stats.requests += 1
        secrets = current_secrets(self.settings)
        scrubber = StreamScrubber(secrets)
        cutter = RowCutter(max_rows, max_bytes)
        received = 0

        async def take(chunk: bytes) -> bool:
            nonlocal received
            received += len(chunk)
            out = cutter.feed(scrubber.feed(chunk))
            if out:
                await write(out)
            return cutter.capped is not None

        started = time.monotonic()
        async for attempt in self.attempts(lambda exc: received == 0 and self.retry_wait(exc, started)):
            with attempt:
                info.attempts = attempt.num
                await self._export_once(info, params, headers, take, secrets)
        tail = cutter.feed(scrubber.flush())
        if tail:
            await write(tail)
        return cutter.stats()

    async def _export_once(
        self,
        info: RequestInfo,
        params: Mapping[str, Any],
        headers: Mapping[str, str] | None,
        take: Callable[[bytes], Awaitable[bool]],
        secrets: list[str],
    ) -> None:
        stats = call_stats.get()
        if stats is not None:
            stats.attempts += 1
        try:
            async with self.http.stream("GET", info.path, params=_query(params), headers=headers) as resp:
                if stats is not None:
                    stats.last_status = resp.status_code
                if resp.status_code >= 300:
                    raw = b""
                    async with aclosing(resp.aiter_bytes()) as chunks:
                        async for chunk in chunks:
                            raw += chunk
                            if len(raw) > MAX_ERROR_BODY:
                                break
                    raw = scrub_bytes(raw[:MAX_ERROR_BODY], secrets)
                    body = _parse(raw, resp.headers.get("content-type", ""))
                    retry_after = resp.headers.get("retry-after") if resp.status_code >= 400 else None
                    raise error_from_response(info, resp.status_code, body, retry_after)
                async with aclosing(resp.aiter_bytes()) as chunks:
                    async for chunk in chunks:
                        if chunk and await take(chunk):
                            break  # a cap: leaving the block closes the upstream response
        except httpx2.TimeoutException as exc:
            raise TransportFailure(info, type(exc).__name__, timeout=True) from None
        except httpx2.TransportError as exc:
            reason = scrub_text(f"{type(exc).__name__}: {exc}", secrets)
            raise TransportFailure(info, reason, timeout=False) from None
