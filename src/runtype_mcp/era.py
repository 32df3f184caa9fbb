"""`--protocol-era legacy`: pin a stdio connection to the 2025-11-25 handshake era.

With mcp 2.x the first request decides a stdio connection's era. Some clients send
`server/discover` (2026-07-28) and then `initialize` anyway, which the SDK refuses with
-32022 and the client fails to connect. With this switch, every request carrying the 2026
`_meta` envelope is refused with -32022 naming 2025-11-25 as the supported version *before*
the SDK sees it, so the client's `initialize` opens the connection in the legacy era.
"""

from __future__ import annotations

from typing import Any

import anyio
from mcp.shared.message import SessionMessage
from mcp_types.jsonrpc import UNSUPPORTED_PROTOCOL_VERSION, ErrorData, JSONRPCError, JSONRPCRequest

LEGACY_VERSION = "2025-11-25"
_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"


def _modern_version(request: JSONRPCRequest) -> str | None:
    params = request.params or {}
    meta = params.get("_meta") if isinstance(params, dict) else None
    if request.method == "initialize" or not isinstance(meta, dict) or _VERSION_KEY not in meta:
        return None
    return str(meta[_VERSION_KEY])


async def serve_legacy_only(read_stream: Any, write_stream: Any, serve: Any) -> None:
    """Run `serve(filtered_read_stream)` while refusing 2026-era requests on `write_stream`."""
    send, receive = anyio.create_memory_object_stream[SessionMessage | Exception](32)

    async def pump() -> None:
        async with send:
            async for item in read_stream:
                if isinstance(item, SessionMessage) and isinstance(item.message, JSONRPCRequest):
                    requested = _modern_version(item.message)
                    if requested is not None:
                        error = ErrorData(
                            code=UNSUPPORTED_PROTOCOL_VERSION,
                            message="this server is pinned to the initialize handshake (RUNTYPE_PROTOCOL_ERA=legacy)",
                            data={"supported": [LEGACY_VERSION], "requested": requested},
                        )
                        await write_stream.send(
                            SessionMessage(JSONRPCError(jsonrpc="2.0", id=item.message.id, error=error))
                        )
                        continue
                await send.send(item)

    async with anyio.create_task_group() as tg:
        tg.start_soon(pump)
        await serve(receive)
        tg.cancel_scope.cancel()
