"""Records §2.3, §2.4, §2.6-2.8: bulk delete, bulk edit, field values, preview filter, schema."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import records_store, shapes
from .ids import now_iso
from .record_query import conditions_sql, where_sql
from .responses import Endpoint, SandboxContext, json_response, route
from .store import placeholders
from .validation import Checker, invalid, query_int, query_required, read_json_object

BULK_DELETE_MAX = 1000
BULK_EDIT_DIFF_LIMIT = 1000
PREVIEW_SAMPLES = 5
TARGET_MODES = ("recordIds", "recordFilter", "conditions", "applyToAll")

_FORMATS = (
    ("email", re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")),
    ("date-time", re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")),
    ("date", re.compile(r"^\d{4}-\d{2}-\d{2}$")),
    ("uri", re.compile(r"^https?://\S+$")),
)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def infer_fields(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per metadata key seen in the sample: its dominant type, whether it is always set, an example."""
    types: dict[str, Counter[str]] = {}
    examples: dict[str, Any] = {}
    strings: dict[str, list[str]] = {}
    for metadata in samples:
        for key, value in metadata.items():
            types.setdefault(key, Counter())[_json_type(value)] += 1
            if value is not None and key not in examples:
                examples[key] = shapes.compact(value)
            if isinstance(value, str):
                strings.setdefault(key, []).append(value)
    fields = []
    for key in sorted(types):
        seen = {kind for kind in types[key] if kind != "null"} or {"null"}
        kind = seen.pop() if len(seen) == 1 else "number" if seen == {"integer", "number"} else "mixed"
        entry: dict[str, Any] = {
            "name": key,
            "type": kind,
            "required": sum(types[key].values()) == len(samples) and "null" not in types[key],
            "example": examples.get(key),
            "presentIn": sum(types[key].values()),
        }
        values = strings.get(key, [])
        for name, pattern in _FORMATS if kind == "string" else ():
            if values and all(pattern.match(value) for value in values):
                entry["format"] = name
                break
        fields.append(entry)
    return fields


def _atom(kind: str, value: Any) -> Any:
    if kind in ("true", "false"):
        return kind == "true"
    if kind in ("object", "array"):
        return shapes.loads(value)
    return value


