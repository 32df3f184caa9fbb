"""`runtype-mcp check`: verify the key and connectivity with GET /v1/auth/me; print one line."""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack

from runtype_mcp.client import RuntypeClient
from runtype_mcp.config import Settings
from runtype_mcp.errors import RuntypeMCPError, clean, render


async def check(settings: Settings) -> int:
    target = "the sandbox" if settings.sandbox else settings.base_url
    async with AsyncExitStack() as stack:
        transport = None
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
            print(f"FAILED: {target}: {render(exc, 'check')}", file=sys.stderr)
            return 1
    body = resp.body if isinstance(resp.body, dict) else {}
    user = body.get("user") if isinstance(body.get("user"), dict) else body
    who = clean((user or {}).get("email") or (user or {}).get("id") or "an authenticated user", 120)
    print(f"OK: connected to {target} as {who}")
    return 0
