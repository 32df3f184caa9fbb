"""Turn API payloads into compact tool outputs (one place for projections and warnings)."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from runtype_mcp.errors import clean, quote
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
                f"metadata key {quote(item.get('from'), 80)} was renamed by Runtype to {quote(item.get('to'), 80)}; "
                "use the new name from now on"
            )
        elif item:
            out.append(f"Runtype warned: {quote(item, 200)}")
    for item in record.schema_warnings:
        if isinstance(item, dict):
            field = quote(item.get("field") or "?", 80)
            out.append(
                f"collection schema warning on metadata[{field}]: Runtype said {quote(item.get('message') or item, 200)}"
            )
        elif item:
            out.append(f"Runtype warned: {quote(item, 200)}")
    return out


TABLE_CELL = 60
TABLE_MAX_COLUMNS = 25
MISSING = "(no key)"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def fitting_rows(rows: list[RecordRow], keys: Collection[str], budget: int) -> int:
    """How many leading rows' values of `keys` fit in `budget` characters together."""
    spent = 0
    for index, row in enumerate(rows):
        meta = row.metadata or {}
        spent += sum(len(_text(meta[k])) for k in keys if k in meta)
        if spent > budget:
            return index
    return len(rows)


def records_table(
    rows: list[RecordRow], *, type_filter: str | None, uncut: Collection[str] = (), budget: int = 0
) -> dict[str, Any]:
    """Rows as a table for the model: `columns` once, then one array per record, which costs about
    half the tokens of repeated keys. Metadata keys become columns in first-seen order.

    Cells of the `uncut` keys are shown whole until they add up to `budget` characters; later ones
    are cut like any other cell, and the note says from which row."""
    base = ["id", "name", "updated_at"] + ([] if type_filter else ["type"])
    keys: list[str] = []
    for row in rows:
        for key in row.metadata or {}:
            if key not in keys:
                keys.append(key)
    shown, hidden = keys[:TABLE_MAX_COLUMNS], keys[TABLE_MAX_COLUMNS:]

    def cell(value: Any) -> Any:
        if isinstance(value, str) and len(value) > TABLE_CELL:
            return value[: TABLE_CELL - 1] + "…"
        if isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            return text if len(text) <= TABLE_CELL else text[: TABLE_CELL - 1] + "…"
        return value

    table = []
    absent = False
    fitting = fitting_rows(rows, uncut, budget)
    stopped: int | None = None
    for index, row in enumerate(rows):
        meta = row.metadata or {}
        head: list[Any] = [row.id, row.name, row.updated_at] + ([] if type_filter else [row.type])
        if stopped is None and uncut and index >= fitting:
            stopped = index
        cells = [
            (meta[k] if k in uncut and stopped is None else cell(meta[k])) if k in meta else MISSING
            for k in shown
        ]
        absent = absent or MISSING in cells
        table.append(head + cells)
    columns = base + [k if k not in base else f"metadata.{k}" for k in shown]
    view: dict[str, Any] = {"columns": columns, "rows": table}
    if type_filter:
        view["type"] = type_filter
    notes = [f"cells over {TABLE_CELL} chars are cut; get_record shows a record in full"]
    if uncut:
        notes[0] = f"{', '.join(quote(k, 60) for k in uncut)}: uncut"
        if stopped is not None:
            notes[0] += (
                f" for the first {stopped} rows only: the page's full values exceed {budget:,} chars; "
                f"repeat this call with limit={max(1, stopped)}, then page on with next_cursor"
            )
    if absent:
        notes.append(f"{MISSING}: the record has no such key (null: the key holds null)")
    if hidden:
        # The keys are record text: listed with the data (inside the fence), never in the note.
        view["hidden_keys"] = [clean(k, 60) for k in hidden[:10]]
        notes.append(
            f"{len(hidden)} more metadata keys not shown (first ones in hidden_keys); get_record shows all"
        )
    view["note"] = "; ".join(notes)
    return view
