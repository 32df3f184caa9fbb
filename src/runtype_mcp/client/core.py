"""The client core: auth, timeouts, retries, pagination and the one HTTP status -> exception mapping.

Retry policy (runtype-api.md §0.1, §7.3):
- GET, PUT and DELETE are retried on 429 (honouring Retry-After within a bounded total wait),
  on 408/5xx and on timeouts or connection errors, a few attempts at most.
- POST is never retried here. `create_record` retries only after a lookup by type and name
  shows that the first attempt did not land (see `tools/records.py`); a flow run never is.
"""

from __future__ import annotations

import contextvars
import json
import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import quote

import httpx2

from runtype_mcp import __version__
from runtype_mcp.client.keys import MISSING_FORWARDED_KEY
from runtype_mcp.client.keys import bearer as bearer
from runtype_mcp.client.keys import bind_forwarded_key as bind_forwarded_key
from runtype_mcp.client.keys import current_secrets as current_secrets
from runtype_mcp.client.keys import forwarded_key as forwarded_key
from runtype_mcp.config import Settings
from runtype_mcp.errors import (
    APIError,
    ArgumentError,
    BadResponse,
    ConfigError,
    Detail,
    RateLimited,
    RequestInfo,
    ResponseTooLarge,
    ServerError,
    TransportFailure,
    error_from_response,
)
from runtype_mcp.logs import get_logger
from runtype_mcp.scrub import scrub_bytes, scrub_text

log = get_logger("runtype_mcp.client")

_RETRY_STATUSES = frozenset({408, 500, 502, 503, 504})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

MISSING_KEY = (
    "No Runtype API key is configured, so nothing was sent. Set RUNTYPE_API_KEY in this server's "
    'environment (in the MCP client config: "env": {"RUNTYPE_API_KEY": "rt_live_..."}) and restart the '
    "server, or start it with --sandbox (RUNTYPE_SANDBOX=1) to use offline demo data without an account."
)


@dataclass
class CallStats:
    """Per-tool-call counters read by the `tool.call` log line."""

    requests: int = 0
    attempts: int = 0
    last_status: int | None = None


call_stats: contextvars.ContextVar[CallStats | None] = contextvars.ContextVar("call_stats", default=None)


def segment(value: str, arg: str) -> str:
    """An id as one URL path segment; ids that cannot be valid are rejected before any request."""
    problem = None
    if not value or not value.strip():
        problem = "must not be empty"
    elif _CONTROL.search(value):
        problem = "must not contain control characters"
    elif "/" in value or "\\" in value:
        problem = "must not contain slashes"
    elif value in {".", ".."}:
        problem = "is not a valid id"
    elif len(value) > 512:
        problem = "is too long to be an id (over 512 characters)"
    if problem:
        raise ArgumentError(
            [Detail(arg, problem, f"pass the {arg} exactly as a list_ or get_ tool returned it")]
        )
    return quote(value, safe="")


