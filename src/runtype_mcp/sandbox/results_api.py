"""Run history of a record (§2.13-2.16) and the step-results query shared with flows (§3.9)."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import records_store, shapes
from .pagination import offset_pagination, page_pagination
from .responses import Endpoint, SandboxContext, json_response, route
from .store import fetch_all
from .validation import ApiError, Checker, query_bool, query_enum, query_int, read_json_object

RESULT_STATUSES = ("completed", "failed")
STEP_STATUSES = ("completed", "failed", "skipped")
RESULT_SORTS = {
    "createdAt": "seq",
    "executionTimeMs": "execution_time_ms",
    "totalTokens": "total_tokens",
    "status": "status",
}
STEP_SORTS = {"createdAt": "seq", "durationMs": "duration_ms", "order": "step_order", "status": "status"}


def _time_range(request: Request, clauses: list[str], params: list[Any]) -> None:
    for name, operator in (("from", ">="), ("to", "<=")):
        if value := request.query_params.get(name):
            clauses.append(f"created_at {operator} ?")
            params.append(value)


def _order(request: Request, sorts: dict[str, str]) -> str:
    column = sorts[query_enum(request, "sortBy", sorts, default="createdAt") or "createdAt"]
    direction = query_enum(request, "sortOrder", ("asc", "desc"), default="desc") or "desc"
    return f"{column} {direction.upper()}, seq {direction.upper()}"


async def step_results_page(
    ctx: SandboxContext, request: Request, scope: str, scope_value: str, filters: dict[str, str]
) -> Response:
    """Offset-paged step results where `scope = scope_value`; `filters` maps query names to columns."""
    limit = query_int(request, "limit", default=50, low=1, high=100)
    offset = query_int(request, "offset", default=0, low=0, high=None)
    clauses, params = [f"{scope} = ?"], [scope_value]
    for name, column in filters.items():
        if value := request.query_params.get(name):
            clauses.append(f"{column} = ?")
            params.append(value)
    if status := query_enum(request, "status", STEP_STATUSES):
        clauses.append("status = ?")
        params.append(status)
    _time_range(request, clauses, params)
    order = _order(request, STEP_SORTS)
    sql = f"SELECT * FROM step_results WHERE {' AND '.join(clauses)} ORDER BY {order} LIMIT ? OFFSET ?"
    rows = await ctx.db.run(fetch_all(sql, [*params, limit + 1, offset]))
    data = [shapes.step_result(row) for row in rows[:limit]]
    return json_response(
        {"data": data, "pagination": offset_pagination(limit, offset, len(data), len(rows) > limit)}
    )


class ResultsApi:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[Endpoint]:
        return [
            route("/v1/records/{id}/costs", self.costs, "GET"),
            route("/v1/records/{id}/results", self.results, "GET"),
            route("/v1/records/{id}/results", self.delete_result, "DELETE"),
            route("/v1/records/{id}/step-results", self.step_results, "GET"),
        ]

    async def _require_record(self, record_id: str) -> None:
        if await self.ctx.db.run(lambda conn: records_store.get_row(conn, record_id)) is None:
            raise ApiError(404, f"Record {record_id} not found")

    async def costs(self, request: Request) -> Response:
        record_id = request.path_params["id"]
        await self._require_record(record_id)

        def read(conn: sqlite3.Connection) -> tuple[int, list[sqlite3.Row]]:
            count = conn.execute(
                "SELECT count(*) FROM record_results WHERE record_id = ?", (record_id,)
            ).fetchone()[0]
            rows = conn.execute(
                "SELECT model_used, count(*) AS n, coalesce(sum(prompt_tokens), 0) AS p,"
                " coalesce(sum(completion_tokens), 0) AS c FROM step_results"
                " WHERE record_id = ? AND model_used IS NOT NULL GROUP BY model_used ORDER BY model_used",
                (record_id,),
            ).fetchall()
            return count, rows

        count, rows = await self.ctx.db.run(read)
        prompt = sum(row["p"] for row in rows)
        completion = sum(row["c"] for row in rows)
        return json_response(
            {
                "recordId": record_id,
                "totalCost": 0.0,
                "promptTokens": prompt,
                "completionTokens": completion,
                "totalTokens": prompt + completion,
                "executionCount": count,
                "modelBreakdown": [
                    {
                        "model": row["model_used"],
                        "count": row["n"],
                        "tokens": row["p"] + row["c"],
                        "cost": 0.0,
                    }
                    for row in rows
                ],
            }
        )

    async def results(self, request: Request) -> Response:
        record_id = request.path_params["id"]
        page = query_int(request, "page", default=1, low=1, high=None)
        limit = query_int(request, "limit", default=20, low=1, high=100)
        include_count = query_bool(request, "includeCount")
        clauses, params = ["record_id = ?"], [record_id]
        if status := query_enum(request, "status", RESULT_STATUSES):
            clauses.append("status = ?")
            params.append(status)
        if flow_id := request.query_params.get("flowId"):
            clauses.append("flow_id = ?")
            params.append(flow_id)
        if request.query_params.get("promptId"):
            clauses.append("0")  # the sandbox runs flows only, never stand-alone prompts
        _time_range(request, clauses, params)
        order = _order(request, RESULT_SORTS)
        await self._require_record(record_id)
        where = " AND ".join(clauses)

        def read(conn: sqlite3.Connection) -> tuple[list[sqlite3.Row], int | None]:
            rows = conn.execute(
                f"SELECT * FROM record_results WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, limit + 1, (page - 1) * limit],
            ).fetchall()
            total = None
            if include_count:
                total = conn.execute(f"SELECT count(*) FROM record_results WHERE {where}", params).fetchone()[
                    0
                ]
            return rows, total

        rows, total = await self.ctx.db.run(read)
        data = [shapes.record_result(row) for row in rows[:limit]]
        return json_response(
            {"data": data, "pagination": page_pagination(page, limit, len(data), len(rows) > limit, total)}
        )

    async def delete_result(self, request: Request) -> Response:
        record_id = request.path_params["id"]
        body = await read_json_object(request)
        check = Checker()
        check.known_keys(body, ("resultId",))
        result_id = check.string(body, "resultId", required=True, min_len=1, max_len=255)
        check.done()
        await self._require_record(record_id)
        deleted = await self.ctx.db.write(
            lambda conn: (
                conn.execute(
                    "DELETE FROM record_results WHERE id = ? AND record_id = ?", (result_id, record_id)
                ).rowcount
            )
        )
        if not deleted:
            raise ApiError(404, f"Result {result_id} not found on record {record_id}")
        return json_response({"success": True, "id": result_id, "recordId": record_id})

    async def step_results(self, request: Request) -> Response:
        record_id = request.path_params["id"]
        await self._require_record(record_id)
        return await step_results_page(
            self.ctx,
            request,
            "record_id",
            record_id,
            {"flowId": "flow_id", "batchId": "batch_id", "stepId": "step_id"},
        )
