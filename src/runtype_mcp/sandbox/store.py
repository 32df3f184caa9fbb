"""The SQLite store: one connection, serialized by a lock, driven from worker threads.

Handlers never touch the connection directly; they pass a function of the connection to
`Database.run` (reads) or `Database.write` (one transaction), which runs it in a thread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    messages TEXT,
    owner_id TEXT,
    user_id TEXT NOT NULL,
    organization_id TEXT,
    field_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS records_type_name ON records (type, name);
CREATE INDEX IF NOT EXISTS records_type_seq ON records (type, seq);
CREATE INDEX IF NOT EXISTS records_owner_seq ON records (owner_id, seq);

CREATE TABLE IF NOT EXISTS flows (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    steps TEXT NOT NULL DEFAULT '[]',
    published_version_id TEXT,
    last_modified_source TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_run_at TEXT
);

CREATE TABLE IF NOT EXISTS flow_versions (
    id TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL,
    version_number INTEGER NOT NULL,
    version_type TEXT NOT NULL,
    label TEXT,
    notes TEXT,
    steps TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS flow_versions_flow ON flow_versions (flow_id, version_number);

CREATE TABLE IF NOT EXISTS record_results (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    record_id TEXT NOT NULL,
    flow_id TEXT,
    flow_name TEXT,
    batch_id TEXT,
    execution_id TEXT,
    status TEXT NOT NULL,
    result TEXT,
    error TEXT,
    execution_time_ms INTEGER,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    model_used TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS record_results_record ON record_results (record_id, seq);

CREATE TABLE IF NOT EXISTS step_results (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    flow_id TEXT,
    flow_version_id TEXT,
    record_id TEXT,
    record_name TEXT,
    batch_id TEXT,
    execution_id TEXT,
    step_id TEXT,
    step_name TEXT,
    step_type TEXT,
    step_order INTEGER,
    step_config TEXT,
    status TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    duration_ms INTEGER,
    input_variables TEXT,
    resolved_prompt TEXT,
    output_preview TEXT,
    error_message TEXT,
    skip_reason TEXT,
    unresolved_variables TEXT,
    model_used TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    total_tokens INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS step_results_flow ON step_results (flow_id, seq);
CREATE INDEX IF NOT EXISTS step_results_record ON step_results (record_id, seq);
CREATE INDEX IF NOT EXISTS step_results_batch ON step_results (batch_id, seq);

CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL,
    record_type TEXT NOT NULL,
    status TEXT NOT NULL,
    total_records INTEGER NOT NULL,
    processed_records INTEGER NOT NULL DEFAULT 0,
    failed_records INTEGER NOT NULL DEFAULT 0,
    success_count INTEGER NOT NULL DEFAULT 0,
    max_seq INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT
);

CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT,
    result TEXT,
    error TEXT,
    http_status INTEGER,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT
);
"""


class Database:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: autocommit, with explicit BEGIN IMMEDIATE in `transaction`.
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        _add_columns(conn)
        self._conn = conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` under the lock in the current thread (for startup, seeding and benchmarks)."""
        with self._lock:
            return fn(self.conn)

    def call_write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock, transaction(self.conn):
            return fn(self.conn)

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self.call, fn)

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self.call_write, fn)


# Columns added after the first release: a store file written by an older version gains them on open.
ADDED_COLUMNS = (("batches", "flow_name", "TEXT"), ("step_results", "skip_reason", "TEXT"))


def _add_columns(conn: sqlite3.Connection) -> None:
    for table, column, declaration in ADDED_COLUMNS:
        if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row["value"])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def fetch_all(sql: str, params: Sequence[Any] = ()) -> Callable[[sqlite3.Connection], list[sqlite3.Row]]:
    """A reader for `Database.run`: every row of one query."""
    return lambda conn: conn.execute(sql, params).fetchall()


def fetch_one(sql: str, params: Sequence[Any] = ()) -> Callable[[sqlite3.Connection], sqlite3.Row | None]:
    def read(conn: sqlite3.Connection) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(sql, params).fetchone()
        return row

    return read


def placeholders(values: list[Any] | tuple[Any, ...]) -> str:
    return ", ".join("?" for _ in values)
