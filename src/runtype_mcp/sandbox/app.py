"""The `Sandbox`: a Starlette app over a SQLite store, plus the lifecycle that owns its background runs."""

from __future__ import annotations

import hmac
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import engine, shapes
from .batch_api import BatchApi
from .batches import interrupt_active
from .csvio import CsvApi
from .docs_api import DocsApi
from .faults import ADMIN_PREFIX, Fault, FaultAdmin, FaultMiddleware, FaultSet
from .flows_api import FlowsApi
from .flows_ensure import EnsureApi
from .guard import JsonBodyGuard
from .openapi import build_openapi
from .records_api import RecordsApi
from .records_bulk_api import RecordsBulkApi
from .responses import SandboxContext, build_routes, json_response, route
from .results_api import ResultsApi
from .runs_api import RunsApi
from .seed import seed_once
from .store import Database

PUBLIC_PREFIXES = ("/openapi.json", "/v1/public/")


def bearer(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class AuthMiddleware:
    """401 with `WWW-Authenticate: Bearer` unless the bearer token equals the configured key."""

    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and self.api_key is not None
            and not scope["path"].startswith(PUBLIC_PREFIXES)
        ):
            token = bearer(Headers(scope=scope))
            if token is None or not hmac.compare_digest(token.encode(), self.api_key.encode()):
                missing = token is None
                body = {
                    "error": "Missing API key: send Authorization: Bearer <key>"
                    if missing
                    else "Invalid API key",
                    "code": "MISSING_API_KEY" if missing else "INVALID_API_KEY",
                }
                await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"Not found: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        allowed = sorted(
            m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip() != "HEAD"
        )
        message = (
            f"Method {request.method} is not allowed on {request.url.path}; allowed: {', '.join(allowed)}"
        )
    else:
        message = str(exc.detail)
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)


class Sandbox:
    """An offline Runtype-compatible API. Requests work only inside `running()`."""

    def __init__(
        self,
        db_path: str | os.PathLike[str] = ":memory:",
        *,
        api_key: str | None = None,
        faults: list[Fault] | None = None,
        admin: bool = False,
        seed: bool = True,
        inline_limit: int = 10,
        batch_concurrency: int = 4,
    ) -> None:
        self.db_path = os.fspath(db_path)
        self.api_key = api_key
        self.admin = admin
        self.seed = seed
        self.faults = FaultSet(faults)
        self.context = SandboxContext(inline_limit=inline_limit, batch_concurrency=max(1, batch_concurrency))
        self._depth = 0
        self._openapi: dict[str, Any] | None = None
        self.app = Starlette(
            routes=self._routes(),
            middleware=[
                Middleware(JsonBodyGuard),
                Middleware(FaultMiddleware, faults=self.faults),
                Middleware(AuthMiddleware, api_key=api_key),
            ],
            exception_handlers={HTTPException: _http_error},
            lifespan=self._lifespan,
        )

    @property
    def db(self) -> Database:
        return self.context.db

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        async with self.running():
            yield

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Sandbox]:
        """Open the store (schema, first-start seed, interrupted batches) and own the background task group."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        db = Database(self.db_path)
        await anyio.to_thread.run_sync(self._open, db)
        self.context.database = db
        self._depth = 1
        try:
            async with anyio.create_task_group() as tg:
                self.context.task_group = tg
                try:
                    yield self
                finally:
                    tg.cancel_scope.cancel()
        finally:
            self._depth = 0
            self.context.task_group = None
            self.context.database = None
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._close, db)

    def _open(self, db: Database) -> None:
        db.open()

        def start(conn: Any) -> None:
            interrupt_active(conn)
            if self.seed:
                seed_once(conn)

        db.call_write(start)

    @staticmethod
    def _close(db: Database) -> None:
        db.call_write(interrupt_active)
        db.close()

    def _routes(self) -> list[Route]:
        ctx = self.context
        routes = [
            # Fixed paths under /v1/records must precede /v1/records/{id}.
            *RecordsBulkApi(ctx).routes(),
            *CsvApi(ctx).routes(),
            *RecordsApi(ctx).routes(),
            *ResultsApi(ctx).routes(),
            *EnsureApi(ctx).routes(),  # before /v1/flows/{id}
            *FlowsApi(ctx, authenticated=self._authenticated).routes(),
            *RunsApi(ctx).routes(),
            *BatchApi(ctx).routes(),
            *DocsApi().routes(),
            route("/v1/auth/me", self._me, "GET"),
            route("/openapi.json", self._openapi_json, "GET"),
        ]
        if self.admin:
            admin = FaultAdmin(self.faults)
            path = ADMIN_PREFIX + "faults"
            routes += [
                route(path, admin.list, "GET"),
                route(path, admin.add, "POST"),
                route(path, admin.clear, "DELETE"),
            ]
        return build_routes(routes)

    def _authenticated(self, request: Request) -> bool:
        token = bearer(request.headers)
        if self.api_key is None:
            return token is not None
        return token is not None and hmac.compare_digest(token.encode(), self.api_key.encode())

    async def _me(self, request: Request) -> Response:
        return json_response(
            {
                "id": shapes.SANDBOX_USER_ID,
                "userId": shapes.SANDBOX_USER_ID,
                "hasOrganization": True,
                "orgId": shapes.SANDBOX_ORG_ID,
                "orgRole": "owner",
                "email": "sandbox@runtype-mcp.invalid",
                "name": "Sandbox user",
                "organizationId": shapes.SANDBOX_ORG_ID,
                "organization": {"id": shapes.SANDBOX_ORG_ID, "name": "Sandbox"},
                "scopes": ["*"],
                "sandbox": True,
            }
        )

    async def _openapi_json(self, request: Request) -> Response:
        if self._openapi is None:
            self._openapi = build_openapi(tuple(engine.STEP_TYPES))
        return json_response(self._openapi)
