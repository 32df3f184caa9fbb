"""Flows as code (SDK `flows.ensure_flow_config_as_code_converge` and `pull_flow_definition_config_as_code`).

`POST /v1/flows/ensure` converges a named flow onto a definition: a hash-only probe answers
`unchanged` or `definitionRequired`; a full definition creates the flow or appends a version when
its canonical hash differs; `dryRun` plans without writing. A flow last changed outside ensure
(PUT /v1/flows/{id}) is an `external_modification` conflict unless `onConflict: "overwrite"`.
`GET /v1/flows/pull?name=` returns the canonical definition and its hash. The hash is the
sandbox's own (sha256 of the canonical JSON); clients send back the hash the server returned.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import shapes
from .flow_steps import check_steps
from .flows_api import add_version, draft_version_id
from .ids import new_id, now_iso
from .responses import Endpoint, SandboxContext, json_response, route
from .validation import ApiError, Checker, query_required, read_json_object

ENSURE_KEYS: tuple[str, ...] = (
    "name",
    "contentHash",
    "definition",
    "dryRun",
    "expectedRemoteHash",
    "onConflict",
    "release",
)
ENSURE_KEYS += ("version",)
DEFAULT_LABEL = "sdk-ensure"


def canonical(name: str, description: str | None, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The definition as code: generated step ids dropped, defaults made explicit, steps in order."""
    ordered = sorted(steps, key=lambda step: step.get("order", 0))
    return {
        "name": name,
        "description": description,
        "steps": [
            {
                "name": step["name"],
                "type": step["type"],
                "order": index,
                "enabled": step.get("enabled", True) is not False,
                "config": step.get("config") or {},
                "when": step.get("when"),
            }
            for index, step in enumerate(ordered)
        ],
    }


def content_hash(definition: dict[str, Any]) -> str:
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _by_name(conn: sqlite3.Connection, name: str) -> tuple[sqlite3.Row | None, int]:
    rows = conn.execute(
        "SELECT * FROM flows WHERE name = ? ORDER BY updated_at DESC, rowid DESC", (name,)
    ).fetchall()
    return (rows[0] if rows else None), len(rows)


def _stored(row: sqlite3.Row) -> dict[str, Any]:
    return canonical(row["name"], row["description"], json.loads(row["steps"]))


def _publish(conn: sqlite3.Connection, flow_id: str, version_id: str | None) -> None:
    if version_id is not None:
        conn.execute("UPDATE flow_versions SET version_type = 'published' WHERE id = ?", (version_id,))
        conn.execute("UPDATE flows SET published_version_id = ? WHERE id = ?", (version_id, flow_id))


