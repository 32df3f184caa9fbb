"""The checked CSV import (`upload_records_csv` with `on_conflict`): a policy, typed values, a dry run.

Runtype's upload stores every cell as text and rejects a name that exists. Here the file is read in
the server: each column gets one type inferred from the whole column (integer, number, boolean, else
string; an empty cell leaves the key out) or from `column_types`; blank names and names repeated in
the file are reported by line; rows whose (type, name) exists are skipped, updated (merge) or
reported per `on_conflict`; then each row goes through the same never-duplicating upsert as
`upsert_records`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio

from runtype_mcp.errors import (
    ArgumentError,
    AuthError,
    ConfigError,
    Detail,
    RuntypeMCPError,
    clean,
    quote,
    render,
)
from runtype_mcp.tools.aggregate import number
from runtype_mcp.tools.registry import Ctx, client_of

Policy = Literal["skip", "update", "error"]
ColumnType = Literal["string", "integer", "number", "boolean"]
MAX_ROWS = 5000
PARALLEL = 8
LISTED = 500  # names listed per outcome in the reply


@dataclass
class Row:
    line: int
    type: str
    name: str
    metadata: dict[str, Any]
    repeats: int | None = None  # the line where this (type, name) first appeared


@dataclass
class Plan:
    types: dict[str, ColumnType]
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "line N: why", rows not imported


# A cell read as a number only when written as one: "02134" (a ZIP code), "+15551234567" (a phone
# number) or "1_000" stay text, as they would be lost or changed by int()/float().
_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _infer(cells: list[str]) -> ColumnType:
    values = [c for c in cells if c != ""]
    if not values:
        return "string"
    if all(_INTEGER.fullmatch(v) for v in values):
        return "integer"
    if all(_NUMBER.fullmatch(v) and number(v) is not None for v in values):
        return "number"
    if all(v.lower() in ("true", "false") for v in values):
        return "boolean"
    return "string"


def _convert(cell: str, kind: ColumnType) -> Any:
    if kind == "integer" or kind == "number":
        value = number(cell)
        if value is None or (kind == "integer" and not isinstance(value, int)):
            raise ValueError(f"{cell[:40]!r} is not {'an integer' if kind == 'integer' else 'a number'}")
        return value
    if kind == "boolean":
        if cell.lower() not in ("true", "false"):
            raise ValueError(f"{cell[:40]!r} is not true/false")
        return cell.lower() == "true"
    return cell


def plan_rows(
    text: str,
    name_column: str,
    type_value: str | None,
    type_column: str | None,
    column_types: dict[str, ColumnType] | None,
    trim: bool,
) -> Plan:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    raw: list[tuple[int, list[str]]] = []
    for cells in reader:
        if len(raw) >= MAX_ROWS:
            raise ArgumentError(
                [
                    Detail(
                        "csv_text / path",
                        f"the checked import (on_conflict, types, dry_run, trim) takes up to {MAX_ROWS:,} rows",
                        "split the file, or leave those options out to use Runtype's plain upload",
                    )
                ]
            )
        if any(c.strip() for c in cells):
            raw.append((reader.line_num, [c.strip() if trim else c for c in cells]))
    index = {h: i for i, h in enumerate(header)}
    unknown = [c for c in column_types or {} if c not in index]
    if unknown:
        raise ArgumentError([Detail("column_types", f"no column {clean(c, 60)!r}", None) for c in unknown])
    skip = {name_column, type_column}
    columns = [(i, h) for i, h in enumerate(header) if h not in skip and h.strip()]
    types: dict[str, ColumnType] = {}
    for i, h in columns:
        given = (column_types or {}).get(h)
        types[h] = given or _infer([cells[i] if i < len(cells) else "" for _, cells in raw])
    plan = Plan(types)
    seen: dict[tuple[str, str], int] = {}
    for line, cells in raw:

        def cell(i: int, cells: list[str] = cells) -> str:
            return cells[i] if i < len(cells) else ""

        name = cell(index[name_column])
        kind = type_value or cell(index[type_column or ""])
        if not name.strip() or not kind.strip():
            plan.problems.append(f"line {line}: blank {'name' if not name.strip() else 'type'}")
            continue
        first = seen.setdefault((kind, name), line)
        metadata: dict[str, Any] = {}
        try:
            for i, h in columns:
                if cell(i) != "":
                    metadata[h] = _convert(cell(i), types[h])
        except ValueError as exc:
            plan.problems.append(f"line {line}: column {clean(h, 60)!r}: {exc}")
            continue
        plan.rows.append(Row(line, kind, name, metadata, first if first != line else None))
    return plan


async def existing_ids(ctx: Ctx, record_types: set[str]) -> dict[tuple[str, str], str]:
    """(type, name) -> id of every record of these types (one listing per type, 100 a page)."""
    found: dict[tuple[str, str], str] = {}
    client = client_of(ctx)
    for kind in sorted(record_types):
        params = {"type": kind, "limit": 100, "view": "compact"}
        async for row in client.paginate("/records", params, max_items=10**6):
            if isinstance(row.get("name"), str) and row.get("id"):
                found[kind, row["name"]] = str(row["id"])
    return found


@dataclass
class Outcome:
    created: dict[str, str] = field(default_factory=dict)
    updated: dict[str, str] = field(default_factory=dict)
    unchanged: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def run_import(ctx: Ctx, plan: Plan, policy: Policy, dry_run: bool) -> Outcome:
    from runtype_mcp.tools.records_upsert import upsert_one  # a sibling tool module, loaded with it

    out = Outcome(errors=list(plan.problems))
    have = await existing_ids(ctx, {r.type for r in plan.rows})
    todo: list[Row] = []
    firsts: dict[tuple[str, str], Row] = {}
    for row in plan.rows:
        if row.repeats is not None:
            label = f"line {row.line}: {clean(row.name, 80)!r} repeats line {row.repeats}"
            if policy == "update":  # later lines win, merged into the one write of that name
                firsts[row.type, row.name].metadata.update(row.metadata)
                out.skipped.append(f"{label}; merged into it")
            elif policy == "skip":
                out.skipped.append(label)
            else:
                out.errors.append(f"{label}; not imported")
            continue
        firsts[row.type, row.name] = row
        rid = have.get((row.type, row.name))
        if rid is None:
            todo.append(row)
            if dry_run:
                out.created[row.name] = "(new)"
        elif policy == "skip":
            out.skipped.append(f"line {row.line}: {clean(row.name, 80)!r} exists (id {quote(rid, 120)})")
        elif policy == "error":
            out.errors.append(
                f"line {row.line}: {clean(row.name, 80)!r} exists (id {quote(rid, 120)}); nothing changed"
            )
        else:
            todo.append(row)
            if dry_run:
                out.updated[row.name] = rid
    if dry_run:
        return out
    limiter = anyio.CapacityLimiter(PARALLEL)
    fatal: list[RuntypeMCPError] = []

    async def one(row: Row) -> None:
        async with limiter:
            if fatal:
                return
            try:
                outcome, record, _ = await upsert_one(ctx, row.type, row.name, row.metadata, "merge")
            except (AuthError, ConfigError) as exc:
                fatal.append(exc)
                return
            except RuntypeMCPError as exc:
                out.errors.append(f"line {row.line}: {clean(render(exc, 'upload_records_csv'), 200)}")
                return
            bucket = (
                out.created
                if outcome == "created"
                else out.updated
                if outcome == "updated"
                else out.unchanged
            )
            bucket[row.name] = record.id

    async with anyio.create_task_group() as tg:
        for row in todo:
            tg.start_soon(one, row)
    if fatal and not (out.created or out.updated or out.unchanged):
        raise fatal[0]
    if fatal:
        out.errors.append(f"stopped early: {clean(render(fatal[0], 'upload_records_csv'), 200)}")
    return out
