"""Records out as CSV (runtype-api.md §2.5), in one variant per transport.

CSV content never goes into the context window whole. stdio: the export lands in a CSV file inside
the files folder (see `files.py`) and the tool returns its shape and first rows. Streamable HTTP
touches no file of the server: the CSV comes back as an embedded `text/csv` resource, bounded.
Both stop at the export caps (RUNTYPE_EXPORT_MAX_ROWS / _BYTES) on a whole row and say so.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
from mcp.types import CallToolResult, EmbeddedResource, TextResourceContents
from pydantic import Field

from runtype_mcp.client.csv_stream import ExportStats
from runtype_mcp.config import Settings
from runtype_mcp.errors import ArgumentError, Detail, clean
from runtype_mcp.files import FilesFolder
from runtype_mcp.models.outputs_records import ExportInlineOut, ExportOut
from runtype_mcp.tools.filters import where_json
from runtype_mcp.tools.params import FilterRef, RecordType
from runtype_mcp.tools.records import records
from runtype_mcp.tools.registry import Ctx, client_of, result, settings_of

INLINE_MAX_BYTES = 1024 * 1024  # an export returned inside a streamable-HTTP reply
SHOWN_COLUMNS = 40
PREVIEW_BUDGET = 8000  # characters of preview cells in one export result
NARROW = "narrow it with type, filter or search (preview_record_filter counts the matches first)"

FilePath = Annotated[
    str,
    Field(min_length=1, max_length=4096, description="File name in the files folder."),
]
Search = Annotated[str | None, Field(max_length=500, description="Free-text search.")]
PreviewRows = Annotated[int, Field(ge=0, le=20, description="Rows to show back.")]


def _params(type: str | None, filter: Any, search: str | None) -> dict[str, Any]:
    if filter is not None and type is None:
        raise ArgumentError([Detail("filter", "needs type", "add the record type the filter applies to")])
    params: dict[str, Any] = {"type": type, "search": search}
    if filter is not None:
        params["recordFilter"] = {"type": type, "where": where_json(filter)}
    return params


def _summarize(lines: Iterable[str], preview_rows: int) -> tuple[list[str], list[list[str]], bool]:
    """Header and the first rows, cells bounded; False when the start does not parse as CSV."""
    reader = csv.reader(lines)
    try:
        header = next(reader, [])
        rows: list[list[str]] = []
        for row in reader:
            if len(rows) >= preview_rows:
                break
            rows.append(row[:SHOWN_COLUMNS])
    except csv.Error:
        return [], [], False
    cells = max(1, len(rows) * min(len(header) or 1, SHOWN_COLUMNS))
    width = max(20, min(200, PREVIEW_BUDGET // cells))
    return header, [[clean(c, width) for c in row] for row in rows], True


def _summarize_file(path: Path, preview_rows: int) -> tuple[list[str], list[list[str]], bool]:
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        return _summarize(fh, preview_rows)


def _cap_note(stats: ExportStats, settings: Settings, inline: bool) -> str | None:
    if stats.capped is None:
        return None
    if stats.capped == "rows":
        cap, setting = f"{settings.export_max_rows:,} rows", "RUNTYPE_EXPORT_MAX_ROWS"
    elif inline and settings.export_max_bytes > INLINE_MAX_BYTES:
        cap, setting = f"{INLINE_MAX_BYTES // 1024:,} KiB returned in one reply over HTTP", None
    else:
        cap, setting = f"{settings.export_max_bytes:,} bytes", "RUNTYPE_EXPORT_MAX_BYTES"
    raise_it = f", or ask the user to raise {setting}" if setting else ""
    where = "the CSV" if inline else "the file"
    return (
        f"Export cut at the cap of {cap}: {where} holds the first {stats.rows:,} rows, each complete, "
        f"and more matched. To get the rest, {NARROW}{raise_it}."
    )


@records.tool(title="Export records to CSV", kind="write_file", transports=("stdio",))
async def export_records_csv(
    ctx: Ctx,
    path: FilePath,
    type: RecordType | None = None,
    filter: FilterRef = None,
    search: Search = None,
    overwrite: bool = False,
    preview_rows: PreviewRows = 5,
) -> Annotated[CallToolResult, ExportOut]:
    """Export matching records to a CSV file in the files folder; returns its shape and first rows."""
    params = _params(type, filter, search)
    settings = settings_of(ctx)
    folder = FilesFolder(settings.files_dir)
    try:
        dest = await anyio.to_thread.run_sync(lambda: folder.resolve_for_write(path, overwrite=overwrite))
        temp, raw_fh = await anyio.to_thread.run_sync(folder.open_temp, dest)
    except OSError as exc:  # e.g. a file name too long for the file system
        raise ArgumentError(
            [Detail("path", f"cannot write here ({clean(exc.strerror or exc, 100)})", "pick another name")]
        ) from None
    shown_path = str(dest)
    try:
        try:
            async with anyio.wrap_file(raw_fh) as fh:
                stats = await client_of(ctx).export_records_csv(
                    params, fh.write, max_rows=settings.export_max_rows, max_bytes=settings.export_max_bytes
                )
                if stats.capped:
                    await fh.truncate(stats.bytes)
            if stats.bytes == 0:
                empty = "No records matched; no file was written."
                note = _cap_note(stats, settings, inline=False) if stats.capped else empty
                return result(
                    ExportOut(
                        written=False, path=shown_path, truncated=True if stats.capped else None, note=note
                    )
                )
            header, rows, parsed = await anyio.to_thread.run_sync(_summarize_file, temp, preview_rows)
            await anyio.to_thread.run_sync(lambda: folder.commit(temp, dest, overwrite=overwrite))
        except OSError as exc:  # e.g. the disk is full
            raise ArgumentError(
                [
                    Detail(
                        "path", f"cannot write here ({clean(exc.strerror or exc, 100)})", "pick another name"
                    )
                ]
            ) from None
    finally:
        with anyio.CancelScope(shield=True):  # a deadline or cancel must not leave the .part file behind
            if await anyio.Path(temp).exists():
                await anyio.Path(temp).unlink()
    shown = [clean(c, 100) for c in header[:SHOWN_COLUMNS]]
    return result(
        ExportOut(
            written=True,
            path=shown_path,
            bytes=stats.bytes,
            row_count=stats.rows,
            columns=shown,
            columns_omitted=max(0, len(header) - len(shown)) or None,
            preview_rows=rows,
            truncated=True if stats.capped else None,
            note=_cap_note(stats, settings, inline=False)
            or (None if parsed else "Saved, but the file did not parse as CSV; open it to check."),
        )
    )


@records.tool(
    title="Export records as CSV", kind="read", name="export_records_csv", transports=("streamable-http",)
)
async def export_records_csv_inline(
    ctx: Ctx,
    type: RecordType | None = None,
    filter: FilterRef = None,
    search: Search = None,
    preview_rows: PreviewRows = 5,
) -> Annotated[CallToolResult, ExportInlineOut]:
    """Export matching records as CSV, returned as an embedded text/csv resource (up to 1 MiB);
    returns row count, columns and the first rows.
    """
    params = _params(type, filter, search)
    settings = settings_of(ctx)
    buffer = bytearray()

    async def collect(chunk: bytes) -> None:
        buffer.extend(chunk)

    stats = await client_of(ctx).export_records_csv(
        params,
        collect,
        max_rows=settings.export_max_rows,
        max_bytes=min(INLINE_MAX_BYTES, settings.export_max_bytes),
    )
    del buffer[stats.bytes :]
    if not buffer:
        note = (
            _cap_note(stats, settings, inline=True)
            if stats.capped
            else "No records matched; nothing to return."
        )
        return result(ExportInlineOut(truncated=True if stats.capped else None, note=note))
    content = buffer.decode("utf-8", errors="replace")
    header, rows, parsed = _summarize(io.StringIO(content, newline=""), preview_rows)
    shown = [clean(c, 100) for c in header[:SHOWN_COLUMNS]]
    uri = f"runtype://exports/{uuid.uuid4().hex}.csv"
    res = result(
        ExportInlineOut(
            uri=uri,
            bytes=len(buffer),
            row_count=stats.rows,
            columns=shown,
            columns_omitted=max(0, len(header) - len(shown)) or None,
            preview_rows=rows,
            truncated=True if stats.capped else None,
            note=_cap_note(stats, settings, inline=True)
            or (None if parsed else "The content did not parse as CSV."),
        )
    )
    resource = TextResourceContents(uri=uri, mime_type="text/csv", text=content)
    res.content.append(EmbeddedResource(type="resource", resource=resource))
    return res
