"""The door: every message the server sends passes one scrubber for secrets.

`ScrubMiddleware` wraps every inbound request (the SDK's server middleware, on every transport and
protocol era): the result it answers with (tool text and structured content, resource links and
contents, prompt results, elicitations carried in an input-required result) and the protocol errors it
raises (`ResourceError`, `MCPError`, an unexpected exception's text) are scrubbed as whole values.
Requests the server itself sends to the client (a legacy `elicitation/create`) do not pass through it;
`tools/confirm.ask` scrubs those with the same `secrets_in_force`.

The secrets in force: the configured key, the HTTP token, credentials in RUNTYPE_BASE_URL
(`Settings.secrets`), and the bearer this request carried (a forwarded key).
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR
from pydantic import BaseModel, ValidationError

from runtype_mcp.client.keys import bearer, bind_forwarded_key, current_secrets, forwarded_key
from runtype_mcp.config import Settings
from runtype_mcp.scrub import scrub_text, scrub_value


class ScrubMiddleware:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        headers = getattr(ctx.request, "headers", None)
        # Bound for the whole request, so the SDK's own log lines about it are scrubbed of the key too.
        key_token = bind_forwarded_key(self.settings, headers)
        secrets = current_secrets(self.settings)
        if (token := bearer(headers)) is not None:
            secrets.append(token)
        try:
            result = await call_next(ctx)
        except MCPError as exc:
            message, data = scrub_text(exc.message, secrets), scrub_value(exc.data, secrets)
            if message is exc.message and data is exc.data:
                raise
            raise MCPError(code=exc.code, message=message, data=data) from None
        except ValidationError:
            raise  # goes out as "Invalid request parameters", without its text
        except Exception as exc:  # the dispatcher would send str(exc) as the error message
            message = scrub_text(str(exc), secrets)
            if message == str(exc):
                raise
            raise MCPError(code=INTERNAL_ERROR, message=message) from None
        finally:
            if key_token is not None:
                forwarded_key.reset(key_token)
        if isinstance(result, BaseModel):  # a short-circuiting middleware; `_inner` returns wire dicts
            result = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        out: HandlerResult = scrub_value(result, secrets)
        return out
