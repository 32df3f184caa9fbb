"""Export streams: rows are counted as a CSV reader would, and caps cut at a whole row."""

from __future__ import annotations

import csv
import io
import itertools

import pytest

from runtype_mcp.client.csv_stream import RowCutter

DOC = (
    b'id,name,notes\r\n1,"Acme, Inc.","line one\nline two"\r\n2,Beta,"say ""hi""\n"\r\n'
    b'3,"Gamma\n\n",plain\r\n4,Delta,last'
)


def _run(
    doc: bytes, splits: list[int], max_rows: int = 10**6, max_bytes: int = 10**9
) -> tuple[bytes, RowCutter]:
    cutter = RowCutter(max_rows, max_bytes)
    out = bytearray()
    bounds = [0, *splits, len(doc)]
    for a, b in itertools.pairwise(bounds):
        out += cutter.feed(doc[a:b])
        if cutter.capped:
            break
    del out[cutter.stats().bytes :]
    return bytes(out), cutter


def _rows(doc: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(doc.decode(), newline="")))


def test_quoted_newlines_are_not_row_ends_wherever_the_chunks_split() -> None:
    for cut in range(len(DOC) + 1):
        for second in (cut, min(len(DOC), cut + 7)):
            out, cutter = _run(DOC, sorted({cut, second}))
            assert out == DOC
            assert cutter.stats().rows == len(_rows(DOC)) - 1 == 4
            assert cutter.stats().capped is None


@pytest.mark.parametrize("max_rows", [1, 2, 3])
def test_the_row_cap_keeps_exactly_that_many_whole_rows(max_rows: int) -> None:
    for cut in range(0, len(DOC), 5):
        out, cutter = _run(DOC, [cut], max_rows=max_rows)
        stats = cutter.stats()
        assert stats.capped == "rows" and stats.rows == max_rows
        assert _rows(out) == _rows(DOC)[: max_rows + 1]


def test_the_byte_cap_cuts_at_the_last_whole_row_within_it() -> None:
    for max_bytes in range(10, len(DOC)):
        out, cutter = _run(DOC, [7, 30, 55], max_bytes=max_bytes)
        stats = cutter.stats()
        assert stats.capped == "bytes" and len(out) <= max_bytes and out == DOC[: len(out)]
        assert out == b"" or out.endswith(b"\r\n")
        assert stats.rows == max(0, len(_rows(out)) - 1)


def test_a_stream_that_ends_exactly_at_the_caps_is_not_reported_as_cut() -> None:
    doc = b"a\n1\n2\n"
    out, cutter = _run(doc, [3], max_rows=2, max_bytes=len(doc))
    assert out == doc and cutter.stats().capped is None and cutter.stats().rows == 2