def _query(params: Mapping[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, dict | list):
            out[key] = json.dumps(value, separators=(",", ":"))
        else:
            out[key] = str(value)
    return out


def _scope(method: str, path: str) -> str | None:
    if "/export-runtime" in path:
        return "RUNTIME:EXPORT"
    if path.startswith(("/dispatch", "/batch", "/executions")) or path.endswith("/run-on-record-type"):
        return "FLOWS:EXECUTE"
    if path.startswith("/records"):
        return "RECORDS:READ" if method == "GET" else "RECORDS:WRITE"
    if path.startswith(("/flows", "/flow-versions")):
        return "FLOWS:READ" if method == "GET" else "FLOWS:WRITE"
    return None


@dataclass
class Response:
    status: int
    body: Any  # parsed JSON, or None for an empty body (e.g. 204)
    headers: httpx2.Headers
    safe: bool = True  # repeating the request changes nothing (reads, and POSTs marked retry=True)


class BaseClient:
    """Transport concerns; the endpoint methods live in `records.py` and `flows.py` beside this module."""

    def __init__(self, http: httpx2.AsyncClient, settings: Settings, *, backoff: float = 0.5) -> None:
        self.http = http
        self.settings = settings
        self.backoff = backoff

    @staticmethod
    def build_http(
        settings: Settings, transport: httpx2.AsyncBaseTransport | None = None
    ) -> httpx2.AsyncClient:
        headers = {"User-Agent": f"runtype-mcp/{__version__}", "Accept": "application/json"}
        if settings.api_key is not None and not settings.mcp_forward_key:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        return httpx2.AsyncClient(
            base_url=settings.base_url + "/v1",
            headers=headers,
            # The API is bearer-only: a jar would carry one forwarded key's cookies into another's requests.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            timeout=httpx2.Timeout(settings.timeout),
            transport=transport,
            follow_redirects=False,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        files: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        resource: tuple[str, str] | None = None,
        retry: bool | None = None,
    ) -> Response:
        """Send one logical request (retried per the policy above) and return the parsed body."""
        headers = self.auth_headers(headers)
        info = RequestInfo(
            method=method, path=path, resource=resource, scope=_scope(method, path), safe=retry
        )
        stats = call_stats.get()
        if stats is not None:
            stats.requests += 1
        retryable = info.idempotent if retry is None else retry
        if not retryable:
            info.attempts = 1
            return await self._send(info, params, json_body, files, data, headers, stats)
        started = time.monotonic()
        async for attempt in self.attempts(lambda exc: self.retry_wait(exc, started)):
            with attempt:
                info.attempts = attempt.num
                return await self._send(info, params, json_body, files, data, headers, stats)
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    def auth_headers(self, headers: Mapping[str, str] | None = None) -> Mapping[str, str] | None:
        """`headers` plus this call's key in forward-key mode; a ConfigError when there is no key to send."""
        if self.settings.mcp_forward_key:
            key = forwarded_key.get()
            if key is None:
                raise ConfigError(MISSING_FORWARDED_KEY)
            return {**(headers or {}), "Authorization": f"Bearer {key}"}
        if self.settings.api_key is None and not self.settings.sandbox:
            raise ConfigError(MISSING_KEY)
        return headers

    def retry_wait(self, exc: Exception, started: float) -> bool | float:
        """Whether a failed idempotent attempt is tried again (a float: after that many seconds)."""
        if isinstance(exc, TransportFailure):
            return True
        if isinstance(exc, RateLimited):
            if exc.retry_after is None:
                return True
            left = self.settings.max_retry_wait - (time.monotonic() - started)
            return exc.retry_after if exc.retry_after <= left else False
        return isinstance(exc, ServerError | APIError) and getattr(exc, "status", 0) in _RETRY_STATUSES

    def attempts(self, on: Callable[[Exception], bool | float]) -> AsyncIterable[Any]:
        """stamina attempts under the retry policy (`attempt.num` counts from 1); re-raises the last failure."""
        import stamina  # lazy: only a retryable request pays for it (cold start matters)

        return stamina.retry_context(
            on=on,
            attempts=self.settings.retry_attempts,
            timeout=self.settings.max_retry_wait,
            wait_initial=self.backoff,
            wait_max=max(self.backoff, 5.0 if self.backoff else 0.0),
            wait_jitter=self.backoff,
        )

    async def _send(
        self,
        info: RequestInfo,
        params: Mapping[str, Any] | None,
        json_body: Any,
        files: Any,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        stats: CallStats | None,
    ) -> Response:
        if stats is not None:
            stats.attempts += 1
        started = time.perf_counter()
        secrets = current_secrets(self.settings)
        try:
            request = self.http.build_request(
                info.method,
                info.path,
                params=_query(params),
                json=json_body,
                files=files,
                data=data,
                headers=headers,
            )
            resp = await self.http.send(request, stream=True)
            try:
                raw = await self._read_capped(resp)
            finally:
                await resp.aclose()
        except httpx2.TimeoutException as exc:
            log.warning(
                "runtype.request",
                method=info.method,
                path=info.path,
                outcome="timeout",
                attempt=info.attempts,
            )
            raise TransportFailure(info, type(exc).__name__, timeout=True) from None
        except httpx2.TransportError as exc:
            log.warning(
                "runtype.request", method=info.method, path=info.path, outcome="error", attempt=info.attempts
            )
            reason = scrub_text(f"{type(exc).__name__}: {exc}", secrets)
            raise TransportFailure(info, reason, timeout=False) from None
        if stats is not None:
            stats.last_status = resp.status_code
        log.debug(
            "runtype.request",
            method=info.method,
            path=info.path,
            status=resp.status_code,
            attempt=info.attempts,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            bytes=None if raw is None else len(raw),
        )
        if raw is None:  # over the cap: an error status keeps its meaning, a 2xx cannot be used
            if resp.status_code < 300:
                reads = info.method in {"GET", "HEAD"} or (info.method == "POST" and info.safe is True)
                what = f"{info.method} {info.path}"
                raise ResponseTooLarge(what, resp.status_code, self.settings.max_response_bytes, safe=reads)
            raw = b""
        # Scrubbed before anything parses, bounds or quotes it: an echoed key never survives as a prefix.
        raw = scrub_bytes(raw, secrets)
        body = _parse(raw, resp.headers.get("content-type", ""))
        if resp.status_code >= 400:
            raise error_from_response(info, resp.status_code, body, resp.headers.get("retry-after"))
        if resp.status_code >= 300:
            raise error_from_response(info, resp.status_code, body, None)
        return Response(resp.status_code, body, resp.headers, info.idempotent)

    async def _read_capped(self, resp: httpx2.Response) -> bytes | None:
        """The body, or None when it is larger than RUNTYPE_MAX_RESPONSE_BYTES (reading stops there)."""
        cap = self.settings.max_response_bytes
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.aiter_bytes():
            size += len(chunk)
            if size > cap:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def paginate(
        self, path: str, params: Mapping[str, Any], *, max_items: int
    ) -> AsyncIterator[dict[str, Any]]:
        """Follow `nextCursor` until exhausted or `max_items` rows were yielded."""
        cursor: str | None = None
        seen = 0
        while True:
            page = await self.request("GET", path, params={**params, "cursor": cursor})
            body = page.body if isinstance(page.body, dict) else {}
            for item in body.get("data") or []:
                if isinstance(item, dict):
                    yield item
                    seen += 1
                    if seen >= max_items:
                        return
            pagination = body.get("pagination") or {}
            cursor = pagination.get("nextCursor") if isinstance(pagination, dict) else None
            if not cursor or not pagination.get("hasMore", True):
                return


def _parse(raw: bytes, content_type: str) -> Any:
    if not raw.strip():
        return None
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: JSON nested past the parser's depth
            return text
    return text


def expect_object(resp: Response, info: str) -> dict[str, Any]:
    """The body as a JSON object, or a BadResponse that says whether the call may have taken effect."""
    if isinstance(resp.body, dict):
        return resp.body
    got = "an empty body" if resp.body is None else ("text" if isinstance(resp.body, str) else "a JSON array")
    raise BadResponse(info, resp.status, got, safe=resp.safe)
