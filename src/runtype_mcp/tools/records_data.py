"""Records in and out as CSV, and what is in a type (runtype-api.md §2.5-2.9).

CSV content never goes into the context window whole: an export lands in a local file and the
tool returns its shape and first rows; an upload is checked locally (size, header) before sending.
"""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
from mcp.types import CallToolResult
from pydantic import Field

from runtype_mcp.errors import ArgumentError, Detail, clean
from runtype_mcp.models import Record
from runtype_mcp.models.outputs import RecordRow
from runtype_mcp.models.outputs_records import (
    ExportOut,
    FieldValue,
    FieldValuesOut,
    FilterPreviewOut,
    SchemaField,
    SchemaOut,
    UploadOut,
    UploadRow,
)
from runtype_mcp.tools.filters import WhereArg, where_json
from runtype_mcp.tools.params import FilterRef, RecordType
from runtype_mcp.tools.preview import shrink
from runtype_mcp.tools.records import records
from runtype_mcp.tools.registry import Ctx, client_of, result
from runtype_mcp.tools.shaping import write_warnings

MAX_UPLOAD = 20 * 1024 * 1024
SHOWN_COLUMNS = 40
PREVIEW_BUDGET = 8000  # characters of preview cells in one export result
SHOWN_ERRORS = 10
SHOWN_FIELDS = 50

FilePath = Annotated[
    str, Field(min_length=1, max_length=4096, description="Absolute local file path (~ allowed).")
]


def _local_path(raw: str, arg: str) -> Path:
    if "\x00" in raw:
        raise ArgumentError([Detail(arg, "must not contain NUL characters", "pass a plain file path")])
    try:
        path = Path(raw).expanduser()
    except RuntimeError:  # "~someone" whose home directory cannot be found
        raise ArgumentError(
            [Detail(arg, "names an unknown home directory", "use an absolute path")]
        ) from None
    if not path.is_absolute():
        raise ArgumentError(
            [Detail(arg, "must be an absolute path", "e.g. ~/exports/customers.csv or /tmp/customers.csv")]
        )
    return path


# ---------------------------------------------------------------- export


async def _export_target(raw: str, overwrite: bool) -> Path:
    path = _local_path(raw, "path")
    parent = anyio.Path(path.parent)
    if not await parent.is_dir():
        raise ArgumentError(
            [
                Detail(
                    "path",
                    f"folder {str(path.parent)!r} does not exist",
                    "create it first or pick another path",
                )
            ]
        )
    target = anyio.Path(path)
    if await target.is_dir():
        raise ArgumentError([Detail("path", "is a folder", "add a file name, e.g. records.csv")])
    if not overwrite and await target.exists():
        raise ArgumentError([Detail("path", "file already exists", "pass overwrite=true or another path")])
    return path


