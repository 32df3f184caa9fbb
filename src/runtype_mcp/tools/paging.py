"""One opaque `cursor` for the model, whatever the API's paging style (runtype-api.md §1.4).

Cursor-style endpoints pass Runtype's own cursor through. Page- and offset-style endpoints get a
cursor we encode ourselves ("page:3", "offset:40"); a cursor from another tool is rejected with
an error that says where cursors come from.
"""

from __future__ import annotations

from runtype_mcp.errors import ArgumentError, Detail


def _bad(style: str) -> ArgumentError:
    return ArgumentError(
        [
            Detail(
                "cursor",
                f"not a {style} cursor from this tool",
                "pass next_cursor exactly as this tool returned it, or omit it",
            )
        ]
    )


def page_from(cursor: str | None) -> int:
    if cursor is None:
        return 1
    kind, _, num = cursor.partition(":")
    if kind != "page" or not num.isdigit() or len(num) > 9 or int(num) < 1:
        raise _bad("page")
    return int(num)


def offset_from(cursor: str | None) -> int:
    if cursor is None:
        return 0
    kind, _, num = cursor.partition(":")
    if kind != "offset" or not num.isdigit() or len(num) > 9:
        raise _bad("offset")
    return int(num)


def next_page(page: int, has_more: bool) -> str | None:
    return f"page:{page + 1}" if has_more else None


def next_offset(offset: int, returned: int, has_more: bool) -> str | None:
    return f"offset:{offset + returned}" if has_more and returned > 0 else None
