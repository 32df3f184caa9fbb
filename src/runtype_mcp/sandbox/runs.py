"""Running a flow on one record, and storing what the run did in one transaction.

The engine reads and writes records through `StoreOps`. Writes land in an overlay that the run
itself reads back, and are replayed against the store together with the record result, the step
results and the batch counters in a single transaction: a crash mid-batch leaves every record
either fully processed or untouched.
"""

from __future__ import annotations

import copy
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from . import engine, filters, records_store, shapes
from .ids import new_id, now_iso
from .record_query import where_sql
from .store import Database, fetch_all

logger = logging.getLogger("runtype_mcp.sandbox")
LIST_LIMIT = 1000
PREVIEW_CHARS = 500


@dataclass(frozen=True)
class FlowTarget:
    flow_id: str | None  # None for an inline flow sent to dispatch
    name: str
    version_id: str | None
    steps: list[dict[str, Any]]


@dataclass
class Write:
    kind: str  # "update" or "upsert"
    record_id: str
    updates: dict[str, Any]
    strategy: str
    record_type: str = ""
    name: str = ""


@dataclass
class StoreOps:
    """`engine.RecordOps` over the store, with this run's own writes layered on top."""

    db: Database
    overlay: dict[str, dict[str, Any]] = field(default_factory=dict)
    writes: list[Write] = field(default_factory=list)

    async def get_record(
        self,
        *,
        record_id: str | None = None,
        record_type: str | None = None,
        name: str | None = None,
        where: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        if record_id is not None:
            if record_id in self.overlay:
                return copy.deepcopy(self.overlay[record_id])
            row = await self.db.run(lambda conn: records_store.get_row(conn, record_id))
            return None if row is None else shapes.record(row)
        if record_type is not None and name is not None:
            for record in self.overlay.values():
                if (record["type"], record["name"]) == (record_type, name):
                    return copy.deepcopy(record)
            row = await self.db.run(lambda conn: records_store.find_row(conn, record_type, name))
            return None if row is None else shapes.record(row)
        if record_type is None and where is None:
            return None
        found = await self.list_records(record_type=record_type, where=where, limit=1)
        return found[0] if found else None

    async def list_records(
        self, *, record_type: str | None, where: dict[str, Any] | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Records of a type matching `where`, most recently updated first (the engine's "first match")."""
        limit = max(1, min(limit, LIST_LIMIT))
        clauses, params = [], []
        if record_type is not None:
            clauses.append("type = ?")
            params.append(record_type)
        compiled = where_sql(where, "where")
        if compiled is not None:
            clauses.append(compiled[0])
            params.extend(compiled[1])
        sql = "SELECT * FROM records" + (
            " WHERE " + " AND ".join(f"({c})" for c in clauses) if clauses else ""
        )
        sql += " ORDER BY updated_at DESC, seq DESC LIMIT ?"
        rows = await self.db.run(fetch_all(sql, [*params, limit + len(self.overlay)]))
        found = {row["id"]: shapes.record(row) for row in rows}
        for record_id, record in self.overlay.items():
            found.pop(record_id, None)
            if (record_type is None or record["type"] == record_type) and (
                where is None or filters.matches(where, record)
            ):
                found[record_id] = copy.deepcopy(record)
        ordered = sorted(found.values(), key=lambda record: record["updatedAt"], reverse=True)
        return ordered[:limit]

    async def update_record(
        self, record_id: str, updates: dict[str, Any], *, merge_strategy: str = "merge"
    ) -> dict[str, Any]:
        current = await self.get_record(record_id=record_id)
        if current is None:
            raise LookupError(f"Record {record_id} not found")
        self.writes.append(Write("update", record_id, dict(updates), merge_strategy))
        return self._apply(current, updates, merge_strategy)

    async def upsert_record(
        self, *, record_type: str, name: str | None, metadata: dict[str, Any], merge_strategy: str = "merge"
    ) -> dict[str, Any]:
        """By type and name; without a name every call creates a record (named after its id), as the API does."""
        current = None if name is None else await self.get_record(record_type=record_type, name=name)
        if current is None:
            now = now_iso()
            record_id = new_id("rec")
            current = {
                "id": record_id,
                "type": record_type,
                "name": name or record_id,
                "metadata": {},
                "messages": None,
                "userId": shapes.SANDBOX_USER_ID,
                "organizationId": shapes.SANDBOX_ORG_ID,
                "ownerId": None,
                "createdAt": now,
                "updatedAt": now,
            }
        self.writes.append(
            Write("upsert", current["id"], dict(metadata), merge_strategy, record_type, current["name"])
        )
        return self._apply(current, metadata, merge_strategy)

    def _apply(self, current: dict[str, Any], updates: dict[str, Any], strategy: str) -> dict[str, Any]:
        record = {**current, "metadata": records_store.merge_metadata(current["metadata"], updates, strategy)}
        record["updatedAt"] = now_iso()
        self.overlay[record["id"]] = record
        return copy.deepcopy(record)


def replay(conn: sqlite3.Connection, writes: list[Write]) -> None:
    for write in writes:
        row = (
            records_store.get_row(conn, write.record_id)
            if write.kind == "update"
            else records_store.find_row(conn, write.record_type, write.name)
        )
        if row is None and write.kind == "upsert":
            records_store.insert(
                conn,
                record_type=write.record_type,
                name=write.name,
                metadata=records_store.merge_metadata({}, write.updates, write.strategy),
                record_id=write.record_id,
            )
        elif row is not None:
            merged = records_store.merge_metadata(
                shapes.loads(row["metadata"], {}), write.updates, write.strategy
            )
            records_store.update(conn, row["id"], {"metadata": merged})


def preview(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else shapes.dumps(value)
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


@dataclass(frozen=True)
class RunContext:
    target: FlowTarget
    execution_id: str
    batch_id: str | None = None


def tokens(outcome: engine.RunOutcome) -> tuple[int, int, str | None]:
    prompt = sum(step.prompt_tokens for step in outcome.steps)
    completion = sum(step.completion_tokens for step in outcome.steps)
    models = [step.model_used for step in outcome.steps if step.model_used]
    return prompt, completion, models[0] if models else None


def persist(
    conn: sqlite3.Connection,
    run: RunContext,
    record: dict[str, Any] | None,
    outcome: engine.RunOutcome,
    writes: list[Write],
) -> str | None:
    """Everything one run did, as one transaction (the caller opens it). Returns the record result id."""
    replay(conn, writes)
    now = now_iso()
    target = run.target
    prompt, completion, model = tokens(outcome)
    result_id = None
    record_id = record.get("id") if record else None
    if record_id:
        result_id = new_id("recres")
        conn.execute(
            "INSERT INTO record_results (id, record_id, flow_id, flow_name, batch_id, execution_id, status, result,"
            " error, execution_time_ms, prompt_tokens, completion_tokens, total_tokens, model_used, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                result_id, record_id, target.flow_id, target.name, run.batch_id, run.execution_id,
                "completed" if outcome.success else "failed", shapes.dumps(outcome.final_output),
                None if outcome.error is None else str(outcome.error), int(outcome.duration_ms or 0),
                prompt, completion, prompt + completion, model, now,
            ),
        )  # fmt: skip
    configs = {step.get("id"): step.get("config") for step in target.steps}
    for step in outcome.steps:
        conn.execute(
            "INSERT INTO step_results (id, flow_id, flow_version_id, record_id, record_name, batch_id, execution_id,"
            " step_id, step_name, step_type, step_order, step_config, status, started_at, completed_at, duration_ms,"
            " input_variables, resolved_prompt, output_preview, error_message, unresolved_variables, model_used,"
            " prompt_tokens, completion_tokens, total_tokens, created_at, skip_reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new_id("stepres"), target.flow_id, target.version_id, record_id,
                record.get("name") if record else None, run.batch_id, run.execution_id,
                step.step_id, step.name, step.type, step.order, shapes.dumps(configs.get(step.step_id)),
                step.status, step.started_at, step.completed_at, step.duration_ms,
                shapes.dumps(step.input_variables), step.resolved_prompt, preview(step.output),
                None if step.error is None else str(step.error), shapes.dumps(step.unresolved_variables),
                step.model_used, step.prompt_tokens, step.completion_tokens,
                step.prompt_tokens + step.completion_tokens, now, step.reason,
            ),
        )  # fmt: skip
    if target.flow_id:
        conn.execute("UPDATE flows SET last_run_at = ? WHERE id = ?", (now, target.flow_id))
    if run.batch_id:
        ok = int(bool(outcome.success))
        conn.execute(
            "UPDATE batches SET processed_records = processed_records + 1, success_count = success_count + ?,"
            " failed_records = failed_records + ? WHERE id = ?",
            (ok, 1 - ok, run.batch_id),
        )
    return result_id


async def run_flow(
    db: Database,
    run: RunContext,
    record: dict[str, Any] | None,
    inputs: dict[str, Any] | None,
    *,
    store: bool = True,
) -> tuple[engine.RunOutcome, str | None]:
    """Run the flow on `record` and store the outcome; returns it and the record result id.

    `store=False` (a virtual run): the steps' writes stay in this run's overlay, so steps read what
    they would have written, and nothing (writes, results, last run) reaches the store."""
    ops = StoreOps(db)
    try:
        outcome = await engine.run_flow(run.target.steps, record=record, inputs=inputs, ops=ops)
    except Exception as exc:
        # The engine reports step failures in its outcome; an exception here is a sandbox bug.
        logger.exception("sandbox.engine_error")
        outcome = engine.RunOutcome(
            success=False,
            steps=[],
            variables={},
            final_output=None,
            error=f"Sandbox engine error: {exc}",
            duration_ms=0,
        )
        ops.writes.clear()
    if not store:
        return outcome, None
    result_id = await db.write(lambda conn: persist(conn, run, record, outcome, ops.writes))
    return outcome, result_id
