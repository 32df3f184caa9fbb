"""CSV export (§2.5, streamed page by page) and CSV upload (§2.9, multipart)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from . import records_store, shapes
from .ids import new_id
from .record_query import from_query
from .responses import Endpoint, SandboxContext, json_response, route
from .store import fetch_all
from .validation import Checker, invalid

BASE_COLUMNS = ("id", "type", "name", "createdAt", "updatedAt")
UPLOAD_LIMIT = 20 * 1024 * 1024
EXPORT_PAGE = 1000
REPORT_LIMIT = 100
# Columns our own export writes that are bookkeeping, not metadata, so an export uploads back cleanly.
SKIPPED_UPLOAD_COLUMNS = ("id", "createdAt", "updatedAt")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return shapes.dumps(value)
    return str(value)


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _form_field_csv(value: object) -> bytes | None:
    """`file` sent as an ordinary form field: the CSV text itself, or (as the SDK's generated
    `upload_csv_records` sends it) that text JSON-encoded as a string literal."""
    if not isinstance(value, str) or not value:
        return None
    if value.startswith('"'):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = None
        if isinstance(decoded, str):
            return decoded.encode()
    return value.encode()


class CsvApi:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[Endpoint]:
        return [
            route("/v1/records/export", self.export, "GET"),
            route("/v1/records/upload-csv", self.upload, "POST"),
        ]

    async def export(self, request: Request) -> Response:
        selection = from_query(request)
        where = selection.sql or "1"
        params = selection.params

        def metadata_keys(conn: sqlite3.Connection) -> list[str] | None:
            if conn.execute(f"SELECT 1 FROM records WHERE {where} LIMIT 1", params).fetchone() is None:
                return None
            rows = conn.execute(
                f"SELECT DISTINCT j.key FROM (SELECT metadata FROM records WHERE {where}) AS r,"
                " json_each(r.metadata) AS j ORDER BY j.key",
                params,
            ).fetchall()
            return [row[0] for row in rows]

        keys = await self.ctx.db.run(metadata_keys)
        if keys is None:
            return Response(status_code=204)
        header = [*BASE_COLUMNS, *(f"metadata.{key}" if key in BASE_COLUMNS else key for key in keys)]
        db = self.ctx.db

        async def stream() -> AsyncIterator[str]:
            yield _csv_text([header])
            page_sql = f"SELECT * FROM records WHERE ({where}) AND seq > ? ORDER BY seq LIMIT ?"
            last = 0
            while True:
                rows = await db.run(fetch_all(page_sql, [*params, last, EXPORT_PAGE]))
                if not rows:
                    return
                last = rows[-1]["seq"]
                lines = []
                for row in rows:
                    metadata = shapes.loads(row["metadata"], {})
                    base = [row["id"], row["type"], row["name"], row["created_at"], row["updated_at"]]
                    lines.append(base + [cell(metadata.get(key)) for key in keys])
                yield _csv_text(lines)

        return StreamingResponse(
            stream(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="records.csv"'},
        )

    async def upload(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise invalid(
                "INVALID_FORMAT",
                "upload-csv expects multipart/form-data",
                "file",
                "Send the CSV as a multipart file part named 'file' plus form fields nameColumn and typeValue or typeColumn",
            )
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > UPLOAD_LIMIT + 64 * 1024:
            raise _too_large(int(length))
        try:
            async with request.form(max_files=1, max_fields=10) as form:
                upload = form.get("file")
                fields = {key: form.get(key) for key in ("nameColumn", "typeColumn", "typeValue")}
                data = (
                    await upload.read(UPLOAD_LIMIT + 1)
                    if isinstance(upload, UploadFile)
                    else _form_field_csv(upload)
                )
        except MultiPartException as exc:
            raise invalid("INVALID_FORMAT", f"Invalid multipart body: {exc}", "file") from None
        check = Checker()
        if data is None:
            check.add(
                "MISSING_REQUIRED_FIELD",
                "file is required",
                "file",
                "Send the CSV as a multipart file part named 'file' (or as a form field 'file' holding the CSV text)",
            )
        texts = {key: value for key, value in fields.items() if isinstance(value, str) and value}
        name_column = check.string(texts, "nameColumn", required=True, max_len=255)
        type_value = check.string(texts, "typeValue", max_len=255)
        type_column = check.string(texts, "typeColumn", max_len=255)
        if type_value is None and type_column is None and "typeValue" not in texts:
            check.add(
                "MISSING_REQUIRED_FIELD",
                "typeValue or typeColumn is required",
                "typeValue",
                "Add typeValue (one type for every row) or typeColumn (the column that holds each row's type)",
            )
        check.done()
        assert data is not None
        assert name_column is not None
        if len(data) > UPLOAD_LIMIT:
            raise _too_large(len(data))
        header, rows = _parse(data)
        columns = [name_column] + ([type_column] if type_value is None and type_column else [])
        for path, column in zip(("nameColumn", "typeColumn"), columns, strict=False):
            if column not in header:
                raise invalid(
                    "INVALID_ENUM",
                    f"{path} '{column}' is not a column of the CSV",
                    path,
                    "Use one of the CSV's columns: " + ", ".join(h for h in header if h),
                )
        report = await self.ctx.db.write(
            lambda conn: _import(conn, header, rows, name_column, type_column, type_value)
        )
        return json_response(report)


def _too_large(size: int) -> Exception:
    return invalid(
        "OUT_OF_RANGE",
        f"The CSV is {size} bytes; the upload limit is {UPLOAD_LIMIT} bytes (20 MB)",
        "file",
        "Split the CSV into files under 20 MB and upload them one by one",
    )


def _parse(data: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid(
            "INVALID_FORMAT", "The CSV is not UTF-8 text", "file", "Save the file as UTF-8 CSV"
        ) from None
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise invalid("INVALID_FORMAT", f"The CSV cannot be parsed: {exc}", "file") from None
    if not table or not any(h.strip() for h in table[0]):
        raise invalid(
            "INVALID_FORMAT", "The CSV has no header row", "file", "Put column names in the first row"
        )
    return [h.strip() for h in table[0]], table[1:]


def _import(
    conn: sqlite3.Connection,
    header: list[str],
    rows: list[list[str]],
    name_column: str,
    type_column: str | None,
    type_value: str | None,
) -> dict[str, Any]:
    skipped = {name_column, *SKIPPED_UPLOAD_COLUMNS, *([type_column] if type_column else [])}
    errors: list[str] = []
    pending: list[tuple[str, str, str, dict[str, Any]]] = []
    seen: dict[tuple[str, str], int] = {}
    for index, cells in enumerate(rows):
        number = index + 2  # spreadsheet numbering: the header is row 1
        if not any(c.strip() for c in cells):
            continue
        values = dict(zip(header, cells, strict=False))
        name = values.get(name_column, "").strip()
        record_type = type_value if type_value is not None else values.get(type_column or "", "").strip()
        if not name:
            errors.append(f"Row {number}: Missing required field 'name' (column '{name_column}')")
            continue
        if not record_type:
            errors.append(f"Row {number}: Missing required field 'type' (column '{type_column}')")
            continue
        if len(name) > 500 or len(record_type) > 255:
            errors.append(f"Row {number}: name must be 1-500 characters and type 1-255 characters")
            continue
        if (record_type, name) in seen:
            errors.append(
                f"Row {number}: Duplicate of row {seen[(record_type, name)]}: type '{record_type}', name '{name}'"
            )
            continue
        existing = records_store.find_row(conn, record_type, name)
        if existing is not None:
            errors.append(
                f"Row {number}: A record of type '{record_type}' named '{name}' already exists ({existing['id']})"
            )
            continue
        seen[(record_type, name)] = number
        metadata = {
            key.removeprefix("metadata."): value
            for key, value in values.items()
            if key and key not in skipped and value != ""
        }
        pending.append((new_id("rec"), record_type, name, metadata))
    records_store.insert_many(conn, pending)
    created = len(pending)
    message = f"Created {created} record{'s' if created != 1 else ''}"
    if errors:
        message += f"; {len(errors)} row{'s' if len(errors) != 1 else ''} failed"
    return {
        "success": not errors,
        "message": message,
        "created": created,
        "errors": len(errors),
        "errorDetails": errors[:REPORT_LIMIT],
        "records": [{"id": i, "type": t, "name": n, "metadata": m} for i, t, n, m in pending[:REPORT_LIMIT]],
        "warnings": [],
    }
