"""`completion/complete`: values for prompt arguments and resource-template variables.

An argument is completed by its name, wherever it appears (a prompt or a resource template):
`record_type`/`type` -> record types seen in a sample of records; `flow_id` -> ids of flows whose
name (or id) starts with the typed text; `record_id` -> ids of records whose name (or id) starts
with it, within the type given in the context when there is one; `field` -> metadata field names
of that type. At most 100 values (`hasMore` when there were more).

Answers are cached for `TTL` seconds per caller: in forward-key mode the cache key starts with a
hash of the caller's own key, so one team member never sees another's names. A prefix whose cached
answer was complete serves every longer prefix without a request (typing stays quick). An API
error or a slow API gives an empty list (logged), never an error to the host.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.server.context import ServerRequestContext
from mcp.types import CompleteRequestParams, CompleteResult, Completion

from runtype_mcp.client import RuntypeClient
from runtype_mcp.client.core import bind_forwarded_key, forwarded_key
from runtype_mcp.client.keys import bearer
from runtype_mcp.config import Settings
from runtype_mcp.logs import get_logger

log = get_logger("runtype_mcp.completions")

LIMIT = 100  # values per answer (the spec's maximum)
TTL = 30.0  # seconds an answer is reused
DEADLINE = 5.0  # seconds before a completion gives up (an empty list)
TYPE_SAMPLE_PAGES = 5  # record types come from this many pages of records
MAX_ENTRIES = 1024

KINDS = {"record_type": "type", "type": "type", "flow_id": "flow", "record_id": "record", "field": "field"}

# ((value, name) pairs, whether the API had more than it returned); types and fields are their own name
Found = tuple[list[tuple[str, str]], bool]


class Completer:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.cache: dict[tuple[str, ...], tuple[float, Found]] = {}
        self.fetches = 0  # API lookups made (tests read it to see the cache at work)

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], params: CompleteRequestParams
    ) -> CompleteResult:
        name, typed = params.argument.name, params.argument.value
        context = (params.context.arguments if params.context else None) or {}
        kind = KINDS.get(name)
        values: list[tuple[str, str]] = []
        more = False
        if kind is not None:
            headers = getattr(ctx.request, "headers", None)
            try:
                with anyio.fail_after(min(DEADLINE, self.settings.tool_timeout)):
                    values, more = await self.lookup(ctx, headers, kind, typed, context)
            except Exception as exc:  # a completion never fails the host
                log.warning("completion.error", argument=name, error=type(exc).__name__)
                values, more = [], False
        shown = [value for value, _ in values[:LIMIT]]
        return CompleteResult(
            completion=Completion(values=shown, has_more=more or len(values) > LIMIT, total=None)
        )

    async def lookup(
        self,
        ctx: ServerRequestContext[Any, Any],
        headers: Mapping[str, str] | None,
        kind: str,
        typed: str,
        context: Mapping[str, str],
    ) -> Found:
        scope = context.get("record_type") or context.get("type") or ""
        if kind == "field" and not scope:
            return [], False
        caller = self.caller(headers)
        if caller is None:
            return [], False  # forward-key mode without a key: nothing to look up with
        # Types and fields are fetched whole and filtered here; flows and records are searched upstream.
        query = "" if kind in {"type", "field"} else typed
        base = (caller, kind, scope)
        if (hit := self.cached(base, query)) is not None:
            return narrow(hit, typed)
        client: RuntypeClient = ctx.lifespan_context.client
        token = bind_forwarded_key(self.settings, headers)
        try:
            self.fetches += 1
            found = await FETCH[kind](client, query, scope)
        finally:
            if token is not None:
                forwarded_key.reset(token)
        self.store((*base, query), found)
        return narrow(found, typed)

    def caller(self, headers: Mapping[str, str] | None) -> str | None:
        if not self.settings.mcp_forward_key:
            return ""
        key = bearer(headers)
        return hashlib.sha256(key.encode()).hexdigest() if key else None

    def cached(self, base: tuple[str, ...], query: str) -> Found | None:
        now = self.clock()
        for cut in range(len(query), -1, -1):
            entry = self.cache.get((*base, query[:cut]))
            if entry is None or entry[0] <= now:
                continue
            values, more = entry[1]
            if cut == len(query) or not more:  # a complete shorter answer holds every longer one
                return values, more
        return None

    def store(self, key: tuple[str, ...], found: Found) -> None:
        now = self.clock()
        if len(self.cache) >= MAX_ENTRIES:
            self.cache = {k: v for k, v in self.cache.items() if v[0] > now}
            while len(self.cache) >= MAX_ENTRIES:
                del self.cache[next(iter(self.cache))]
        self.cache[key] = (now + TTL, found)


def narrow(found: Found, typed: str) -> Found:
    """Entries whose name or value starts with `typed` (case-insensitive), by name, exact-case first."""
    pairs, more = found
    low = typed.casefold()
    picked = [p for p in pairs if p[1].casefold().startswith(low) or p[0].casefold().startswith(low)]
    return sorted(picked, key=lambda p: (not p[1].startswith(typed), p[1].casefold(), p[0])), more


def _pairs(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (row["id"], row["name"] if isinstance(row.get("name"), str) else row["id"])
        for row in rows
        if isinstance(row.get("id"), str)
    ]


async def _types(client: RuntypeClient, _query: str, _scope: str) -> Found:
    types: dict[str, None] = {}
    cursor: str | None = None
    for _ in range(TYPE_SAMPLE_PAGES):
        page = await client.list_records(limit=100, view="compact", cursor=cursor)
        types.update((t, None) for row in page.data if isinstance(t := row.get("type"), str))
        cursor = page.next_cursor if page.has_more else None
        if cursor is None:
            return [(t, t) for t in types], False
    return [(t, t) for t in types], True


async def _flows(client: RuntypeClient, query: str, _scope: str) -> Found:
    page = await client.list_flows(limit=100, view="compact", **({"search": query} if query else {}))
    return narrow((_pairs(page.data), page.has_more), query)


async def _records(client: RuntypeClient, query: str, scope: str) -> Found:
    params: dict[str, Any] = {"limit": 100, "view": "compact"}
    params.update({"type": scope} if scope else {})
    params.update({"search": query} if query else {})
    page = await client.list_records(**params)
    return narrow((_pairs(page.data), page.has_more), query)


async def _fields(client: RuntypeClient, _query: str, scope: str) -> Found:
    body = await client.discover_record_schema(type=scope)
    fields = body.get("fields") if isinstance(body, dict) else None
    names: dict[str, None] = {}
    for item in fields if isinstance(fields, list) else []:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str):
            names[name] = None
    return [(n, n) for n in names], False


FETCH = {"type": _types, "flow": _flows, "record": _records, "field": _fields}


def register_completions(server: MCPServer[Any], settings: Settings) -> Completer:
    """Serve `completion/complete` (this also advertises the `completions` capability)."""
    completer = Completer(settings)
    server._lowlevel_server.add_request_handler("completion/complete", CompleteRequestParams, completer)
    return completer