def _summarize(path: Path, preview_rows: int) -> tuple[list[str], int | None, list[list[str]]]:
    """Header, row count (None if not parseable as CSV) and the first rows, cells bounded."""
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, [])
            rows: list[list[str]] = []
            count = 0
            for row in reader:
                count += 1
                if len(rows) < preview_rows:
                    rows.append(row[:SHOWN_COLUMNS])
        except csv.Error:
            return [], None, []
    cells = max(1, len(rows) * min(len(header) or 1, SHOWN_COLUMNS))
    width = max(20, min(200, PREVIEW_BUDGET // cells))
    return header, count, [[clean(c, width) for c in row] for row in rows]


@records.tool(title="Export records to CSV file", kind="read")
async def export_records_csv(
    ctx: Ctx,
    path: FilePath,
    type: RecordType | None = None,
    filter: FilterRef = None,
    search: Annotated[str | None, Field(max_length=500, description="Free-text search.")] = None,
    overwrite: bool = False,
    preview_rows: Annotated[int, Field(ge=0, le=20, description="Rows to show back.")] = 5,
) -> Annotated[CallToolResult, ExportOut]:
    """Export matching records to a local CSV file (the folder must exist); returns row count, columns
    and the first rows.
    """
    if filter is not None and type is None:
        raise ArgumentError([Detail("filter", "needs type", "add the record type the filter applies to")])
    try:
        dest = await _export_target(path, overwrite)
    except OSError as exc:  # e.g. a file name too long for the file system
        raise ArgumentError(
            [Detail("path", f"cannot use it ({clean(exc.strerror or exc, 100)})", "pick another path")]
        ) from None
    params: dict[str, Any] = {"type": type, "search": search}
    if filter is not None:
        params["recordFilter"] = {"type": type, "where": where_json(filter)}
    part = anyio.Path(dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part"))
    try:
        try:
            async with await anyio.open_file(part, "xb") as fh:
                size = await client_of(ctx).export_records_csv(params, fh.write)
        except OSError as exc:
            raise ArgumentError(
                [
                    Detail(
                        "path", f"cannot write here ({clean(exc.strerror or exc, 100)})", "pick another path"
                    )
                ]
            ) from None
        if size == 0:
            await part.unlink()
            return result(
                ExportOut(written=False, path=str(dest), note="No records matched; no file was written.")
            )
        header, count, rows = await anyio.to_thread.run_sync(_summarize, Path(part), preview_rows)
        await part.rename(dest)
    finally:
        with anyio.CancelScope(shield=True):  # a deadline or cancel must not leave the .part file behind
            if await part.exists():
                await part.unlink()
    shown = [clean(c, 100) for c in header[:SHOWN_COLUMNS]]
    return result(
        ExportOut(
            written=True,
            path=str(dest),
            bytes=size,
            row_count=count,
            columns=shown,
            columns_omitted=max(0, len(header) - len(shown)) or None,
            preview_rows=rows,
            note=None if count is not None else "Saved, but the file did not parse as CSV; open it to check.",
        )
    )


# ---------------------------------------------------------------- upload


async def _read_source(path: str | None, csv_text: str | None) -> tuple[bytes, str]:
    if csv_text is not None:
        content = csv_text.encode("utf-8")
        if len(content) > MAX_UPLOAD:
            raise ArgumentError([Detail("csv_text", "is over 20 MB", "split it into smaller uploads")])
        return content, "upload.csv"
    assert path is not None
    local = anyio.Path(_local_path(path, "path"))
    if not await local.is_file():
        raise ArgumentError([Detail("path", "no such file", "check the path; it must be a CSV file")])
    if (await local.stat()).st_size > MAX_UPLOAD:
        raise ArgumentError([Detail("path", "file is over 20 MB", "split it into smaller files")])
    return await local.read_bytes(), local.name


def _header(content: bytes, arg: str) -> list[str]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ArgumentError([Detail(arg, "is not UTF-8 text", "save the CSV as UTF-8")]) from None
    try:
        header = next(csv.reader(io.StringIO(text[:1_000_000])), [])
    except csv.Error as exc:
        raise ArgumentError(
            [Detail(arg, f"bad CSV header ({clean(exc, 100)})", "fix the first line")]
        ) from None
    if not [h for h in header if h.strip()]:
        raise ArgumentError([Detail(arg, "has no header row", "the first line must name the columns")])
    return header


@records.tool(title="Import records from CSV", kind="create")
async def upload_records_csv(
    ctx: Ctx,
    name_column: Annotated[str, Field(min_length=1, max_length=255, description="Column with record names.")],
    path: Annotated[str | None, Field(max_length=4096, description="Absolute local CSV path.")] = None,
    csv_text: Annotated[str | None, Field(max_length=MAX_UPLOAD, description="CSV content.")] = None,
    type_value: Annotated[RecordType | None, Field(description="One type for all rows.")] = None,
    type_column: Annotated[
        str | None, Field(max_length=255, description="Column with each row's type.")
    ] = None,
) -> Annotated[CallToolResult, UploadOut]:
    """Create records from a CSV with a header row (other columns become metadata), max 20 MB. Give path
    or csv_text, and type_value or type_column.
    """
    problems: list[Detail] = []
    if (path is None) == (csv_text is None):
        problems.append(Detail("path", "give exactly one of path or csv_text", None))
    if (type_value is None) == (type_column is None):
        problems.append(Detail("type_value", "give exactly one of type_value or type_column", None))
    if problems:
        raise ArgumentError(problems)
    try:
        content, filename = await _read_source(path, csv_text)
    except OSError as exc:  # unreadable, or a name too long for the file system
        raise ArgumentError(
            [Detail("path", f"cannot read it ({clean(exc.strerror or exc, 100)})", "pick another file")]
        ) from None
    source = "path" if path is not None else "csv_text"
    header = _header(content, source)
    wanted = [("name_column", name_column)] + ([("type_column", type_column)] if type_column else [])
    missing = [
        Detail(arg, f"column {col!r} is not in the header", None) for arg, col in wanted if col not in header
    ]
    if missing:
        columns = ", ".join(repr(clean(h, 60)) for h in header[:30])
        raise ArgumentError([Detail(d.path, d.message, f"columns are: {columns}") for d in missing])
    fields = {"nameColumn": name_column}
    if type_value is not None:
        fields["typeValue"] = type_value
    elif type_column is not None:
        fields["typeColumn"] = type_column
    body = await client_of(ctx).upload_records_csv(filename, content, fields)
    details = [clean(d, 200) for d in body.get("errorDetails") or []]
    rows = [r for r in body.get("records") or [] if isinstance(r, dict)]
    warnings = write_warnings(Record.model_validate({"id": "-", "warnings": body.get("warnings") or []}))
    created = body.get("created") if isinstance(body.get("created"), int) else len(rows)
    errors = body.get("errors") if isinstance(body.get("errors"), int) else len(details)
    hint = f"list_records with type={type_value!r} shows them." if type_value else "list_records shows them."
    return result(
        UploadOut(
            success=body.get("success") if isinstance(body.get("success"), bool) else None,
            created=created,
            errors=errors,
            error_details=details[:SHOWN_ERRORS],
            error_details_omitted=max(0, len(details) - SHOWN_ERRORS) or None,
            records=[
                UploadRow(
                    id=_bounded(r.get("id")), name=_bounded(r.get("name")), type=_bounded(r.get("type"))
                )
                for r in rows[:10]
            ],
            records_omitted=max(0, len(rows) - 10) or None,
            warnings=warnings[:10],
            message=clean(body["message"], 300) if body.get("message") else None,
            next=hint + (" Fix the failed rows and upload only those." if errors else ""),
        )
    )


def _bounded(value: Any) -> str | None:
    return clean(value, 120) if value is not None else None


# ---------------------------------------------------------------- field values, preview, schema


@records.tool(title="Field values", kind="read")
async def get_field_values(
    ctx: Ctx,
    type: RecordType,
    field: Annotated[str, Field(min_length=1, max_length=200, description="Metadata key, e.g. status.")],
    limit: Annotated[int, Field(ge=1, le=100, description="Most common values to return.")] = 20,
) -> Annotated[CallToolResult, FieldValuesOut]:
    """Top distinct values of one metadata field with counts. Use before writing a filter."""
    body = await client_of(ctx).field_values(type=type, field=field, limit=limit)
    values = [
        FieldValue(
            value=shrink(v.get("value")), count=v.get("count") if isinstance(v.get("count"), int) else None
        )
        for v in (body.get("values") or [])[:limit]
        if isinstance(v, dict)
    ]
    truncated = bool(body.get("truncated"))
    return result(
        FieldValuesOut(
            type=type,
            field=field,
            values=values,
            truncated=truncated,
            note="More distinct values exist; raise limit to see more." if truncated else None,
        )
    )


@records.tool(title="Preview record filter", kind="read")
async def preview_record_filter(
    ctx: Ctx, type: RecordType, filter: WhereArg = None
) -> Annotated[CallToolResult, FilterPreviewOut]:
    """Count the records of a type matching a filter, with samples. Check a filter here before
    bulk_edit_records or export_records_csv.
    """
    body: dict[str, Any] = {"type": type}
    if filter is not None:
        body["where"] = where_json(filter)
    out = await client_of(ctx).preview_record_filter(body)
    samples = [
        RecordRow(
            id=str(s["id"]),
            name=clean(s.get("name") or "", 200),
            metadata=shrink(s.get("metadata") or {}, 60, 12),
        )
        for s in (out.get("samples") or [])[:10]
        if isinstance(s, dict) and s.get("id")
    ]
    count = out.get("matchedCount")
    return result(
        FilterPreviewOut(
            type=type,
            matched_count=count if isinstance(count, int) else None,
            truncated=out.get("truncated") if isinstance(out.get("truncated"), bool) else None,
            samples=samples,
            next="To change them: bulk_edit_records with the same type and filter (dry run first).",
        )
    )


def _schema_field(raw: Any) -> SchemaField | None:
    if isinstance(raw, str):
        return SchemaField(name=clean(raw, 100))
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    return SchemaField(
        name=clean(raw["name"], 100),
        type=clean(raw["type"], 40) if raw.get("type") else None,
        required=raw.get("required") if isinstance(raw.get("required"), bool) else None,
        format=clean(raw["format"], 40) if raw.get("format") else None,
        example=shrink(raw.get("example"), 60, 3),
        description=clean(raw["description"], 120) if raw.get("description") else None,
    )


@records.tool(title="Discover record schema", kind="read")
async def discover_record_schema(
    ctx: Ctx,
    type: RecordType,
    sample: Annotated[int | None, Field(ge=1, le=1000, description="Records to sample.")] = None,
) -> Annotated[CallToolResult, SchemaOut]:
    """The metadata fields of a record type (name, type, required, example), found by sampling records."""
    body = await client_of(ctx).discover_record_schema(type=type, sample=sample)
    fields = [f for f in (_schema_field(raw) for raw in body.get("fields") or []) if f is not None]

    def num(key: str) -> int | None:
        value = body.get(key)
        return value if isinstance(value, int) else None

    return result(
        SchemaOut(
            type=type,
            total_records=num("totalRecords"),
            sampled_records=num("sampledRecords"),
            sampled_at=body.get("sampledAt") if isinstance(body.get("sampledAt"), str) else None,
            fields=fields[:SHOWN_FIELDS],
            fields_omitted=max(0, len(fields) - SHOWN_FIELDS) or None,
        )
    )
