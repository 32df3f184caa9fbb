"""Request guards of the sandbox API: JSON bodies only, and (standalone) Host/Origin checks.

A browser page can send a cross-origin "simple" POST (`text/plain`, form data, or no body) without
a preflight, and a DNS-rebinding page can reach a loopback port under its own host name. So:
- `JsonBodyGuard` (always on): a request that carries a body or names a content type must be JSON
  (`application/json` or `*/*+json`); only the CSV upload takes multipart. Otherwise 415.
- `HostGuard` (`sandbox serve` only; the in-process sandbox is reached as `sandbox.invalid` and no
  browser can reach it): the Host must be a loopback name or an allowed host (else 421), and an
  Origin, when sent, must name one too (else 403) — the same rule as the MCP HTTP mode.
Refusals use the sandbox's error body, `{"error", "code"}`.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .serve import LOOPBACK

WILDCARD = frozenset({"0.0.0.0", "::", ""})  # "every interface": never a Host name
MULTIPART_PATHS = frozenset({"/v1/records/upload-csv"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, error: str, code: str) -> None:
    await JSONResponse({"error": error, "code": code}, status_code=status)(scope, receive, send)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class JsonBodyGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS or scope["path"] in MULTIPART_PATHS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type")
        length = headers.get("content-length")
        has_body = "transfer-encoding" in headers or (length is not None and length.strip() not in ("", "0"))
        if (content_type is not None or has_body) and not _is_json(content_type or ""):
            sent = (content_type or "no content type").split(";", 1)[0].strip()[:80]
            await _refuse(
                scope,
                receive,
                send,
                415,
                f"Unsupported content type {sent!r}: send the body as JSON with Content-Type: application/json",
                "UNSUPPORTED_MEDIA_TYPE",
            )
            return
        await self.app(scope, receive, send)


def _hostname(value: str) -> str | None:
    """`host`, `host:port`, `[v6]` or `[v6]:port` -> the lower-case host name; None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1 :] if end > 0 else "x"
        name = value[1:end] if end > 0 else ""
    else:
        name, _, port = value.partition(":")
        rest = f":{port}" if port or value.endswith(":") else ""
    if not name or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
        return None
    return name


class HostGuard:
    def __init__(self, app: ASGIApp, *, bind_host: str, allowed_hosts: Iterable[str] = ()) -> None:
        self.app = app
        names = {h.strip().lower().removesuffix(":*") for h in allowed_hosts if h.strip()}
        names = {_hostname(n) or n for n in names}
        if bind_host.strip().lower() not in WILDCARD:
            names.add(_hostname(bind_host) or bind_host.lower())
        self.allowed = frozenset(LOOPBACK | names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if _hostname(headers.get("host", "")) not in self.allowed:
            await _refuse(
                scope,
                receive,
                send,
                421,
                "Unknown Host: the sandbox answers only to its own host names (loopback, or "
                "RUNTYPE_MCP_ALLOWED_HOSTS)",
                "INVALID_HOST",
            )
            return
        origin = headers.get("origin")
        if origin is not None and not self._origin_ok(origin):
            await _refuse(
                scope,
                receive,
                send,
                403,
                "Cross-origin requests are not accepted by the sandbox",
                "INVALID_ORIGIN",
            )
            return
        await self.app(scope, receive, send)

    def _origin_ok(self, origin: str) -> bool:
        try:
            parts = urlsplit(origin.strip())
            port = parts.port  # raises on a malformed port
        except ValueError:
            return False
        del port
        return parts.scheme in ("http", "https") and (parts.hostname or "") in self.allowed