class EnsureApi:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[Endpoint]:
        # Registered before /v1/flows/{id}, which would otherwise take these two paths.
        return [route("/v1/flows/ensure", self.ensure, "POST"), route("/v1/flows/pull", self.pull, "GET")]

    async def pull(self, request: Request) -> Response:
        name = query_required(request, "name")

        def read(conn: sqlite3.Connection) -> dict[str, Any]:
            row, count = _by_name(conn, name)
            if row is None:
                raise ApiError(404, f"No flow is named {name!r}")
            definition = _stored(row)
            return {
                "flowId": row["id"],
                "contentHash": content_hash(definition),
                "definition": definition,
                "lastModifiedSource": row["last_modified_source"],
                "updatedAt": row["updated_at"],
                "versionId": draft_version_id(conn, row["id"]),
                "warnings": [f"{count} flows are named {name!r}; this is the most recently updated"]
                if count > 1
                else [],
            }

        return json_response(await self.ctx.db.run(read))

    async def ensure(self, request: Request) -> Response:
        body = await read_json_object(request)
        check = Checker()
        check.known_keys(body, ENSURE_KEYS)
        name = check.string(body, "name", required=True, min_len=1, max_len=255)
        sent_hash = check.string(body, "contentHash", min_len=1, max_len=255)
        expected = check.string(body, "expectedRemoteHash", min_len=1, max_len=255)
        dry_run = bool(check.boolean(body, "dryRun"))
        on_conflict = check.enum(body, "onConflict", ("error", "overwrite")) or "error"
        release = check.enum(body, "release", ("none", "publish")) or "none"
        version = check.mapping(body, "version") or {}
        check.known_keys(version, ("label", "notes"), "version")
        definition = check.mapping(body, "definition")
        steps: list[dict[str, Any]] = []
        if definition is not None:
            check.known_keys(definition, ("name", "description", "steps"), "definition")
            if definition.get("name") != name:
                check.add("CUSTOM_VALIDATION", "definition.name must equal name", "definition.name")
            check.string(definition, "description", path="definition", nullable=True, max_len=5000)
            steps = check_steps(check, definition.get("steps"), "definition.steps")
        elif sent_hash is None:
            check.add("MISSING_REQUIRED_FIELD", "Send definition, or contentHash to probe", "definition")
        check.done()
        assert name is not None
        if definition is None:
            assert sent_hash is not None
            return json_response(await self.ctx.db.run(lambda conn: _probe(conn, name, sent_hash)))
        wanted = canonical(name, definition.get("description"), steps)
        local = content_hash(wanted)
        if sent_hash is not None and sent_hash != local:
            raise ApiError(
                422,
                "contentHash does not match the definition sent",
                code="content_hash_mismatch",
                contentHash=local,
            )

        def converge(conn: sqlite3.Connection) -> dict[str, Any]:
            row, _ = _by_name(conn, name)
            remote = None if row is None else content_hash(_stored(row))
            if row is not None and expected is not None and expected != remote:
                raise _conflict("remote_changed", "The flow changed since expectedRemoteHash", row, remote)
            changes = "create" if row is None else "none" if remote == local else "update"
            if (
                row is not None
                and changes == "update"
                and row["last_modified_source"] != "ensure"
                and on_conflict != "overwrite"
            ):
                raise _conflict("external_modification", "The flow was edited outside ensure", row, remote)
            if dry_run:
                old = {} if row is None else _stored(row)
                return {
                    "result": "plan",
                    "changes": changes,
                    "changedKeys": sorted(key for key in wanted if wanted[key] != old.get(key)),
                    "contentHash": local,
                    "flowId": None if row is None else row["id"],
                    "remoteHash": remote,
                }
            return _write(conn, row, wanted, steps, changes, version, release == "publish") | {
                "contentHash": local
            }

        result = await (self.ctx.db.run(converge) if dry_run else self.ctx.db.write(converge))
        return json_response(result)


def _probe(conn: sqlite3.Connection, name: str, sent_hash: str) -> dict[str, Any]:
    row, _ = _by_name(conn, name)
    if row is not None and content_hash(_stored(row)) == sent_hash:
        return {
            "result": "unchanged",
            "flowId": row["id"],
            "contentHash": sent_hash,
            "versionId": draft_version_id(conn, row["id"]),
        }
    return {"result": "definitionRequired"}


def _write(
    conn: sqlite3.Connection,
    row: sqlite3.Row | None,
    wanted: dict[str, Any],
    steps: list[dict[str, Any]],
    changes: str,
    version: dict[str, Any],
    publish: bool,
) -> dict[str, Any]:
    now = now_iso()
    if row is None:
        flow_id = new_id("flow")
        conn.execute(
            "INSERT INTO flows (id, name, description, steps, last_modified_source, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'ensure', ?, ?)",
            (flow_id, wanted["name"], wanted["description"], shapes.dumps(steps), now, now),
        )
    else:
        flow_id = row["id"]
        if changes == "update":
            conn.execute(
                "UPDATE flows SET description = ?, steps = ?, updated_at = ?, last_modified_source = 'ensure'"
                " WHERE id = ?",
                (wanted["description"], shapes.dumps(steps), now, flow_id),
            )
    version_id = (
        draft_version_id(conn, flow_id)
        if changes == "none"
        else add_version(
            conn,
            flow_id,
            steps,
            "draft",
            label=version.get("label") or DEFAULT_LABEL,
            notes=version.get("notes") or "Converged by POST /v1/flows/ensure",
        )
    )
    if publish:
        _publish(conn, flow_id, version_id)
    result = {"none": "unchanged", "create": "created", "update": "updated"}[changes]
    return {"result": result, "flowId": flow_id, "versionId": version_id}


def _conflict(code: str, message: str, row: sqlite3.Row, remote: str | None) -> ApiError:
    return ApiError(
        409,
        f"{message}; send onConflict: 'overwrite' to replace it, or pull it first (GET /v1/flows/pull)",
        code=code,
        currentHash=remote,
        lastModifiedSource=row["last_modified_source"],
        modifiedAt=row["updated_at"],
    )
