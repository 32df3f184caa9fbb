"""Filter edges a user would notice, each checked in SQLite and in Python (they must agree).

`withinLastDays` / `olderThanDays` windows to the millisecond, whatever the time zone of `now` or of
the machine; windows that reach before year 1.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from runtype_mcp.sandbox.filters import compile_where, matches, parse_date_millis

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def record(number: int, **metadata: Any) -> dict[str, Any]:
    return {
        "id": f"rec_{number}",
        "name": f"r{number}",
        "createdAt": metadata.pop("createdAt", "2026-01-01T00:00:00.000Z"),
        "updatedAt": "2026-01-01T00:00:00.000Z",
        "metadata": metadata,
    }


def kept(where: dict[str, Any], records: list[dict[str, Any]], now: datetime | None = NOW) -> set[int]:
    """The record numbers `where` keeps; fails unless SQLite and Python keep the same ones."""
    python = {int(r["id"][4:]) for r in records if matches(where, r, now=now)}
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(
            "CREATE TABLE records (id TEXT, name TEXT, created_at TEXT, updated_at TEXT, metadata TEXT)"
        )
        conn.executemany(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?)",
            [
                (r["id"], r["name"], r["createdAt"], r["updatedAt"], json.dumps(r["metadata"]))
                for r in records
            ],
        )
        sql, params = compile_where(where, now=now)
        rows = conn.execute(f"SELECT id FROM records WHERE {sql}", params).fetchall()
    finally:
        conn.close()
    assert {int(row[0][4:]) for row in rows} == python
    return python


@pytest.fixture
def local_clock_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time zone is UTC+9 (no DST), so local time and UTC differ by 9 hours."""
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_window_is_cut_to_the_millisecond_of_now() -> None:
    now = datetime(2026, 11, 22, 10, 0, 0, 500_400, tzinfo=UTC)  # 500.4 ms: cut to 500
    records = [
        record(1, seen="2026-11-15T10:00:00.500Z"),  # exactly 7 days before now's millisecond
        record(2, seen="2026-11-15T10:00:00.499Z"),
        record(3, seen="2026-11-15T10:00:00.501Z"),
    ]
    assert kept({"field": "seen", "op": "withinLastDays", "value": 7}, records, now) == {1, 3}
    assert kept({"field": "seen", "op": "olderThanDays", "value": 7}, records, now) == {2}


def test_an_aware_now_in_another_zone_is_the_same_instant(local_clock_in_tokyo: None) -> None:
    tokyo = timezone(timedelta(hours=9))
    records = [record(1, seen="2026-11-21T10:00:00.000Z"), record(2, seen="2026-11-21T09:59:59.999Z")]
    where = {"field": "seen", "op": "withinLastDays", "value": 1}
    assert kept(where, records, NOW.astimezone(tokyo)) == {1}
    assert kept(where, records, NOW.astimezone(timezone(timedelta(hours=-5)))) == {1}


def test_a_naive_now_is_utc_even_when_the_machine_is_not(local_clock_in_tokyo: None) -> None:
    records = [record(1, seen="2026-11-21T10:00:00.000Z"), record(2, seen="2026-11-21T09:59:59.999Z")]
    where = {"field": "seen", "op": "withinLastDays", "value": 1}
    assert kept(where, records, datetime(2026, 11, 22, 10, 0)) == {1}


def test_without_now_the_window_ends_at_the_current_utc_time(local_clock_in_tokyo: None) -> None:
    current = datetime.now(UTC)
    stamp = (current - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    records = [record(1, seen=stamp)]
    # two hours ago: inside a 3-hour window, outside a 1-hour one (the local clock is 9 hours ahead)
    assert kept({"field": "seen", "op": "withinLastDays", "value": 3 / 24}, records, None) == {1}
    assert kept({"field": "seen", "op": "withinLastDays", "value": 1 / 24}, records, None) == set()
    assert kept({"field": "seen", "op": "olderThanDays", "value": 1 / 24}, records, None) == {1}


def test_a_window_reaching_before_year_1_starts_at_year_1() -> None:
    now = datetime(100, 1, 1, tzinfo=UTC)
    records = [
        record(1, seen="0001-01-01T00:00:00.000Z"),
        record(2, seen="0001-01-01"),
        record(3, seen="0050-06-01"),
    ]
    assert kept({"field": "seen", "op": "withinLastDays", "value": 100_000}, records, now) == {1, 2, 3}
    assert kept({"field": "seen", "op": "olderThanDays", "value": 100_000}, records, now) == set()


@pytest.mark.parametrize("month", range(1, 13))
def test_the_first_and_last_day_of_every_month_are_read_like_sqlite(month: int) -> None:
    conn = sqlite3.connect(":memory:")
    try:
        for text in (f"2024-{month:02d}-01", f"2023-{month:02d}-28T23:59:59.999Z", f"2000-{month:02d}-31"):
            (julian,) = conn.execute("SELECT julianday(?) * 86400000.0", [text]).fetchone()
            assert parse_date_millis(text) == round(julian) - 210_866_760_000_000, text
    finally:
        conn.close()


def test_a_date_in_march_falls_in_the_window_its_calendar_says() -> None:
    now = datetime(2026, 3, 20, tzinfo=UTC)
    records = [record(1, seen="2026-03-01"), record(2, seen="2026-02-28"), record(3, seen="2025-03-19")]
    assert kept({"field": "seen", "op": "withinLastDays", "value": 19}, records, now) == {1}
    assert kept({"field": "seen", "op": "olderThanDays", "value": 19}, records, now) == {2, 3}


def _sqlite_millis(text: str) -> int | None:
    conn = sqlite3.connect(":memory:")
    try:
        (julian,) = conn.execute("SELECT julianday(?) * 86400000.0", [text]).fetchone()
    finally:
        conn.close()
    return None if julian is None else round(julian) - 210_866_760_000_000


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("2100-02-28", 4_107_456_000_000),  # century years that are not leap years
        ("2100-03-01", 4_107_542_400_000),
        ("2200-06-15", 7_272_374_400_000),
        ("2399-12-31", 13_569_379_200_000),
        ("2026-01-31", 1_769_817_600_000),
        ("2026-01-32", None),
        ("1970-01-01T00:37", 37 * 60_000),
        ("2026-01-01T10:59:59", 1_767_265_199_000),
        ("2026-01-01T10:60:00", None),
        ("2026-01-01T10:00:60", None),
        ("2026-01-01T24:01", 1_767_312_060_000),
        ("1970-01-01T00:00:00.123Z", 123),
        ("1970-01-01T00:00:00.12", 120),
        ("1970-01-01T00:00:00.1234567", 123),
        ("1970-01-01T00:00:00.9996", 1000),
        ("2026-01-01T00:00+14:00", 1_767_175_200_000),
        ("2026-01-01T00:00-14:00", 1_767_276_000_000),
        ("2026-01-01T00:00+01:59", 1_767_218_460_000),
        ("2026-01-01T00:00+01:60", None),
    ],
)
def test_dates_at_the_edges_of_each_field_are_read_like_sqlite(text: str, millis: int | None) -> None:
    assert _sqlite_millis(text) == millis  # the expectation is SQLite's own reading
    assert parse_date_millis(text) == millis
