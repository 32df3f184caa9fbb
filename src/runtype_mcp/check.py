"""`runtype-mcp check`: verify the key and connectivity with GET /v1/auth/me; print one line.

The line passes the same scrubber as every MCP message (an upstream may echo the key in its error,
`email` or `id`), and RUNTYPE_BASE_URL is shown without any `user:password@` in it."""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack

import httpx2

from runtype_mcp.client import RuntypeClient
from runtype_mcp.config import Settings
from runtype_mcp.errors import BadResponse, RuntypeMCPError, clean, render
from runtype_mcp.scrub import scrub_text


async def check(settings: Settings, transport: httpx2.AsyncBaseTransport | None = None) -> int:
    """`transport` replaces the network (tests)."""
    secrets = settings.secrets()
    target = "the sandbox" if settings.sandbox else settings.public_base_url
    async with AsyncExitStack() as stack:
        client_settings = settings
        if settings.sandbox:
            from runtype_mcp.sandbox_mode import open_sandbox
            from runtype_mcp.server import SANDBOX_BASE

            transport = await stack.enter_async_context(open_sandbox(settings))
            client_settings = settings.model_copy(update={"base_url": SANDBOX_BASE})
        http = await stack.enter_async_context(RuntypeClient.build_http(client_settings, transport))
        client = RuntypeClient(http, settings)
        try:
            resp = await client.request("GET", "/auth/me")
        except RuntypeMCPError as exc:
            if isinstance(exc, BadResponse):
                exc.read_only = True  # GET /auth/me only reads
            print(scrub_text(f"FAILED: {target}: {render(exc, 'check')}", secrets), file=sys.stderr)
            return 1
    body = resp.body if isinstance(resp.body, dict) else {}
    user = body.get("user") if isinstance(body.get("user"), dict) else body
    who = clean((user or {}).get("email") or (user or {}).get("id") or "an authenticated user", 120)
    print(scrub_text(f"OK: connected to {target} as {who}", secrets))
    return 0
