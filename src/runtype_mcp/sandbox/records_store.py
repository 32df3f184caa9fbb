"""Record rows: insert, read, update and delete, with the (type, name) uniqueness of the API."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from . import shapes
from .ids import new_id, now_iso
from .store import placeholders
from .validation import ApiError


class RecordConflict(ApiError):
    def __init__(self, record_type: str, name: str, existing_id: str) -> None:
        super().__init__(
            409,
            f"A record of type '{record_type}' named '{name}' already exists ({existing_id})",
            code="RECORD_CONFLICT",
            existingRecordId=existing_id,
        )
        self.existing_id = existing_id


def get_row(conn: sqlite3.Connection, record_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()
    return row


def find_row(conn: sqlite3.Connection, record_type: str, name: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM records WHERE type = ? AND name = ?", (record_type, name)
    ).fetchone()
    return row


def field_count(metadata: Any) -> int:
    return len(metadata) if isinstance(metadata, dict) else 0


def insert(
    conn: sqlite3.Connection,
    *,
    record_type: str,
    name: str,
    metadata: Mapping[str, Any],
    messages: list[Any] | None = None,
    owner_id: str | None = None,
    record_id: str | None = None,
) -> dict[str, Any]:
    existing = find_row(conn, record_type, name)
    if existing is not None:
        raise RecordConflict(record_type, name, existing["id"])
    now = now_iso()
    record_id = record_id or new_id("rec")
    conn.execute(
        "INSERT INTO records (id, type, name, metadata, messages, owner_id, user_id, organization_id,"
        " field_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record_id,
            record_type,
            name,
            shapes.dumps(dict(metadata)),
            None if messages is None else shapes.dumps(messages),
            owner_id,
            shapes.SANDBOX_USER_ID,
            shapes.SANDBOX_ORG_ID,
            field_count(metadata),
            now,
            now,
        ),
    )
    row = get_row(conn, record_id)
    assert row is not None
    return shapes.record(row)


def insert_many(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str, Mapping[str, Any]]]) -> int:
    """Bulk insert `(id, type, name, metadata)` rows without conflict checks (callers check first)."""
    now = now_iso()
    cursor = conn.executemany(
        "INSERT INTO records (id, type, name, metadata, user_id, organization_id, field_count, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                rid,
                rtype,
                name,
                shapes.dumps(dict(meta)),
                shapes.SANDBOX_USER_ID,
                shapes.SANDBOX_ORG_ID,
                len(meta),
                now,
                now,
            )
            for rid, rtype, name, meta in rows
        ),
    )
    return cursor.rowcount


def update(conn: sqlite3.Connection, record_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Apply API-named `changes` (`type`, `name`, `metadata`, `messages`, `ownerId`) to one record."""
    row = get_row(conn, record_id)
    if row is None:
        raise ApiError(404, f"Record {record_id} not found")
    new_type = changes.get("type", row["type"])
    new_name = changes.get("name", row["name"])
    if (new_type, new_name) != (row["type"], row["name"]):
        clash = find_row(conn, new_type, new_name)
        if clash is not None and clash["id"] != record_id:
            raise RecordConflict(new_type, new_name, clash["id"])
    columns: dict[str, Any] = {"type": new_type, "name": new_name, "updated_at": now_iso()}
    if "metadata" in changes:
        columns["metadata"] = shapes.dumps(changes["metadata"])
        columns["field_count"] = field_count(changes["metadata"])
    if "messages" in changes:
        columns["messages"] = None if changes["messages"] is None else shapes.dumps(changes["messages"])
    if "ownerId" in changes:
        columns["owner_id"] = changes["ownerId"]
    assignments = ", ".join(f"{column} = ?" for column in columns)
    conn.execute(f"UPDATE records SET {assignments} WHERE id = ?", [*columns.values(), record_id])
    fresh = get_row(conn, record_id)
    assert fresh is not None
    return shapes.record(fresh)


def delete(conn: sqlite3.Connection, record_ids: list[str]) -> list[str]:
    """Delete records and their results; returns the ids that existed."""
    found: list[str] = []
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start : start + 500]
        marks = placeholders(chunk)
        found += [row["id"] for row in conn.execute(f"SELECT id FROM records WHERE id IN ({marks})", chunk)]
        conn.execute(f"DELETE FROM records WHERE id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM record_results WHERE record_id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM step_results WHERE record_id IN ({marks})", chunk)
    return found


def merge_metadata(current: Mapping[str, Any], updates: Mapping[str, Any], strategy: str) -> dict[str, Any]:
    """The runtime merge strategies: `merge` (top-level keys), `replace` and `deep-merge`."""
    if strategy == "replace":
        return dict(updates)
    if strategy == "deep-merge":
        merged = dict(current)
        for key, value in updates.items():
            old = merged.get(key)
            merged[key] = (
                merge_metadata(old, value, "deep-merge")
                if isinstance(old, dict) and isinstance(value, dict)
                else value
            )
        return merged
    return {**current, **updates}
