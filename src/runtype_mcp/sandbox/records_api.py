"""Records §2.1, §2.2, §2.10-2.12: list, create, get, update and delete one record."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import records_store, shapes
from .pagination import cursor_page_request, fetch_cursor_page
from .record_query import from_query
from .responses import Endpoint, SandboxContext, json_response, route
from .validation import ApiError, Checker, join, query_enum, read_json_object

RECORD_KEYS = ("name", "type", "metadata", "messages", "ownerId")
MESSAGE_ROLES = ("user", "assistant")
METADATA_LIMIT = 1024 * 1024


def check_record_body(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate a create (`partial=False`) or update body; returns the API-named changes."""
    check = Checker()
    check.known_keys(body, RECORD_KEYS)
    changes: dict[str, Any] = {}
    for key, limit in (("name", 500), ("type", 255)):
        value = check.string(body, key, required=not partial, min_len=1, max_len=limit)
        if value is not None:
            changes[key] = value
    metadata = check.mapping(body, "metadata")
    if metadata is not None:
        _check_metadata(check, metadata)
        changes["metadata"] = metadata
    if "messages" in body:
        changes["messages"] = _check_messages(check, body["messages"])
    if "ownerId" in body:
        changes["ownerId"] = check.string(body, "ownerId", nullable=True, min_len=1, max_len=255)
    check.done()
    return changes


def _check_metadata(check: Checker, metadata: dict[str, Any]) -> None:
    for key in metadata:
        if not key or len(key) > 255:
            check.add(
                "OUT_OF_RANGE",
                f"metadata key '{key[:40]}' must be 1-255 characters",
                join("metadata", key),
                "Use metadata keys of 1-255 characters",
            )
    size = len(shapes.dumps(metadata).encode())
    if size > METADATA_LIMIT:
        check.add(
            "OUT_OF_RANGE",
            f"metadata is {size} bytes of JSON; the sandbox allows {METADATA_LIMIT}",
            "metadata",
            "Store less in one record, or split it over several records",
        )


def _check_messages(check: Checker, messages: Any) -> list[Any] | None:
    if messages is None:
        return None
    if not isinstance(messages, list):
        check.wrong_type("messages", "an array or null", messages)
        return None
    for index, message in enumerate(messages):
        where = join("messages", index)
        if not isinstance(message, dict):
            check.wrong_type(where, "an object {role, content}", message)
            continue
        check.enum(message, "role", MESSAGE_ROLES, path=where, required=True)
        content = message.get("content")
        if not isinstance(content, str | list):
            check.add(
                "INVALID_UNION",
                f"{join(where, 'content')} must be a string or an array of content parts",
                join(where, "content"),
                "Send content as a string",
            )
    return messages


class RecordsApi:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[Endpoint]:
        return [
            route("/v1/records", self.list_records, "GET"),
            route("/v1/records", self.create_record, "POST"),
            route("/v1/records/{id}", self.get_record, "GET"),
            route("/v1/records/{id}", self.update_record, "PUT"),
            route("/v1/records/{id}", self.delete_record, "DELETE"),
        ]

    async def list_records(self, request: Request) -> Response:
        page = cursor_page_request(request)
        view = query_enum(request, "view", ("full", "compact"), default="full")
        selection = from_query(request)
        rows, pagination = await self.ctx.db.run(
            lambda conn: fetch_cursor_page(conn, "records", selection.sql, selection.params, page)
        )
        data = [shapes.record(row) for row in rows]
        if selection.applied.get("includeFields"):
            for item in data:
                metadata = item["metadata"]
                item["availableFields"] = sorted(metadata) if isinstance(metadata, dict) else []
        if view == "compact":
            data = shapes.compact(data)
        return json_response({"data": data, "pagination": pagination, "filtersApplied": selection.applied})

    async def create_record(self, request: Request) -> Response:
        body = await read_json_object(request)
        changes = check_record_body(body, partial=False)
        metadata = changes.get("metadata", {})
        owner = changes["ownerId"] if "ownerId" in changes else metadata.get("ownerId")

        def create(conn: sqlite3.Connection) -> dict[str, Any]:
            return records_store.insert(
                conn,
                record_type=changes["type"],
                name=changes["name"],
                metadata=metadata,
                messages=changes.get("messages"),
                owner_id=owner if isinstance(owner, str) else None,
            )

        created = await self.ctx.db.write(create)
        return json_response({**created, "warnings": [], "schemaWarnings": []}, status=201)

    async def get_record(self, request: Request) -> Response:
        record_id = request.path_params["id"]
        row = await self.ctx.db.run(lambda conn: records_store.get_row(conn, record_id))
        if row is None:
            raise ApiError(404, f"Record {record_id} not found")
        return json_response(shapes.record(row))

    async def update_record(self, request: Request) -> Response:
        record_id = request.path_params["id"]
        body = await read_json_object(request)
        changes = check_record_body(body, partial=True)
        updated = await self.ctx.db.write(lambda conn: records_store.update(conn, record_id, changes))
        return json_response({**updated, "warnings": [], "schemaWarnings": []})

    async def delete_record(self, request: Request) -> Response:
        record_id = request.path_params["id"]
        deleted = await self.ctx.db.write(lambda conn: records_store.delete(conn, [record_id]))
        if not deleted:
            raise ApiError(404, f"Record {record_id} not found")
        return json_response({"success": True, "id": record_id})
