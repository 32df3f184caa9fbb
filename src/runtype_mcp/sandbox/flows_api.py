"""Flows §3.1-3.7 and §3.9: CRUD, runtime export, publish, versions, step results; and the validator."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import shapes
from .flow_steps import check_steps, host_dependencies, validate_definition
from .ids import new_id, now_iso
from .pagination import cursor_page_request, fetch_cursor_page
from .record_query import escape_like
from .responses import Endpoint, SandboxContext, json_response, route
from .results_api import step_results_page
from .validation import ApiError, Checker, query_enum, read_json_object

FLOW_KEYS = ("name", "description", "steps", "flowSteps")
VERSION_TYPES = ("published", "draft", "test", "virtual")


def get_flow_row(conn: sqlite3.Connection, flow_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute("SELECT * FROM flows WHERE id = ?", (flow_id,)).fetchone()
    if row is None:
        raise ApiError(404, f"Flow {flow_id} not found")
    return row


def draft_version_id(conn: sqlite3.Connection, flow_id: str) -> str | None:
    """The newest saved version: the draft's steps as a run reads them."""
    row = conn.execute(
        "SELECT id FROM flow_versions WHERE flow_id = ? ORDER BY version_number DESC LIMIT 1", (flow_id,)
    ).fetchone()
    return None if row is None else str(row["id"])


def add_version(
    conn: sqlite3.Connection,
    flow_id: str,
    steps: list[dict[str, Any]],
    version_type: str,
    *,
    label: str | None = None,
    notes: str | None = None,
) -> str:
    number = conn.execute(
        "SELECT coalesce(max(version_number), 0) + 1 FROM flow_versions WHERE flow_id = ?", (flow_id,)
    ).fetchone()[0]
    version_id = new_id("flowver")
    conn.execute(
        "INSERT INTO flow_versions (id, flow_id, version_number, version_type, label, notes, steps, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            version_id,
            flow_id,
            number,
            version_type,
            label or f"v{number}",
            notes,
            shapes.dumps(steps),
            now_iso(),
        ),
    )
    return version_id


def insert_flow(
    conn: sqlite3.Connection, name: str, description: str | None, steps: list[dict[str, Any]]
) -> str:
    flow_id = new_id("flow")
    now = now_iso()
    conn.execute(
        "INSERT INTO flows (id, name, description, steps, last_modified_source, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, 'api', ?, ?)",
        (flow_id, name, description, shapes.dumps(steps), now, now),
    )
    add_version(conn, flow_id, steps, "draft")
    return flow_id


