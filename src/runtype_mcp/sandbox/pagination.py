"""The three paging styles of runtype-api.md §1.4: cursor (keyset on `seq`), page and offset."""

from __future__ import annotations

import base64
import binascii
import json
import math
import sqlite3
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from .validation import invalid, query_bool, query_enum, query_int

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class Cursor:
    key: int  # the `seq` the page starts after (forwards) or before (backwards)
    offset: int  # position of the first row of the page this cursor opens
    backwards: bool


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps({"k": cursor.key, "o": cursor.offset, "b": int(cursor.backwards)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> Cursor:
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        return Cursor(key=int(data["k"]), offset=max(0, int(data["o"])), backwards=bool(data["b"]))
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise invalid(
            "INVALID_FORMAT",
            "cursor is not a cursor this API issued",
            "cursor",
            "Pass pagination.nextCursor or pagination.prevCursor from a previous response unchanged, or omit cursor",
        ) from None


@dataclass(frozen=True)
class CursorPage:
    limit: int
    cursor: Cursor | None
    include_count: bool


def cursor_page_request(request: Request) -> CursorPage:
    limit = query_int(request, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    raw = request.query_params.get("cursor")
    cursor = decode_cursor(raw) if raw else None
    direction = query_enum(request, "direction", ("next", "prev"))
    if cursor is not None and direction is not None:
        cursor = Cursor(cursor.key, cursor.offset, direction == "prev")
    return CursorPage(limit, cursor, query_bool(request, "includeCount"))


def fetch_cursor_page(
    conn: sqlite3.Connection, table: str, where: str, params: list[Any], page: CursorPage
) -> tuple[list[sqlite3.Row], dict[str, Any]]:
    """Newest first, by `seq`. `table` and `where` are trusted SQL; values travel in `params`."""
    cursor = page.cursor
    clauses = [where] if where else []
    args = list(params)
    if cursor is not None:
        clauses.append("seq > ?" if cursor.backwards else "seq < ?")
        args.append(cursor.key)
    sql_where = " WHERE " + " AND ".join(f"({c})" for c in clauses) if clauses else ""
    order = "ASC" if cursor is not None and cursor.backwards else "DESC"
    rows = conn.execute(
        f"SELECT * FROM {table}{sql_where} ORDER BY seq {order} LIMIT ?", [*args, page.limit + 1]
    ).fetchall()
    extra = len(rows) > page.limit
    rows = rows[: page.limit]
    if cursor is not None and cursor.backwards:
        rows.reverse()
        offset = max(0, cursor.offset - len(rows))
        has_prev, has_more = extra, True
    else:
        offset = cursor.offset if cursor is not None else 0
        has_prev, has_more = cursor is not None and offset > 0, extra
    pagination: dict[str, Any] = {
        "limit": page.limit,
        "hasMore": has_more,
        "hasPrev": has_prev,
        "currentOffset": offset,
    }
    if rows and has_more:
        pagination["nextCursor"] = encode_cursor(Cursor(rows[-1]["seq"], offset + len(rows), False))
    if rows and has_prev:
        pagination["prevCursor"] = encode_cursor(Cursor(rows[0]["seq"], offset, True))
    if page.include_count:
        total = conn.execute(
            f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else ""), params
        ).fetchone()[0]
        pagination["totalCount"] = total
        pagination["totalPages"] = math.ceil(total / page.limit)
        pagination["currentPage"] = offset // page.limit + 1
    return rows, pagination


def page_pagination(
    page: int, limit: int, returned: int, has_more: bool, total: int | None
) -> dict[str, Any]:
    return {
        "page": page,
        "limit": limit,
        "hasMore": has_more,
        "hasPrev": page > 1,
        "total": total,
        "totalPages": None if total is None else math.ceil(total / limit),
        "hasNextPage": has_more,
        "hasPrevPage": page > 1,
        "returned": returned,
    }


def offset_pagination(limit: int, offset: int, returned: int, has_more: bool) -> dict[str, Any]:
    return {"hasMore": has_more, "limit": limit, "offset": offset, "returned": returned}
