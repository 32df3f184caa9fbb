"""Turn API payloads into compact tool outputs (one place for projections and warnings)."""

from __future__ import annotations

from typing import Any

from runtype_mcp.errors import clean
from runtype_mcp.models import Record
from runtype_mcp.models.outputs import RecordOut, RecordRow


def record_out(record: Record, *, with_messages: bool = False) -> RecordOut:
    messages = record.messages if isinstance(record.messages, list) else None
    return RecordOut(
        id=record.id,
        type=record.type,
        name=record.name,
        metadata=record.metadata,
        owner_id=record.owner_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
        message_count=len(messages) if messages is not None else None,
        messages=messages if with_messages else None,
        schema_valid=record.schema_valid,
    )


def record_row(row: dict[str, Any]) -> RecordRow:
    meta = row.get("metadata")
    return RecordRow(
        id=str(row.get("id")),
        name=row.get("name"),
        type=row.get("type"),
        updated_at=row.get("updatedAt"),
        metadata=meta if isinstance(meta, dict) else None,
    )


def write_warnings(record: Record) -> list[str]:
    """`warnings` and `schemaWarnings` in plain words: a silently renamed key confuses the next call."""
    out: list[str] = []
    for item in record.warnings:
        if isinstance(item, dict) and item.get("code") == "KEY_RENAMED":
            out.append(
                f"metadata key {clean(item.get('from'), 80)!r} was renamed by Runtype to {clean(item.get('to'), 80)!r}; "
                "use the new name from now on"
            )
        elif item:
            out.append(clean(item, 200))
    for item in record.schema_warnings:
        if isinstance(item, dict):
            field = clean(item.get("field") or "?", 80)
            out.append(
                f"collection schema warning on metadata[{field!r}]: {clean(item.get('message') or item, 200)}"
            )
        elif item:
            out.append(clean(item, 200))
    return out
