"""Records toolset (runtype-api.md §2)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.types import CallToolResult
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from runtype_mcp.errors import ArgumentError, Conflict, Detail, RuntypeMCPError, ServerError, TransportFailure
from runtype_mcp.errors import BadResponse as _BadResponse
from runtype_mcp.models import Record
from runtype_mcp.models.outputs import RecordList, RecordOut, RecordWrite
from runtype_mcp.resources import record_link
from runtype_mcp.tools.params import (
    Cursor,
    Limit,
    Metadata,
    RecordId,
    RecordName,
    RecordType,
    check_json_size,
)
from runtype_mcp.tools.preview import shrink
from runtype_mcp.tools.registry import Ctx, Toolset, client_of, result
from runtype_mcp.tools.shaping import (
    TABLE_CELL,
    fitting_rows,
    record_out,
    record_row,
    records_table,
    write_warnings,
)

records = Toolset("records")


class Message(BaseModel):
    """A conversation message."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]] = Field(description="Text, or a list of content parts.")


Messages = Annotated[
    list[Message] | None,
    Field(max_length=500),
    # Advertised in words (the nested schema of Message costs ~300 characters per tool); arguments
    # are still validated against the typed model.
    WithJsonSchema({"type": "array", "description": "[{role: user|assistant, content}] to store."}),
]
MetadataMode = Annotated[
    Literal["merge", "replace"],
    Field(description="merge keeps other keys (atomic)."),
]
OwnerId = Annotated[
    str | None,
    Field(max_length=255, description="Owner key, from get_record."),
]
Key = Annotated[str, Field(min_length=1, max_length=200)]
FULL_VALUES_CHARS = 60_000  # full_values: the page's uncut cells stop at this many characters together


@records.tool(title="List records", kind="read")
async def list_records(
    ctx: Ctx,
    type: RecordType | None = None,
    name: Annotated[str | None, Field(max_length=500, description="Exact name.")] = None,
    search: Annotated[str | None, Field(max_length=500, description="Free-text search.")] = None,
    owner_id: OwnerId = None,
    limit: Limit = 20,
    cursor: Cursor = None,
    fields: Annotated[list[Key] | None, Field(max_length=20, description="Only these metadata keys.")] = None,
    full_values: Annotated[bool, Field(description="fields uncut (size-capped).")] = False,
) -> Annotated[CallToolResult, RecordList]:
    """Records the key can see (any owner unless owner_id), newest first, as a table."""
    if full_values and not fields:
        raise ArgumentError(
            [Detail("full_values", "needs fields", 'name the metadata keys, e.g. fields=["notes"]')]
        )
    page = await client_of(ctx).list_records(
        type=type, name=name, search=search, ownerId=owner_id, limit=limit, cursor=cursor,
        view="full" if full_values else "compact",
    )  # fmt: skip
    rows = [record_row(row) for row in page.data if row.get("id")]
    keys = list(dict.fromkeys(fields or []))
    for row in rows if fields else []:
        row.metadata = {k: v for k, v in (row.metadata or {}).items() if k in keys}
    uncut = keys if full_values else []
    # The table counts the rows whose values fit (and says so) on the values as fetched; the
    # structured rows past that count are then cut the same way.
    table = records_table(rows, type_filter=type, uncut=uncut, budget=FULL_VALUES_CHARS)
    fitting = fitting_rows(rows, uncut, FULL_VALUES_CHARS)
    for row in rows[fitting:] if full_values else []:
        row.metadata = shrink(row.metadata, TABLE_CELL, 50) if row.metadata else row.metadata
    out = RecordList(records=rows, count=len(rows), has_more=page.has_more, next_cursor=page.next_cursor)
    view = {**out.model_dump(exclude_none=True, exclude={"records"}), **table}
    return result(out, text_view=view)


@records.tool(title="Get record", kind="read")
async def get_record(ctx: Ctx, record_id: RecordId) -> Annotated[CallToolResult, RecordOut]:
    """One record in full: uncut metadata, messages, owner_id."""
    record = await client_of(ctx).get_record(record_id)
    return result(record_out(record, with_messages=True), record_link(record.id, record.name))


@records.tool(title="Create record", kind="create")
async def create_record(
    ctx: Ctx,
    name: RecordName,
    type: RecordType,
    metadata: Metadata | None = None,
    messages: Messages = None,
    owner_id: OwnerId = None,
) -> Annotated[CallToolResult, RecordWrite]:
    """Create a record; (type, name) is unique: a conflict names the existing record_id."""
    check_json_size(metadata, "metadata")
    body: dict[str, Any] = {"name": name, "type": type, "metadata": metadata or {}}
    if messages is not None:
        body["messages"] = [m.model_dump() for m in messages]
        check_json_size(body["messages"], "messages")
    if owner_id is not None:
        body["ownerId"] = owner_id
    client = client_of(ctx)
    note = None
    try:
        record = await client.create_record(body)
    except Conflict as exc:
        await _attach_existing(exc, type, name, ctx)
        raise
    except (ServerError, TransportFailure, _BadResponse) as first:
        record, note = await recover_create(ctx, body, first)
    out = RecordWrite(record=record_out(record), warnings=write_warnings(record), note=note)
    return result(out, record_link(record.id, record.name))


