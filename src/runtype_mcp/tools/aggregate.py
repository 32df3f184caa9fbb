"""Counting and summing records inside the server: a CSV export folded row by row, in flat memory.

Rows are parsed block by block as whole rows arrive (a row ends at a newline outside quotes; see
`client/csv_stream.py`), so no row is ever held longer than its block and none reaches the model.
A CSV cell is text: a metric counts a cell as a number when it parses as one, skips an empty cell
(absent or null) and counts any other value as skipped-as-non-numeric.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from runtype_mcp.client.csv_stream import row_ends
from runtype_mcp.errors import ArgumentError, BadResponse, Detail

OPS = ("count", "sum", "avg", "min", "max", "count_distinct")
_METRIC = re.compile(r"^(count|sum|avg|min|max|count_distinct)(?::(.{1,200}))?$")
MAX_DISTINCT = 100_000  # distinct values kept per metric and group; past it the count is a floor
NOT_CSV = "a body that is not the records CSV (no id column)"
# A metadata value may be longer than csv's default cell limit (128 KiB), which raised from inside a
# tool. Export rows are parsed a block of whole rows at a time, so one big cell is held once anyway.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


def is_export_header(header: list[str] | None) -> bool:
    """Every records export starts with its id column: anything else (an HTML page, JSON) is not one."""
    return bool(header) and "id" in (header or [])


@dataclass(frozen=True)
class Metric:
    label: str
    op: str
    field: str | None


def parse_metrics(specs: list[str]) -> list[Metric]:
    out: list[Metric] = []
    problems: list[Detail] = []
    for i, spec in enumerate(specs):
        m = _METRIC.match(spec.strip())
        if m is None or (m.group(1) != "count" and not m.group(2)) or (m.group(1) == "count" and m.group(2)):
            problems.append(
                Detail(
                    f"metrics[{i}]",
                    f"{spec!r} is not a metric",
                    "use count, or sum|avg|min|max|count_distinct:FIELD",
                )
            )
            continue
        out.append(Metric(spec.strip(), m.group(1), m.group(2)))
    if problems:
        raise ArgumentError(problems)
    return out


def number(cell: str) -> int | float | None:
    try:
        return int(cell)
    except ValueError:
        pass
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass
class Fold:
    group_by: list[str]
    metrics: list[Metric]
    header: list[str] | None = None
    scanned: int = 0
    groups: dict[tuple[str, ...], list[Any]] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    missing_fields: list[str] = field(default_factory=list)
    _buf: bytes = b""
    _in_quotes: bool = False
    _group_idx: list[int | None] = field(default_factory=list)
    _metric_idx: list[int | None] = field(default_factory=list)
    _counts_skip: list[bool] = field(default_factory=list)

    def feed(self, chunk: bytes) -> None:
        ends, self._in_quotes = row_ends(chunk, self._in_quotes)
        if not ends:
            self._buf += chunk
            return
        cut = ends[-1] + 1
        block, self._buf = self._buf + chunk[:cut], chunk[cut:]
        self._rows(block)

    def finish(self, *, complete: bool) -> None:
        """The last row may lack a newline; after a cap the remainder is a cut row and is dropped."""
        if complete and self._buf.strip():
            self._rows(self._buf)
        self._buf = b""

    def _setup(self, header: list[str]) -> None:
        self.header = header
        where = {name: i for i, name in enumerate(header)}

        def index(name: str | None) -> int | None:
            if name is None:
                return None
            i = where.get(name)
            if i is None and name not in self.missing_fields:
                self.missing_fields.append(name)
            return i

        self._group_idx = [index(name) for name in self.group_by]
        self._metric_idx = [index(m.field) for m in self.metrics]
        seen: set[str | None] = set()
        for m in self.metrics:  # a non-numeric cell is counted once per field, not once per metric
            numeric = m.op not in ("count", "count_distinct")
            self._counts_skip.append(numeric and m.field not in seen)
            if numeric:
                seen.add(m.field)

    def _rows(self, block: bytes) -> None:
        reader = csv.reader(io.StringIO(block.decode("utf-8", errors="replace")))
        try:
            self._fold(reader)
        except csv.Error as exc:
            raise BadResponse(
                "records export", 200, f"a CSV row it could not read ({exc})", safe=True, expected="CSV"
            ) from None

    def _fold(self, reader: Iterator[list[str]]) -> None:
        if self.header is None:
            header = next(reader, None)
            if header is None:
                return
            if not is_export_header(header):
                raise BadResponse("records export", 200, NOT_CSV, safe=True, expected="CSV")
            self._setup(header)
        group_idx, metric_idx, metrics, counts_skip = (
            self._group_idx,
            self._metric_idx,
            self.metrics,
            self._counts_skip,
        )
        groups = self.groups
        for row in reader:
            if not row:
                continue
            self.scanned += 1
            width = len(row)
            key = tuple(row[i] if i is not None and i < width else "" for i in group_idx)
            acc = groups.get(key)
            if acc is None:
                acc = groups[key] = [_start(m.op) for m in metrics]
            for k, metric in enumerate(metrics):
                op = metric.op
                if op == "count":
                    acc[k] += 1
                    continue
                i = metric_idx[k]
                cell = row[i] if i is not None and i < width else ""
                if cell == "":
                    continue
                if op == "count_distinct":
                    if len(acc[k]) < MAX_DISTINCT:
                        acc[k].add(cell)
                    continue
                value = number(cell)
                if value is None:
                    if not counts_skip[k]:
                        continue
                    label = metric.field or ""
                    self.skipped[label] = self.skipped.get(label, 0) + 1
                    continue
                state = acc[k]
                if op in ("sum", "avg"):
                    state[0] += value
                    state[1] += 1
                elif state[1] == 0 or (value < state[0] if op == "min" else value > state[0]):
                    state[0], state[1] = value, 1

    def table(self, limit: int) -> tuple[list[str], list[list[Any]], int]:
        """Columns, the first `limit` groups (largest count first when counted), and how many were left out."""
        columns = [*self.group_by, *(m.label for m in self.metrics)]
        rows = [
            [*(k or None for k in key), *(_final(m.op, s) for m, s in zip(self.metrics, acc, strict=True))]
            for key, acc in self.groups.items()
        ]
        counted = next((i for i, m in enumerate(self.metrics) if m.op == "count"), None)
        if counted is not None:
            at = len(self.group_by) + counted
            rows.sort(key=lambda r: -r[at])
        else:
            rows.sort(key=lambda r: [str(v) for v in r[: len(self.group_by)]])
        return columns, rows[:limit], max(0, len(rows) - limit)


def _start(op: str) -> Any:
    if op == "count":
        return 0
    if op == "count_distinct":
        return set()
    return [0, 0]  # sum/avg: [total, n]; min/max: [value, seen]


def _final(op: str, state: Any) -> Any:
    if op == "count":
        return state
    if op == "count_distinct":
        return len(state)
    if op == "sum":
        return _tidy(state[0]) if state[1] else None
    if op == "avg":
        return _tidy(state[0] / state[1]) if state[1] else None
    return _tidy(state[0]) if state[1] else None


def _tidy(value: int | float) -> int | float:
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else round(value, 6)
    return value
