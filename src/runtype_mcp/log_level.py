"""`logging/setLevel` (2025-era connections; the 2026 revision removed it and the SDK refuses it there).

Over stdio the one client is the server's owner, so its level becomes the server's own log level
(stderr). Over streamable HTTP one process serves many clients: a client may not quiet (or flood)
the operator's logs, so the request is accepted and logged but the level set by `RUNTYPE_LOG_LEVEL`
stays. This server sends no `notifications/message`, so there is nothing per-client to filter.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog
from mcp.server import MCPServer
from mcp.server.context import ServerRequestContext
from mcp.types import EmptyResult, SetLevelRequestParams

from runtype_mcp.config import Settings
from runtype_mcp.logs import get_logger

log = get_logger("runtype_mcp.log_level")

# MCP (syslog) levels -> Python levels.
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": logging.CRITICAL,
    "emergency": logging.CRITICAL,
}


def apply_level(numeric: int) -> None:
    """Change the level of the server's own logs (structlog and stdlib) in place."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(numeric))
    logging.getLogger().setLevel(numeric)


def register_log_level(server: MCPServer[Any], settings: Settings) -> None:
    async def set_level(_ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
        numeric = LEVELS[params.level]
        if settings.transport == "stdio":
            log.info("logging.set_level", level=params.level)
            apply_level(numeric)
        else:
            log.info("logging.set_level", level=params.level, applied=False, reason="shared HTTP server")
        return EmptyResult()

    server._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)
