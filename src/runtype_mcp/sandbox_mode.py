"""`--sandbox`: serve the in-process sandbox API through httpx2.ASGITransport (no port opened).

Imported only when sandbox mode is on, so the normal start-up never loads the sandbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2

from runtype_mcp.config import Settings
from runtype_mcp.logs import get_logger

log = get_logger("runtype_mcp.sandbox")


@asynccontextmanager
async def open_sandbox(settings: Settings) -> AsyncIterator[httpx2.AsyncBaseTransport]:
    from runtype_mcp.sandbox import Sandbox, default_db_path

    db = settings.sandbox_db or str(default_db_path())
    sandbox = Sandbox(db)
    async with sandbox.running():
        log.info("sandbox.ready", db=db)
        yield httpx2.ASGITransport(app=sandbox.app)
