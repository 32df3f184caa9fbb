"""Fault injection for reliability tests: canned failures and delays in front of the real handlers."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .validation import Checker, invalid

ADMIN_PREFIX = "/_sandbox/"


@dataclass
class Fault:
    """One injected failure. `status == 0` means "delay only, then handle normally"."""

    method: str | None = None  # None matches any method
    path: str = ".*"  # regex, matched with re.search against the URL path
    status: int = 503
    retry_after: str | None = None  # Retry-After header value: seconds or an HTTP date
    delay_s: float = 0.0
    times: int | None = 1  # how many matching requests it applies to; None = forever
    body: str | None = None  # raw body override, e.g. "<html>" from a proxy

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method.upper()) and re.search(
            self.path, path
        ) is not None

    def response(self) -> Response:
        headers = {"Retry-After": self.retry_after} if self.retry_after is not None else None
        if self.body is not None:
            media = "text/html" if self.body.lstrip().startswith("<") else "text/plain"
            return Response(self.body, status_code=self.status, headers=headers, media_type=media)
        content: dict[str, Any] = {"error": f"Injected fault: HTTP {self.status}", "code": "SANDBOX_FAULT"}
        return JSONResponse(content, status_code=self.status, headers=headers)


class FaultSet:
    """The active faults; each request consumes at most one (the first that matches)."""

    def __init__(self, faults: list[Fault] | None = None) -> None:
        self._lock = threading.Lock()
        self._faults = [replace(fault) for fault in faults or []]  # `times` counts down on our copies

    def replace(self, faults: list[Fault]) -> None:
        with self._lock:
            self._faults = list(faults)

    def add(self, faults: list[Fault]) -> None:
        with self._lock:
            self._faults.extend(faults)

    def snapshot(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


class FaultMiddleware:
    def __init__(self, app: ASGIApp, faults: FaultSet) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        fault = self.faults.take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.delay_s > 0:
            await anyio.sleep(fault.delay_s)
        if fault.status == 0:
            await self.app(scope, receive, send)
            return
        await fault.response()(scope, receive, send)


def parse_faults(raw: Any) -> list[Fault]:
    """A JSON list of `Fault` fields, validated like any other request body."""
    items = raw if isinstance(raw, list) else [raw]
    check = Checker()
    allowed = [f.name for f in fields(Fault)]
    faults = []
    for index, item in enumerate(items):
        where = str(index)
        if not isinstance(item, dict):
            check.wrong_type(where, "an object of Fault fields", item)
            continue
        check.known_keys(item, allowed, where)
        try:
            fault = Fault(**{key: value for key, value in item.items() if key in allowed})
            re.compile(fault.path)
            if not isinstance(fault.status, int) or not (fault.status == 0 or 100 <= fault.status <= 599):
                raise ValueError("status must be 0 or an HTTP status")
        except (TypeError, ValueError, re.error) as exc:
            check.add("VALIDATION_ERROR", f"Invalid fault: {exc}", where)
            continue
        faults.append(fault)
    check.done()
    return faults


class FaultAdmin:
    """`/_sandbox/faults`: GET lists, POST adds, DELETE clears (registered only with admin=True)."""

    def __init__(self, faults: FaultSet) -> None:
        self.faults = faults

    async def list(self, request: Request) -> Response:
        return JSONResponse({"faults": [asdict(f) for f in self.faults.snapshot()]})

    async def add(self, request: Request) -> Response:
        try:
            parsed = json.loads(await request.body())
        except ValueError:
            raise invalid(
                "INVALID_FORMAT", "Body is not valid JSON", "", "Send a JSON list of Fault objects"
            ) from None
        faults = parse_faults(parsed)
        self.faults.add(faults)
        return JSONResponse(
            {"success": True, "added": len(faults), "faults": [asdict(f) for f in self.faults.snapshot()]}
        )

    async def clear(self, request: Request) -> Response:
        self.faults.replace([])
        return JSONResponse({"success": True, "faults": []})