def _check_flow_body(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    check = Checker()
    check.known_keys(body, FLOW_KEYS)
    changes: dict[str, Any] = {}
    name = check.string(body, "name", required=not partial, min_len=1, max_len=255)
    if name is not None:
        changes["name"] = name
    if "description" in body:
        changes["description"] = check.string(body, "description", nullable=True, max_len=5000)
    sent = [key for key in ("flowSteps", "steps") if body.get(key) is not None]
    if len(sent) > 1:
        check.add(
            "CUSTOM_VALIDATION", "Send either steps or flowSteps, not both", "steps", "Drop one of the two"
        )
    elif sent:
        changes["steps"] = check_steps(check, body[sent[0]], sent[0])
    check.done()
    return changes


class FlowsApi:
    def __init__(self, ctx: SandboxContext, *, authenticated: Callable[[Request], bool]) -> None:
        self.ctx = ctx
        self._authenticated = authenticated

    def routes(self) -> list[Endpoint]:
        return [
            route("/v1/flows", self.list_flows, "GET"),
            route("/v1/flows", self.create_flow, "POST"),
            route("/v1/flows/{id}", self.get_flow, "GET"),
            route("/v1/flows/{id}", self.update_flow, "PUT"),
            route("/v1/flows/{id}", self.delete_flow, "DELETE"),
            route("/v1/flows/{id}/export-runtime", self.export_runtime, "GET"),
            route("/v1/flows/{id}/publish", self.publish, "POST"),
            route("/v1/flows/{id}/step-results", self.step_results, "GET"),
            route("/v1/flow-versions/{flowId}", self.versions, "GET"),
            route("/v1/flow-versions/{flowId}/published", self.published_version, "GET"),
            route("/v1/flow-versions/{flowId}/{versionId}", self.version, "GET"),
            route("/v1/public/flows/validate", self.validate, "POST"),
        ]

    async def list_flows(self, request: Request) -> Response:
        page = cursor_page_request(request)
        view = query_enum(request, "view", ("full", "compact"), default="full")
        where, params = "", []
        if search := request.query_params.get("search"):
            pattern = f"%{escape_like(search)}%"
            where, params = (
                "name LIKE ? ESCAPE '\\' OR coalesce(description, '') LIKE ? ESCAPE '\\'",
                [pattern, pattern],
            )
        rows, pagination = await self.ctx.db.run(
            lambda conn: fetch_cursor_page(conn, "flows", where, params, page)
        )
        data = [shapes.flow_summary(row) for row in rows]
        return json_response(
            {"data": shapes.compact(data) if view == "compact" else data, "pagination": pagination}
        )

    async def create_flow(self, request: Request) -> Response:
        changes = _check_flow_body(await read_json_object(request), partial=False)

        def create(conn: sqlite3.Connection) -> dict[str, Any]:
            flow_id = insert_flow(conn, changes["name"], changes.get("description"), changes.get("steps", []))
            return shapes.flow(get_flow_row(conn, flow_id))

        return json_response(await self.ctx.db.write(create), status=201)

    async def get_flow(self, request: Request) -> Response:
        flow_id = request.path_params["id"]
        return json_response(shapes.flow(await self.ctx.db.run(lambda conn: get_flow_row(conn, flow_id))))

    async def update_flow(self, request: Request) -> Response:
        flow_id = request.path_params["id"]
        changes = _check_flow_body(await read_json_object(request), partial=True)

        def update(conn: sqlite3.Connection) -> dict[str, Any]:
            row = get_flow_row(conn, flow_id)
            steps = changes.get("steps", json.loads(row["steps"]))
            conn.execute(
                "UPDATE flows SET name = ?, description = ?, steps = ?, updated_at = ?, last_modified_source = 'api'"
                " WHERE id = ?",
                (
                    changes.get("name", row["name"]),
                    changes["description"] if "description" in changes else row["description"],
                    shapes.dumps(steps),
                    now_iso(),
                    flow_id,
                ),
            )
            draft = add_version(conn, flow_id, steps, "draft")
            return {**shapes.flow(get_flow_row(conn, flow_id)), "draftVersionId": draft}

        return json_response(await self.ctx.db.write(update))

    async def delete_flow(self, request: Request) -> Response:
        flow_id = request.path_params["id"]

        def delete(conn: sqlite3.Connection) -> None:
            get_flow_row(conn, flow_id)
            conn.execute("DELETE FROM flows WHERE id = ?", (flow_id,))
            conn.execute("DELETE FROM flow_versions WHERE flow_id = ?", (flow_id,))
            conn.execute("DELETE FROM step_results WHERE flow_id = ?", (flow_id,))

        await self.ctx.db.write(delete)
        return json_response({"success": True, "id": flow_id})

    async def export_runtime(self, request: Request) -> Response:
        flow_id = request.path_params["id"]
        row = await self.ctx.db.run(lambda conn: get_flow_row(conn, flow_id))
        steps = json.loads(row["steps"])
        return json_response(
            {
                "id": row["id"],
                "name": row["name"],
                "description": row["description"],
                "steps": steps,
                "agents": {},
                "dependencyRefs": {"agentIds": []},
                "hostDependencies": host_dependencies(steps),
            }
        )

    async def publish(self, request: Request) -> Response:
        flow_id = request.path_params["id"]

        def publish(conn: sqlite3.Connection) -> dict[str, Any]:
            row = get_flow_row(conn, flow_id)
            latest = conn.execute(
                "SELECT id FROM flow_versions WHERE flow_id = ? ORDER BY version_number DESC LIMIT 1",
                (flow_id,),
            ).fetchone()
            version_id = (
                latest["id"] if latest else add_version(conn, flow_id, json.loads(row["steps"]), "draft")
            )
            if version_id == row["published_version_id"]:
                return {
                    "success": True,
                    "message": "The latest version is already published",
                    "publishedVersionId": version_id,
                }
            conn.execute("UPDATE flow_versions SET version_type = 'published' WHERE id = ?", (version_id,))
            conn.execute("UPDATE flows SET published_version_id = ? WHERE id = ?", (version_id, flow_id))
            return {
                "success": True,
                "message": "Draft promoted to published",
                "publishedVersionId": version_id,
            }

        return json_response(await self.ctx.db.write(publish))

    async def step_results(self, request: Request) -> Response:
        flow_id = request.path_params["id"]
        await self.ctx.db.run(lambda conn: get_flow_row(conn, flow_id))
        return await step_results_page(
            self.ctx,
            request,
            "flow_id",
            flow_id,
            {"recordId": "record_id", "batchId": "batch_id", "stepId": "step_id"},
        )

    async def versions(self, request: Request) -> Response:
        flow_id = request.path_params["flowId"]
        version_type = query_enum(request, "type", VERSION_TYPES)

        def read(conn: sqlite3.Connection) -> dict[str, Any]:
            flow = get_flow_row(conn, flow_id)
            sql = "SELECT * FROM flow_versions WHERE flow_id = ?" + (
                " AND version_type = ?" if version_type else ""
            )
            args = [flow_id, version_type] if version_type else [flow_id]
            rows = conn.execute(sql + " ORDER BY version_number DESC", args).fetchall()
            return {
                "flowId": flow_id,
                "publishedVersionId": flow["published_version_id"],
                "versions": [_version(r) for r in rows],
            }

        return json_response(await self.ctx.db.run(read))

    async def published_version(self, request: Request) -> Response:
        flow_id = request.path_params["flowId"]

        def read(conn: sqlite3.Connection) -> dict[str, Any]:
            version_id = get_flow_row(conn, flow_id)["published_version_id"]
            if version_id is None:
                raise ApiError(404, f"Flow {flow_id} has no published version")
            return _version_detail(conn, flow_id, version_id)

        return json_response(await self.ctx.db.run(read))

    async def version(self, request: Request) -> Response:
        flow_id, version_id = request.path_params["flowId"], request.path_params["versionId"]

        def read(conn: sqlite3.Connection) -> dict[str, Any]:
            get_flow_row(conn, flow_id)
            return _version_detail(conn, flow_id, version_id)

        return json_response(await self.ctx.db.run(read))

    async def validate(self, request: Request) -> Response:
        body = await read_json_object(request)
        return json_response(validate_definition(body, authenticated=self._authenticated(request)))


def _version_detail(conn: sqlite3.Connection, flow_id: str, version_id: str) -> dict[str, Any]:
    """One version with its full definition (`flowConfig.steps`, `when` included)."""
    row = conn.execute(
        "SELECT * FROM flow_versions WHERE flow_id = ? AND id = ?", (flow_id, version_id)
    ).fetchone()
    if row is None:
        raise ApiError(404, f"Flow version {version_id} not found")
    return {
        "id": row["id"],
        "flowId": flow_id,
        "versionNumber": row["version_number"],
        "versionType": row["version_type"],
        "label": row["label"],
        "notes": row["notes"],
        "createdAt": row["created_at"],
        "flowConfig": {"steps": json.loads(row["steps"])},
    }


def _version(row: sqlite3.Row) -> dict[str, Any]:
    steps = json.loads(row["steps"])
    return {
        "id": row["id"],
        "versionNumber": row["version_number"],
        "versionType": row["version_type"],
        "label": row["label"],
        "notes": row["notes"],
        "stepCount": len(steps),
        "stepSummary": ", ".join(f"{step.get('name')} ({step.get('type')})" for step in steps),
        "createdAt": row["created_at"],
    }
