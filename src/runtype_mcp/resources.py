"""Resource templates: a record, a flow, and a record type's discovered schema, as JSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import ResourceLink

from runtype_mcp.client import RuntypeClient
from runtype_mcp.client.core import bind_forwarded_key, expect_object, forwarded_key, segment
from runtype_mcp.errors import ArgumentError, BadResponse, NotFound, RuntypeMCPError, clean, render
from runtype_mcp.filter_reference import FILTER_SEMANTICS, FILTERS_URI

RECORD_URI = "runtype://records/{record_id}"
FLOW_URI = "runtype://flows/{flow_id}"
SCHEMA_URI = "runtype://record-types/{type}/schema"


LINK_NAME_LIMIT = 120


def _link(template: str, arg: str, ident: Any, name: Any) -> list[ResourceLink]:
    """A link built from an upstream id only when it passes the id check of tool arguments, named
    with one bounded line: an id that fails gets no link (never an error)."""
    if not isinstance(ident, str):
        return []
    try:
        safe_id = segment(ident, arg)
    except ArgumentError:
        return []
    label = clean(name if isinstance(name, str) and name.strip() else ident, LINK_NAME_LIMIT)
    return [
        ResourceLink(
            type="resource_link",
            uri=template.format(**{arg: safe_id}),
            name=label or safe_id,
            mime_type="application/json",
        )
    ]


def record_link(record_id: Any, name: Any) -> list[ResourceLink]:
    """The record's resource link, or none when the id could not be a valid record id."""
    return _link(RECORD_URI, "record_id", record_id, name)


def flow_link(flow_id: Any, name: Any) -> list[ResourceLink]:
    """The flow's resource link, or none when the id could not be a valid flow id."""
    return _link(FLOW_URI, "flow_id", flow_id, name)


def _client(ctx: Context[Any, Any]) -> RuntypeClient:
    client: RuntypeClient = ctx.request_context.lifespan_context.client
    return client


async def _read(ctx: Context[Any, Any], what: str, fetch: Callable[[], Awaitable[Any]]) -> str:
    settings = ctx.request_context.lifespan_context.settings
    token = bind_forwarded_key(settings, ctx.headers)
    try:
        value = await fetch()
    except NotFound as exc:
        raise ResourceNotFoundError(render(exc, what)) from None
    except RuntypeMCPError as exc:
        if isinstance(exc, BadResponse):
            exc.read_only = True  # a resource read only reads
        raise ResourceError(render(exc, what)) from None
    finally:
        if token is not None:
            forwarded_key.reset(token)
    data = (
        value if isinstance(value, dict) else value.model_dump(mode="json", by_alias=True, exclude_none=True)
    )
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def register_resources(server: MCPServer[Any]) -> None:
    @server.resource(RECORD_URI, name="record", title="Runtype record", mime_type="application/json")
    async def record(record_id: str, ctx: Context[Any, Any]) -> str:
        """One record with its full metadata."""
        return await _read(ctx, "record resource", lambda: _client(ctx).get_record(record_id))

    @server.resource(FLOW_URI, name="flow", title="Runtype flow", mime_type="application/json")
    async def flow(flow_id: str, ctx: Context[Any, Any]) -> str:
        """One flow with its steps and their configs."""
        return await _read(ctx, "flow resource", lambda: _client(ctx).get_flow(flow_id))

    @server.resource(
        FILTERS_URI, name="filter_reference", title="Record filter reference", mime_type="text/plain"
    )
    def filter_reference() -> str:
        """How each record filter operator treats a missing or null field."""
        return FILTER_SEMANTICS

    @server.resource(
        SCHEMA_URI, name="record_type_schema", title="Record type schema", mime_type="application/json"
    )
    async def schema(type: str, ctx: Context[Any, Any]) -> str:
        """The metadata fields of a record type, discovered by sampling its records."""

        async def fetch() -> dict[str, Any]:
            resp = await _client(ctx).request("GET", "/records/schema", params={"type": type})
            return expect_object(resp, "record schema")

        return await _read(ctx, "schema resource", fetch)