async def _attach_existing(exc: Conflict, record_type: str, name: str, ctx: Ctx) -> None:
    exc.record_type, exc.record_name = record_type, name
    try:
        existing = await client_of(ctx).find_record(record_type, name)
    except RuntypeMCPError:
        return
    if existing is not None:
        exc.existing_id = existing.id


async def recover_create(ctx: Ctx, body: dict[str, Any], first: RuntypeMCPError) -> tuple[Record, str]:
    """The create failed in a way that may or may not have landed: look before any retry."""
    client = client_of(ctx)
    try:
        existing = await client.find_record(body["type"], body["name"])
    except RuntypeMCPError:
        raise first from None
    if existing is not None:
        return (
            existing,
            "Runtype reported an error, but a lookup shows the record was created once; not sent again.",
        )
    try:
        record = await client.create_record(body)
    except Conflict:
        # The first attempt landed after our lookup: report it rather than a conflict.
        existing = await client.find_record(body["type"], body["name"])
        if existing is None:
            raise
        return existing, "Created once (the first attempt landed late); not duplicated."
    except (ServerError, TransportFailure, _BadResponse) as second:
        if isinstance(second, ServerError | TransportFailure):
            try:
                second.checked_absent = await client.find_record(body["type"], body["name"]) is None
            except RuntypeMCPError:
                second.checked_absent = False
        raise second from None
    return (
        record,
        "The first attempt failed and a lookup showed no record, so it was sent once more and succeeded.",
    )


@records.tool(title="Update record", kind="update")
async def update_record(
    ctx: Ctx,
    record_id: RecordId,
    name: RecordName | None = None,
    type: RecordType | None = None,
    metadata: Annotated[
        dict[str, Any] | None,
        Field(description="Keys to write."),
    ] = None,
    metadata_mode: MetadataMode = "merge",
    remove_metadata_keys: Annotated[
        list[str] | None, Field(max_length=500, description="Keys to delete (merge mode).")
    ] = None,
    messages: Messages = None,
    owner_id: OwnerId = None,
) -> Annotated[CallToolResult, RecordWrite]:
    """Change a record's name, type, metadata, messages or owner; omitted fields stay."""
    if all(v is None for v in (name, type, metadata, remove_metadata_keys, messages, owner_id)):
        raise ArgumentError(
            [
                Detail(
                    "(arguments)",
                    "nothing to change",
                    "pass at least one of name, type, metadata, remove_metadata_keys, messages, owner_id",
                )
            ]
        )
    if remove_metadata_keys and metadata_mode == "replace":
        raise ArgumentError(
            [
                Detail(
                    "remove_metadata_keys",
                    "only works with metadata_mode='merge'",
                    "in replace mode just leave those keys out of metadata",
                )
            ]
        )
    check_json_size(metadata, "metadata")
    client = client_of(ctx)
    body: dict[str, Any] = {}
    if name is not None:
        body["name"] = name
    if type is not None:
        body["type"] = type
    if messages is not None:
        body["messages"] = [m.model_dump() for m in messages]
        check_json_size(body["messages"], "messages")
    if owner_id is not None:
        body["ownerId"] = owner_id
    note = None
    merge: tuple[dict[str, Any], list[str]] | None = None
    if metadata is not None or remove_metadata_keys:
        if metadata_mode == "replace":
            body["metadata"] = metadata or {}
        else:
            merge = (metadata or {}, list(remove_metadata_keys or []))
    record = await client.update_record(record_id, body) if body else None
    if merge is not None:
        before, after = await server_merge(ctx, record_id, *merge)
        note = merge_note(before, *merge)
        record = (
            record.model_copy(update={"metadata": after}) if record else await client.get_record(record_id)
        )
    assert record is not None
    out = RecordWrite(record=record_out(record), warnings=write_warnings(record), note=note)
    return result(out, record_link(record.id, record.name))


async def server_merge(
    ctx: Ctx, record_id: str, updates: dict[str, Any], removes: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Merge into one record on the server (bulk edit on its id), so concurrent merges of different
    keys all survive; returns metadata before and after."""
    client = client_of(ctx)
    if not updates and not removes:
        current = await client.get_record(record_id)
        return current.metadata, current.metadata
    body = await client.merge_record(record_id, updates, removes)
    for row in body.get("data") or []:
        if isinstance(row, dict) and row.get("id") == record_id:
            before, after = row.get("before"), row.get("after")
            if isinstance(before, dict) and isinstance(after, dict):
                return before, after
    await client.get_record(record_id)  # a 404 here names the record
    raise _BadResponse("bulk edit", 200, "no before/after for the record", safe=True)


def merge_note(before: dict[str, Any], updates: dict[str, Any], removes: list[str]) -> str:
    missing = [k for k in removes if k not in before and k not in updates]
    kept = len(set(before) - set(updates) - set(removes))
    note = f"merged: {len(updates)} key(s) set, {kept} kept"
    if removes:
        note += f", {len(removes) - len(missing)} removed"
    if missing:
        note += f" (not present, nothing to remove: {', '.join(missing[:10])})"
    return note
