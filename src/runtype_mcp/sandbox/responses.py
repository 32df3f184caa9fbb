"""The shared runtime of every handler: the running state, JSON responses and error translation."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from anyio.abc import TaskGroup
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .ids import new_id
from .store import Database
from .validation import ApiError

logger = logging.getLogger("runtype_mcp.sandbox")

Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class BatchRun:
    """A background batch: the scope that cancels it, and the event set once its final status is stored."""

    scope: anyio.CancelScope
    done: anyio.Event


class SandboxContext:
    """What handlers share: settings, and the database and task group while the sandbox runs."""

    def __init__(self, *, inline_limit: int, batch_concurrency: int) -> None:
        self.inline_limit = inline_limit
        self.batch_concurrency = batch_concurrency
        self.database: Database | None = None
        self.task_group: TaskGroup | None = None
        self.batch_runs: dict[str, BatchRun] = {}

    @property
    def db(self) -> Database:
        if self.database is None:
            raise ApiError(
                503,
                "The sandbox is not running; enter Sandbox.running() before sending requests",
                code="SANDBOX_NOT_RUNNING",
            )
        return self.database

    @property
    def tg(self) -> TaskGroup:
        if self.task_group is None:
            raise ApiError(503, "The sandbox is not running", code="SANDBOX_NOT_RUNNING")
        return self.task_group


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers)


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers or None)


def internal_error(exc: BaseException) -> JSONResponse:
    error_id = new_id("err")
    logger.error("sandbox.internal_error id=%s", error_id, exc_info=exc)
    return JSONResponse(
        {"error": f"Internal server error ({error_id})", "code": "internal_error"}, status_code=500
    )


def endpoint(handler: Handler) -> Handler:
    """Turn `ApiError` into its JSON body and any other exception into a 500 with no traceback."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc)
        except Exception as exc:
            return internal_error(exc)

    wrapped.__name__ = getattr(handler, "__name__", "endpoint")
    wrapped.__doc__ = handler.__doc__
    return wrapped


Endpoint = tuple[str, str, Handler]  # (path, method, handler)


def route(path: str, handler: Handler, method: str) -> Endpoint:
    return path, method, handler


def build_routes(endpoints: list[Endpoint]) -> list[Route]:
    """One Starlette route per path (in first-seen order), so a 405 lists every method of the path."""
    by_path: dict[str, dict[str, Handler]] = {}
    for path, method, handler in endpoints:
        by_path.setdefault(path, {})[method] = handler
    return [
        Route(path, endpoint(_by_method(handlers)), methods=list(handlers))
        for path, handlers in by_path.items()
    ]


def _by_method(handlers: dict[str, Handler]) -> Handler:
    async def dispatch(request: Request) -> Response:
        return await handlers["GET" if request.method == "HEAD" else request.method](request)

    return dispatch
