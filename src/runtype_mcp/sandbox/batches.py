"""Runs over every record of a type (§3.8): inline up to `inline_limit`, else a background batch (§6.3)."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream

from . import shapes
from .ids import new_id, now_iso
from .responses import SandboxContext
from .runs import FlowTarget, RunContext, run_flow
from .store import Database, fetch_all

logger = logging.getLogger("runtype_mcp.sandbox")
PAGE = 200
Item = tuple[int, dict[str, Any]]  # (position in the batch, record)


def batch_status(row: sqlite3.Row) -> dict[str, Any]:
    total, processed = row["total_records"], row["processed_records"]
    return {
        "batchExecutionId": row["id"],
        "flowId": row["flow_id"],
        "recordType": row["record_type"],
        "status": row["status"],
        "totalRecords": total,
        "processedRecords": processed,
        "failedRecords": row["failed_records"],
        "successCount": row["success_count"],
        "progress": 100 if total == 0 else min(100, round(processed * 100 / total)),
        "createdAt": row["created_at"],
        "startedAt": row["started_at"],
        "completedAt": row["completed_at"],
        "error": row["error"],
    }


def interrupt_active(conn: sqlite3.Connection) -> None:
    """Batches and executions a previous process left unfinished will never finish: say so."""
    now = now_iso()
    conn.execute(
        "UPDATE batches SET status = 'interrupted', completed_at = ? WHERE status IN ('scheduled', 'running')",
        (now,),
    )
    conn.execute(
        "UPDATE executions SET status = 'interrupted', completed_at = ? WHERE status IN ('queued', 'running')",
        (now,),
    )


def _set_status(conn: sqlite3.Connection, batch_id: str, status: str, error: str | None = None) -> None:
    column = "started_at" if status == "running" else "completed_at"
    conn.execute(
        f"UPDATE batches SET status = ?, error = ?, {column} = ? WHERE id = ?",
        (status, error, now_iso(), batch_id),
    )


async def _produce(db: Database, record_type: str, max_seq: int, send: ObjectSendStream[Item]) -> None:
    async with send:
        last, position = 0, 0
        while True:
            rows = await db.run(
                fetch_all(
                    "SELECT * FROM records WHERE type = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                    (record_type, last, max_seq, PAGE),
                )
            )
            if not rows:
                return
            last = rows[-1]["seq"]
            for row in rows:
                await send.send((position, shapes.record(row)))
                position += 1


async def _consume(
    db: Database,
    target: FlowTarget,
    batch_id: str,
    receive: ObjectReceiveStream[Item],
    out: list[Item] | None,
) -> None:
    async with receive:
        async for position, record in receive:
            execution_id = new_id("exec")
            outcome, _ = await run_flow(db, RunContext(target, execution_id, batch_id), record, None)
            if out is None:  # a background batch keeps its results in the store only
                continue
            out.append(
                (
                    position,
                    {
                        "recordId": record["id"],
                        "recordName": record["name"],
                        "success": bool(outcome.success),
                        "executionId": execution_id,
                        "executionTime": round(outcome.duration_ms / 1000, 3),
                        "promptsExecuted": sum(
                            1 for s in outcome.steps if s.type == "prompt" and s.status == "completed"
                        ),
                        "error": None if outcome.error is None else str(outcome.error),
                    },
                )
            )


async def run_records(
    ctx: SandboxContext, target: FlowTarget, batch_id: str, record_type: str, max_seq: int, *, collect: bool
) -> list[dict[str, Any]]:
    """Every record of the type up to `max_seq`, `batch_concurrency` at a time; with `collect`, one summary each."""
    send, receive = anyio.create_memory_object_stream[Item](ctx.batch_concurrency)
    summaries: list[Item] | None = [] if collect else None
    async with anyio.create_task_group() as tg, send, receive:
        tg.start_soon(_produce, ctx.db, record_type, max_seq, send.clone())
        for _ in range(ctx.batch_concurrency):
            tg.start_soon(_consume, ctx.db, target, batch_id, receive.clone(), summaries)
    return [summary for _, summary in sorted(summaries or [], key=lambda item: item[0])]


async def _background(
    ctx: SandboxContext, target: FlowTarget, batch_id: str, record_type: str, max_seq: int
) -> None:
    db = ctx.db
    try:
        await db.write(lambda conn: _set_status(conn, batch_id, "running"))
        await run_records(ctx, target, batch_id, record_type, max_seq, collect=False)
        await db.write(lambda conn: _set_status(conn, batch_id, "completed"))
    except anyio.get_cancelled_exc_class():
        with anyio.CancelScope(shield=True):
            await db.write(lambda conn: _set_status(conn, batch_id, "interrupted"))
        raise
    except Exception as exc:
        logger.exception("sandbox.batch_failed batch=%s", batch_id)
        message = f"Sandbox batch error: {exc}"
        await db.write(lambda conn: _set_status(conn, batch_id, "failed", message))


async def run_on_record_type(
    ctx: SandboxContext, target: FlowTarget, record_type: str
) -> tuple[int, dict[str, Any]]:
    """The §3.8 response: 200 with every result when inline, else 202 with a scheduled batch."""
    assert target.flow_id is not None
    db = ctx.db
    batch_id = new_id("batch")

    def schedule(conn: sqlite3.Connection) -> tuple[int, int]:
        count, max_seq = conn.execute(
            "SELECT count(*), coalesce(max(seq), 0) FROM records WHERE type = ?", (record_type,)
        ).fetchone()
        status = "running" if count <= ctx.inline_limit else "scheduled"
        conn.execute(
            "INSERT INTO batches (id, flow_id, record_type, status, total_records, max_seq, created_at, started_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                batch_id,
                target.flow_id,
                record_type,
                status,
                count,
                max_seq,
                now_iso(),
                now_iso() if status == "running" else None,
            ),
        )
        return int(count), int(max_seq)

    count, max_seq = await db.write(schedule)
    base = {
        "success": True,
        "batchId": batch_id,
        "flowId": target.flow_id,
        "recordType": record_type,
        "recordCount": count,
    }
    if count > ctx.inline_limit:
        ctx.tg.start_soon(_background, ctx, target, batch_id, record_type, max_seq)
        return 202, {**base, "status": "scheduled", "executedImmediately": False}
    summaries = await run_records(ctx, target, batch_id, record_type, max_seq, collect=True)
    await db.write(lambda conn: _set_status(conn, batch_id, "completed"))
    successes = sum(1 for summary in summaries if summary["success"])
    return 200, {
        **base,
        "status": "completed",
        "executedImmediately": True,
        "successCount": successes,
        "failureCount": len(summaries) - successes,
        "completedAt": now_iso(),
        "results": summaries,
    }
