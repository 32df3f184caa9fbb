"""Records in from CSV (runtype-api.md §2.6), in one variant per transport.

stdio: `path` names a file inside the files folder (see `files.py`) or `csv_text` carries the
content; streamable HTTP touches no file of the server, so there it takes `csv_text` only. The
content is checked locally (size, header) before anything is sent.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import anyio.to_thread
from mcp.types import CallToolResult
from pydantic import Field, WithJsonSchema

from runtype_mcp.client.parsing import expect_keys
from runtype_mcp.errors import ArgumentError, Detail, clean
from runtype_mcp.files import FilesFolder
from runtype_mcp.models import Record
from runtype_mcp.models.outputs_records import UploadOut, UploadRow
from runtype_mcp.tools.csv_import import LISTED, ColumnType, Policy, plan_rows, run_import
from runtype_mcp.tools.params import RecordType
from runtype_mcp.tools.records import records
from runtype_mcp.tools.registry import Ctx, client_of, result, settings_of
from runtype_mcp.tools.shaping import write_warnings

MAX_UPLOAD = 20 * 1024 * 1024
SHOWN_ERRORS = 10


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


def _text_content(csv_text: str) -> bytes:
    content = csv_text.encode("utf-8")
    if len(content) > MAX_UPLOAD:
        raise ArgumentError([Detail("csv_text", "is over 20 MB", "split it into smaller uploads")])
    return content


NameColumn = Annotated[str, Field(min_length=1, max_length=255, description="Column of names.")]
CsvText = Annotated[str, Field(max_length=MAX_UPLOAD, description="CSV content.")]
TypeValue = Annotated[RecordType | None, Field(description="One type for all rows.")]
TypeColumn = Annotated[str | None, Field(max_length=255, description="Column of row types.")]
OnConflict = Annotated[
    Policy | None,
    Field(description="Existing or repeated names (typed import)."),
]
DryRun = Annotated[bool, Field(description="With on_conflict: report only.")]
ColumnTypes = Annotated[
    dict[str, ColumnType] | None,
    WithJsonSchema({"type": "object", "description": "{column: string|integer|number|boolean}"}),
]
Trim = bool


@records.tool(title="Import records from CSV", kind="create", transports=("stdio",))
async def upload_records_csv(
    ctx: Ctx,
    name_column: NameColumn,
    path: Annotated[str | None, Field(max_length=4096, description="File in the files folder.")] = None,
    csv_text: CsvText | None = None,
    type_value: TypeValue = None,
    type_column: TypeColumn = None,
    on_conflict: OnConflict = None,
    dry_run: DryRun = False,
    column_types: ColumnTypes = None,
    trim: Trim = True,
) -> Annotated[CallToolResult, UploadOut]:
    """Create records from a CSV (header row; other columns become metadata; max 20 MB): path or
    csv_text, and type_value or type_column."""
    problems: list[Detail] = []
    if (path is None) == (csv_text is None):
        problems.append(Detail("path", "give exactly one of path or csv_text", None))
    _check_type_args(problems, type_value, type_column)
    policy = _policy(on_conflict, dry_run, column_types, trim)
    if csv_text is not None:
        return await _upload(
            ctx,
            _text_content(csv_text),
            "upload.csv",
            "csv_text",
            name_column,
            type_value,
            type_column,
            policy,
        )
    assert path is not None
    folder = FilesFolder(settings_of(ctx).files_dir)
    try:
        content = await anyio.to_thread.run_sync(folder.read, path, MAX_UPLOAD)
    except OSError as exc:  # unreadable, or a name too long for the file system
        raise ArgumentError(
            [Detail("path", f"cannot read it ({clean(exc.strerror or exc, 100)})", "pick another file")]
        ) from None
    if content is None:
        raise ArgumentError([Detail("path", "file is over 20 MB", "split it into smaller files")])
    name = os.path.basename(path.rstrip("/\\")) or "upload.csv"
    return await _upload(ctx, content, name, "path", name_column, type_value, type_column, policy)


@records.tool(
    title="Import records from CSV", kind="create", name="upload_records_csv", transports=("streamable-http",)
)
async def upload_records_csv_text(
    ctx: Ctx,
    name_column: NameColumn,
    csv_text: CsvText,
    type_value: TypeValue = None,
    type_column: TypeColumn = None,
    on_conflict: OnConflict = None,
    dry_run: DryRun = False,
    column_types: ColumnTypes = None,
    trim: Trim = True,
) -> Annotated[CallToolResult, UploadOut]:
    """Create records from CSV text with a header row (other columns become metadata), max 20 MB. Give
    type_value or type_column.
    """
    _check_type_args([], type_value, type_column)
    policy = _policy(on_conflict, dry_run, column_types, trim)
    return await _upload(
        ctx, _text_content(csv_text), "upload.csv", "csv_text", name_column, type_value, type_column, policy
    )


def _check_type_args(problems: list[Detail], type_value: str | None, type_column: str | None) -> None:
    if (type_value is None) == (type_column is None):
        problems.append(Detail("type_value", "give exactly one of type_value or type_column", None))
    if problems:
        raise ArgumentError(problems)


@dataclass(frozen=True)
class ImportPolicy:
    on_conflict: Policy
    dry_run: bool
    column_types: dict[str, ColumnType] | None
    trim: bool


def _policy(
    on_conflict: Policy | None, dry_run: bool, column_types: dict[str, ColumnType] | None, trim: bool
) -> ImportPolicy | None:
    if on_conflict is None:
        if dry_run or column_types:
            raise ArgumentError(
                [Detail("on_conflict", "dry_run and column_types need the checked import", "add on_conflict")]
            )
        return None
    return ImportPolicy(on_conflict, dry_run, column_types, trim)


async def _upload(
    ctx: Ctx,
    content: bytes,
    filename: str,
    source: str,
    name_column: str,
    type_value: str | None,
    type_column: str | None,
    policy: ImportPolicy | None = None,
) -> CallToolResult:
    header = _header(content, source)
    wanted = [("name_column", name_column)] + ([("type_column", type_column)] if type_column else [])
    missing = [
        Detail(arg, f"column {col!r} is not in the header", None) for arg, col in wanted if col not in header
    ]
    if missing:
        columns = ", ".join(repr(clean(h, 60)) for h in header[:30])
        raise ArgumentError([Detail(d.path, d.message, f"columns are: {columns}") for d in missing])
    if policy is not None:
        return await _checked_import(ctx, content, name_column, type_value, type_column, policy)
    fields = {"nameColumn": name_column}
    if type_value is not None:
        fields["typeValue"] = type_value
    elif type_column is not None:
        fields["typeColumn"] = type_column
    body = await client_of(ctx).upload_records_csv(filename, content, fields)
    body = expect_keys(body, "upload csv", "created", "records", "errors", "errorDetails")
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


async def _checked_import(
    ctx: Ctx,
    content: bytes,
    name_column: str,
    type_value: str | None,
    type_column: str | None,
    policy: ImportPolicy,
) -> CallToolResult:
    text = content.decode("utf-8-sig")
    plan = plan_rows(text, name_column, type_value, type_column, policy.column_types, policy.trim)
    out = await run_import(ctx, plan, policy.on_conflict, policy.dry_run)
    omitted = 0

    def cap(items: dict[str, str]) -> dict[str, str]:
        nonlocal omitted
        omitted += max(0, len(items) - LISTED)
        return dict(list(items.items())[:LISTED])

    where = f"list_records with type={type_value!r}" if type_value else "list_records"
    if policy.dry_run:
        step = "Dry run: nothing written. Call again without dry_run to import."
    else:
        step = f"Imported. {where} shows the records." + (
            " Fix the error lines and import only those." if out.errors else ""
        )
    if omitted:
        step += f" Lists cut at {LISTED} names each; {where} has them all."
    return result(
        UploadOut(
            dry_run=policy.dry_run,
            column_types=dict(plan.types),
            created=len(out.created),
            created_ids=cap(out.created),
            updated=len(out.updated),
            updated_ids=cap(out.updated),
            unchanged=len(out.unchanged),
            skipped=out.skipped[:LISTED],
            errors=len(out.errors),
            error_details=out.errors[:LISTED],
            error_details_omitted=(
                omitted + max(0, len(out.skipped) - LISTED) + max(0, len(out.errors) - LISTED)
            )
            or None,
            next=step,
        )
    )