class RecordsBulkApi:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[Endpoint]:
        return [
            route("/v1/records/bulk-delete", self.bulk_delete, "POST"),
            route("/v1/records/bulk-edit", self.bulk_edit, "POST"),
            route("/v1/records/field-values", self.field_values, "GET"),
            route("/v1/records/preview-filter", self.preview_filter, "POST"),
            route("/v1/records/schema", self.schema, "GET"),
        ]

    async def bulk_delete(self, request: Request) -> Response:
        body = await read_json_object(request)
        check = Checker()
        check.known_keys(body, ("ids",))
        ids = check.string_list(body, "ids", required=True, max_items=BULK_DELETE_MAX)
        check.done()
        assert ids is not None
        wanted = list(dict.fromkeys(ids))
        deleted = await self.ctx.db.write(lambda conn: records_store.delete(conn, wanted))
        gone = set(deleted)
        return json_response(
            {
                "success": True,
                "deleted": len(deleted),
                "deletedIds": [i for i in wanted if i in gone],
                "notFoundIds": [i for i in wanted if i not in gone],
            }
        )

    async def bulk_edit(self, request: Request) -> Response:
        body = await read_json_object(request)
        check = Checker()
        check.known_keys(body, (*TARGET_MODES, "updates", "deleteFields", "dryRun"))
        record_ids = check.string_list(body, "recordIds", max_items=BULK_DELETE_MAX)
        record_filter = check.mapping(body, "recordFilter")
        conditions = check.array(body, "conditions")
        check.boolean(body, "applyToAll")
        updates = check.mapping(body, "updates") or {}
        delete_fields = check.string_list(body, "deleteFields") or []
        dry_run = bool(check.boolean(body, "dryRun"))
        check.done()
        given = [mode for mode in TARGET_MODES if body.get(mode) not in (None, False)]
        if len(given) != 1:
            raise invalid(
                "MISSING_REQUIRED_FIELD" if not given else "CUSTOM_VALIDATION",
                f"Exactly one targeting mode is required; got {', '.join(given) or 'none'}",
                "" if not given else given[1],
                "Send exactly one of recordIds, recordFilter, conditions or applyToAll: true",
            )
        if not updates and not delete_fields:
            raise invalid(
                "MISSING_REQUIRED_FIELD",
                "Nothing to change: updates and deleteFields are both empty",
                "updates",
                "Add updates (metadata keys to set) or deleteFields (metadata keys to remove)",
            )
        selection, params = self._selection(record_ids, record_filter, conditions)

        def edit(conn: sqlite3.Connection) -> dict[str, Any]:
            diffs: list[dict[str, Any]] = []
            matched: list[str] = []
            now = now_iso()
            last = 0
            while True:
                rows = conn.execute(
                    f"SELECT seq, id, metadata FROM records WHERE ({selection}) AND seq > ? ORDER BY seq LIMIT 500",
                    [*params, last],
                ).fetchall()
                if not rows:
                    break
                last = rows[-1]["seq"]
                for row in rows:
                    before = shapes.loads(row["metadata"], {})
                    after = {k: v for k, v in {**before, **updates}.items() if k not in delete_fields}
                    matched.append(row["id"])
                    if len(diffs) < BULK_EDIT_DIFF_LIMIT:
                        diffs.append({"id": row["id"], "before": before, "after": after})
                    if not dry_run and after != before:
                        conn.execute(
                            "UPDATE records SET metadata = ?, field_count = ?, updated_at = ? WHERE id = ?",
                            (shapes.dumps(after), len(after), now, row["id"]),
                        )
            return {
                "data": diffs,
                "recordIds": matched,
                "matchedCount": len(matched),
                "truncated": len(matched) > len(diffs),
                "dryRun": dry_run,
                "warnings": [],
            }

        result = await (self.ctx.db.run(edit) if dry_run else self.ctx.db.write(edit))
        if record_ids is not None:
            found = set(result["recordIds"])
            result["notFoundIds"] = [i for i in dict.fromkeys(record_ids) if i not in found]
        return json_response(result)

    def _selection(
        self, record_ids: list[str] | None, record_filter: dict[str, Any] | None, conditions: list[Any] | None
    ) -> tuple[str, list[Any]]:
        if record_ids is not None:
            return f"id IN ({placeholders(record_ids)})", list(record_ids)
        if record_filter is not None:
            check = Checker()
            check.known_keys(record_filter, ("type", "where"), "recordFilter")
            record_type = check.string(
                record_filter, "type", path="recordFilter", required=True, min_len=1, max_len=255
            )
            where = check.mapping(record_filter, "where", path="recordFilter")
            check.done()
            compiled = where_sql(where, "recordFilter.where")
            if compiled is None:
                return "type = ?", [record_type]
            return f"type = ? AND ({compiled[0]})", [record_type, *compiled[1]]
        if conditions is not None:
            return conditions_sql(conditions)
        return "1", []

    async def field_values(self, request: Request) -> Response:
        record_type = query_required(request, "type")
        field = query_required(request, "field")
        limit = query_int(request, "limit", default=20, low=1, high=100)
        rows = await self.ctx.db.run(
            lambda conn: conn.execute(
                "SELECT j.type AS kind, CASE WHEN j.atom IS NULL THEN j.value ELSE j.atom END AS value,"
                " count(*) AS n FROM records, json_each(records.metadata) AS j"
                " WHERE records.type = ? AND j.key = ? GROUP BY kind, value ORDER BY n DESC, value LIMIT ?",
                (record_type, field, limit + 1),
            ).fetchall()
        )
        values = [{"value": _atom(row["kind"], row["value"]), "count": row["n"]} for row in rows[:limit]]
        return json_response(
            {"type": record_type, "field": field, "values": values, "truncated": len(rows) > limit}
        )

    async def preview_filter(self, request: Request) -> Response:
        body = await read_json_object(request)
        check = Checker()
        check.known_keys(body, ("type", "where"))
        record_type = check.string(body, "type", required=True, min_len=1, max_len=255)
        where = check.mapping(body, "where")
        check.done()
        compiled = where_sql(where, "where") or ("1", [])
        sql = f"type = ? AND ({compiled[0]})"
        params = [record_type, *compiled[1]]

        def preview(conn: sqlite3.Connection) -> tuple[int, list[sqlite3.Row]]:
            count = conn.execute(f"SELECT count(*) FROM records WHERE {sql}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT id, name, metadata FROM records WHERE {sql} ORDER BY seq DESC LIMIT ?",
                [*params, PREVIEW_SAMPLES],
            ).fetchall()
            return count, rows

        count, rows = await self.ctx.db.run(preview)
        samples = [{"id": r["id"], "name": r["name"], "metadata": shapes.loads(r["metadata"])} for r in rows]
        return json_response(
            {
                "type": record_type,
                "matchedCount": count,
                "truncated": count > len(samples),
                "samples": samples,
            }
        )

    async def schema(self, request: Request) -> Response:
        record_type = query_required(request, "type")
        sample = query_int(request, "sample", default=100, low=1, high=1000)

        def read(conn: sqlite3.Connection) -> tuple[int, list[dict[str, Any]]]:
            total = conn.execute("SELECT count(*) FROM records WHERE type = ?", (record_type,)).fetchone()[0]
            rows = conn.execute(
                "SELECT metadata FROM records WHERE type = ? ORDER BY seq DESC LIMIT ?", (record_type, sample)
            ).fetchall()
            return total, [shapes.loads(row["metadata"], {}) for row in rows]

        total, samples = await self.ctx.db.run(read)
        return json_response(
            {
                "type": record_type,
                "totalRecords": total,
                "sampledRecords": len(samples),
                "sampledAt": now_iso(),
                "fields": infer_fields(samples),
            }
        )
