"""What a list of record ids really is, before anything is deleted: names and types, and a type guard.

`bulk_delete_records(ids=..., type=...)` deletes only when every id is of that type; the preview shows
each record by name and type instead of a bare id. No tools are registered here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio

from runtype_mcp.errors import ArgumentError, NotFound, OperationError, RuntypeMCPError, quote, upstream
from runtype_mcp.models.outputs import RecordRow
from runtype_mcp.tools.registry import Ctx, client_of

CHUNK = 100
LOOKUPS = 8  # concurrent single-record reads for ids the typed listing did not return
SHOWN = 20


@dataclass
class IdCheck:
    rows: dict[str, RecordRow] = field(default_factory=dict)  # id -> name/type, for ids that exist
    missing: list[str] = field(default_factory=list)


async def check_ids(ctx: Ctx, ids: list[str], record_type: str | None, *, lookups: int) -> IdCheck:
    """Names and types of `ids`: of `record_type` by a filtered listing (100 ids a call), then up to
    `lookups` of the rest one by one (the foreign or missing ones)."""
    client = client_of(ctx)
    found = IdCheck()
    if record_type is not None:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            where = {"field": "id", "op": "in", "value": chunk}
            params: dict[str, Any] = {
                "type": record_type,
                "limit": CHUNK,
                "view": "compact",
                "recordFilter": {"type": record_type, "where": where},
            }
            async for row in client.paginate("/records", params, max_items=CHUNK):
                if row.get("id") in chunk and row.get("type") == record_type:
                    found.rows[str(row["id"])] = RecordRow(
                        id=str(row["id"]), name=row.get("name"), type=record_type
                    )
    rest = [i for i in ids if i not in found.rows][:lookups]
    limiter = anyio.CapacityLimiter(LOOKUPS)

    failures: list[RuntypeMCPError] = []

    async def one(record_id: str) -> None:
        async with limiter:
            try:
                rec = await client.get_record(record_id)
            except (NotFound, ArgumentError):  # an id that cannot name a record is not found either
                found.missing.append(record_id)
                return
            except RuntypeMCPError as exc:  # raised below, outside the task group (no ExceptionGroup)
                failures.append(exc)
                return
            found.rows[record_id] = RecordRow(id=rec.id, name=rec.name, type=rec.type)

    async with anyio.create_task_group() as tg:
        for record_id in rest:
            tg.start_soon(one, record_id)
    if failures and record_type is not None:  # a guard that could not look is no guard; a sample may be short
        raise failures[0]
    return found


async def guard_type(ctx: Ctx, ids: list[str], record_type: str) -> list[RecordRow]:
    """The records of `ids`, by name and type; refused (nothing deleted) if any is of another type."""
    checked = await check_ids(ctx, ids, record_type, lookups=len(ids))
    foreign = [row for row in checked.rows.values() if row.type != record_type]
    if foreign:
        listed = "; ".join(
            f"{quote(r.id, 120)} ({upstream(r.name or '?', 80)}, type {upstream(r.type or '?', 80)})"
            for r in foreign[:SHOWN]
        )
        more = f" and {len(foreign) - SHOWN} more" if len(foreign) > SHOWN else ""
        raise OperationError(
            f"bulk_delete_records: nothing was deleted: {len(foreign)} of the ids are not of type "
            f"{quote(record_type, 100)}: {listed}{more}. Remove them from ids, or check the type."
        )
    return [checked.rows[i] for i in ids if i in checked.rows]
