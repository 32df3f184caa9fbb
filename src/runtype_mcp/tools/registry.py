"""How a tool is declared: one decorated `async def` per tool, registered automatically.

A toolset module creates `records = Toolset("records")` and decorates each tool with
`@records.tool(kind=...)`. The kind fixes all four annotations on purpose (the spec's
default for destructiveHint is *true*, so nothing is left to defaults), and read-only
mode is derived from those annotations rather than from a second list.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ResourceLink, TextContent, ToolAnnotations
from pydantic import BaseModel

from runtype_mcp.boundary import CLOSE_MARK, OPEN_MARK, SERVER_KEYS, fence_result, unmark
from runtype_mcp.client import RuntypeClient
from runtype_mcp.config import Settings

Kind = Literal["read", "create", "update", "delete", "run", "write_file"]
Transport = Literal["stdio", "streamable-http"]
BOTH: tuple[Transport, ...] = ("stdio", "streamable-http")
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
Ctx = Context[Any, Any]

# (readOnly, destructive, idempotent) per kind. openWorld is per tool: True only where the
# call reaches beyond the Runtype account (flow runs may call models and fetch URLs).
_HINTS: dict[Kind, tuple[bool, bool, bool]] = {
    "read": (True, False, True),
    "create": (False, False, False),
    "update": (False, True, True),
    "delete": (False, True, True),
    "run": (False, True, False),
    # Writes a local file (may replace one with overwrite=true): never offered as read-only.
    "write_file": (False, True, False),
}


@dataclass(frozen=True)
class ToolSpec:
    fn: Callable[..., Awaitable[Any]]
    name: str
    toolset: str
    annotations: ToolAnnotations
    transports: tuple[Transport, ...] = BOTH

    @property
    def read_only(self) -> bool:
        return bool(self.annotations.read_only_hint)


@dataclass
class Toolset:
    name: str
    specs: list[ToolSpec] = field(default_factory=list)

    def tool(
        self,
        *,
        title: str,
        kind: Kind,
        open_world: bool = False,
        idempotent: bool | None = None,
        name: str | None = None,
        transports: tuple[Transport, ...] = BOTH,
    ) -> Callable[[F], F]:
        """`name` and `transports` declare a per-transport variant: the same tool name with the
        signature that transport allows (e.g. no local `path` over streamable HTTP)."""
        read_only, destructive, default_idempotent = _HINTS[kind]
        annotations = ToolAnnotations(
            title=title,
            read_only_hint=read_only,
            destructive_hint=destructive,
            idempotent_hint=default_idempotent if idempotent is None else idempotent,
            open_world_hint=open_world,
        )

        def decorator(fn: F) -> F:
            spec = ToolSpec(
                fn=fn,
                name=name or fn.__name__,
                toolset=self.name,
                annotations=annotations,
                transports=transports,
            )
            self.specs.append(spec)
            return fn

        return decorator


def client_of(ctx: Ctx) -> RuntypeClient:
    """The lifespan-owned client (see `server.AppState`)."""
    client: RuntypeClient = ctx.request_context.lifespan_context.client
    return client


def settings_of(ctx: Ctx) -> Settings:
    settings: Settings = ctx.request_context.lifespan_context.settings
    return settings


M = TypeVar("M", bound=BaseModel)


def result(
    model: BaseModel, links: Sequence[ResourceLink] = (), *, text_view: dict[str, Any] | None = None
) -> CallToolResult:
    """Compact JSON for the model to read, the same object as structured content for the app,
    and resource links a client can show or attach (`runtype://records/...`).

    The model's text fences the data off as written by others (boundary.fence_result); the
    answer's own guidance (`next`, `note`) follows outside the fence.

    `text_view` replaces the model's text with a denser rendering of the same data (a table for
    long lists); the structured content keeps the typed objects."""
    try:
        data = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    except ValueError:  # nested past pydantic's JSON serialisation depth: data written by others
        data = model.model_dump(by_alias=True, exclude_none=True)
    data = cap_depth(data)
    raw = cap_depth(text_view) if text_view is not None else data
    # Guidance that carries upstream text (marked by errors.upstream / render_marked) is not purely
    # ours: it stays inside the fence with the data.
    ours = [k for k in SERVER_KEYS if isinstance(raw.get(k), str) and OPEN_MARK not in raw[k]]
    data, shown = unmark_value(data), unmark_value(raw)
    guidance = {k: shown[k] for k in ours}
    rest = {k: v for k, v in shown.items() if k not in guidance}
    text = fence_result(_json(rest), _json(guidance) if guidance else None)
    content: list[TextContent | ResourceLink] = [TextContent(type="text", text=text)]
    content.extend(links)
    return CallToolResult(content=list(content), structured_content=data)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def unmark_value(value: Any) -> Any:
    """Upstream marks (errors.upstream) taken out of every string: the data is fenced as a whole."""
    if isinstance(value, str):
        return unmark(value) if OPEN_MARK in value or CLOSE_MARK in value else value
    if isinstance(value, dict):
        return {k: unmark_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unmark_value(v) for v in value]
    return value


MAX_OUTPUT_DEPTH = 64
TOO_DEEP = "[nested too deep to show here]"


def cap_depth(value: Any, left: int = MAX_OUTPUT_DEPTH) -> Any:
    """Upstream JSON nested past `left` levels, cut to a marker: the MCP layer cannot serialise
    arbitrarily deep values, and a model cannot use them."""
    if isinstance(value, dict):
        return {k: cap_depth(v, left - 1) for k, v in value.items()} if left > 0 else TOO_DEEP
    if isinstance(value, list):
        return [cap_depth(v, left - 1) for v in value] if left > 0 else TOO_DEEP
    return value
