"""`--transport streamable-http`: the MCP server over HTTP at /mcp, for a team or a gateway.

- Binds 127.0.0.1 by default, with the SDK's DNS-rebinding protection (Host/Origin checked).
- RUNTYPE_MCP_HTTP_TOKEN: a bearer token (32+ characters) every request must carry (compared in
  constant time).
- RUNTYPE_MCP_FORWARD_KEY=1: each client sends its own Runtype key as the bearer; it is used for
  that request only and never stored or logged, so one deployment serves several users.
- Stateless (no session affinity), so several instances can sit behind a load balancer.
- Touches no file of the server: the tools are built in their HTTP variants (export returns the
  CSV as an embedded resource, upload takes csv_text only), and a stdio server is refused here.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from runtype_mcp.config import Settings

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_BODY = 2 * 1024 * 1024
MIN_TOKEN = 32  # characters of RUNTYPE_MCP_HTTP_TOKEN (`openssl rand -hex 24` gives 48)


class HTTPConfigError(Exception):
    pass


class BearerGate:
    """Rejects HTTP requests without the right bearer before they reach the MCP app."""

    def __init__(self, app: ASGIApp, *, token: str | None, forward: bool) -> None:
        self.app, self.token, self.forward = app, token, forward

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.token is None and not self.forward):
            await self.app(scope, receive, send)
            return
        auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, value = auth.partition(" ")
        value = value.strip() if scheme.lower() == "bearer" else ""
        if self.token is not None:
            ok = hmac.compare_digest(value.encode(), self.token.encode())
            problem = "a valid bearer token (RUNTYPE_MCP_HTTP_TOKEN of this server)"
        else:
            ok = bool(value)
            problem = "your Runtype API key as the bearer token"
        if ok:
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {"error": f"unauthorized: send 'Authorization: Bearer ...' with {problem}"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def security_for(settings: Settings, host: str) -> TransportSecuritySettings | None:
    if host in LOOPBACK and not settings.mcp_allowed_hosts:
        return None  # the SDK switches DNS-rebinding protection on for loopback hosts by itself
    hosts = list(settings.mcp_allowed_hosts) or [f"{host}:*"]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[*hosts, "127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=[f"http://{h}" for h in hosts] + [f"https://{h}" for h in hosts],
    )


def build_http_app(server: Any, settings: Settings, host: str) -> ASGIApp:
    served = getattr(server, "settings_", settings)
    if settings.transport != "streamable-http" or served.transport != "streamable-http":
        # The stdio tool surface reads and writes local files; it must never be served to remote clients.
        raise HTTPConfigError(
            "this server was built for stdio (its tools use local files): build it with "
            "Settings(transport='streamable-http') to serve it over HTTP"
        )
    token = settings.mcp_http_token.get_secret_value() if settings.mcp_http_token else None
    if token is not None and settings.mcp_forward_key:
        raise HTTPConfigError(
            "RUNTYPE_MCP_HTTP_TOKEN and RUNTYPE_MCP_FORWARD_KEY both use the Authorization header: choose one"
        )
    if token is not None and len(token.strip()) < MIN_TOKEN:
        raise HTTPConfigError(
            f"RUNTYPE_MCP_HTTP_TOKEN is {len(token.strip())} characters; it must be at least {MIN_TOKEN} "
            "(a short token can be guessed). Generate one with `openssl rand -hex 24` or "
            '`python -c "import secrets; print(secrets.token_hex(24))"`'
        )
    if host not in LOOPBACK and token is None and not settings.mcp_forward_key:
        raise HTTPConfigError(
            f"refusing to serve on {host} without authentication: set RUNTYPE_MCP_HTTP_TOKEN or "
            "RUNTYPE_MCP_FORWARD_KEY=1 (and RUNTYPE_MCP_ALLOWED_HOSTS to the public host names)"
        )
    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        transport_security=security_for(settings, host),
        host=host,
        max_request_body_size=MAX_BODY,
    )
    return BearerGate(app, token=token, forward=settings.mcp_forward_key)


def serve_http(server: Any, settings: Settings, host: str, port: int) -> None:
    import uvicorn

    app = build_http_app(server, settings, host)
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")
