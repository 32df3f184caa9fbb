"""CSV export streams: rows counted as bytes arrive, and caps that cut at a row boundary.

A row ends at a newline outside double quotes (a quoted cell may hold newlines; `""` inside quotes
toggles twice, so it needs no special case). Only positions of quotes and newlines are looked at,
so memory stays flat whatever the size of the stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Cap = Literal["rows", "bytes"]


@dataclass
class ExportStats:
    bytes: int = 0  # the output is complete (whole rows) up to here
    rows: int = 0  # data rows, header excluded
    capped: Cap | None = None


def _newlines(part: bytes, offset: int, out: list[int]) -> None:
    start = 0
    while (j := part.find(b"\n", start)) != -1:
        out.append(offset + j)
        start = j + 1


def row_ends(chunk: bytes, in_quotes: bool) -> tuple[list[int], bool]:
    """Offsets of the row-ending newlines in `chunk`, and whether it ends inside quotes."""
    ends: list[int] = []
    if b'"' not in chunk:
        if not in_quotes:
            _newlines(chunk, 0, ends)
        return ends, in_quotes
    pos = 0
    for part in chunk.split(b'"'):
        if not in_quotes:
            _newlines(part, pos, ends)
        pos += len(part) + 1
        in_quotes = not in_quotes
    return ends, not in_quotes  # no quote follows the last part


class RowCutter:
    """Passes a CSV stream through until `max_rows` data rows or `max_bytes` bytes, then stops at
    the last whole row. After a cut the writer must truncate its output to `stats().bytes` (bytes of
    a row begun in an earlier chunk were already handed on)."""

    def __init__(self, max_rows: int, max_bytes: int) -> None:
        self.max_ends = max_rows + 1  # the header row ends too
        self.max_bytes = max_bytes
        self.in_quotes = False
        self.ends = 0
        self.sent = 0
        self.boundary = 0
        self.capped: Cap | None = None

    def feed(self, chunk: bytes) -> bytes:
        """The part of `chunk` to write; once `capped` is set, stop reading."""
        if not chunk or self.capped:
            return b""
        if self.ends >= self.max_ends:  # every allowed row is in: any further byte is one row too many
            self.capped = "rows"
            return b""
        ends, in_quotes = row_ends(chunk, self.in_quotes)
        room_rows = self.max_ends - self.ends
        room_bytes = self.max_bytes - self.sent
        rows_fit = len(ends) < room_rows or (len(ends) == room_rows and ends[-1] == len(chunk) - 1)
        if rows_fit and len(chunk) <= room_bytes:
            if ends:
                self.boundary = self.sent + ends[-1] + 1
            self.sent += len(chunk)
            self.ends += len(ends)
            self.in_quotes = in_quotes
            return chunk
        cut = taken = 0
        for k, end in enumerate(ends[:room_rows]):
            if end + 1 > room_bytes:
                break
            cut, taken = end + 1, k + 1
        self.capped = "rows" if taken == room_rows else "bytes"
        if taken:
            self.boundary = self.sent + cut
        self.sent += cut
        self.ends += taken
        return chunk[:cut]

    def stats(self) -> ExportStats:
        if self.capped:
            return ExportStats(bytes=self.boundary, rows=max(0, self.ends - 1), capped=self.capped)
        rows = self.ends + (1 if self.sent > self.boundary else 0)  # a last row without a newline
        return ExportStats(bytes=self.sent, rows=max(0, rows - 1))
