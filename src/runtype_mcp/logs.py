"""Structured logs on stderr, with secrets redacted wherever they appear.

stdout is the MCP protocol in stdio mode, so nothing here ever writes to it.
Event names are dotted (`tool.call`, `runtype.request`, `runtype.retry`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from runtype_mcp.scrub import REDACTED, scrub_text

_SENSITIVE_KEYS = frozenset({"authorization", "api_key", "apikey", "token", "bearer", "password", "secret"})


class Redactor:
    """A structlog processor that scrubs known secrets (with the same prefix-aware scrub as every
    outgoing message, `scrub.scrub_text`) and `Authorization`-like keys.

    `dynamic` returns the secrets of the current call (a key an HTTP client forwarded); the client
    module sets it, so this module needs no import of it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = [s for s in secrets if s]
        self.dynamic: Callable[[], list[str]] = list

    def add(self, secret: str) -> None:
        if secret and secret not in self.secrets:
            self.secrets.append(secret)

    def scrub(self, value: Any, depth: int = 0) -> Any:
        return self._scrub(value, [*self.secrets, *self.dynamic()], depth)

    def _scrub(self, value: Any, secrets: list[str], depth: int) -> Any:
        if depth > 8:
            return value
        if isinstance(value, str):
            value = scrub_text(value, secrets)
            if value.lower().startswith("bearer ") and len(value) > 7:
                return "Bearer " + REDACTED
            return value
        if isinstance(value, Mapping):
            return {
                k: (REDACTED if str(k).lower() in _SENSITIVE_KEYS else self._scrub(v, secrets, depth + 1))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._scrub(v, secrets, depth + 1) for v in value]
        return value

    def __call__(
        self, logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        secrets = [*self.secrets, *self.dynamic()]
        for key in list(event_dict):
            if key.lower() in _SENSITIVE_KEYS:
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self._scrub(event_dict[key], secrets, 0)
        return event_dict


_redactor = Redactor()


def redactor() -> Redactor:
    return _redactor


def configure_logging(
    level: str = "INFO",
    fmt: str | None = None,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Route structlog and stdlib logging to stderr (or `stream`), JSON unless on a TTY."""
    out = stream or sys.stderr
    for secret in secrets:
        _redactor.add(secret)
    if fmt is None:
        fmt = "console" if out.isatty() else "json"
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer(sort_keys=False)
    )
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redactor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    # Libraries log through stdlib logging: keep them on stderr and quiet unless debugging.
    handler = logging.StreamHandler(out)
    handler.addFilter(_StdlibRedactFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    quiet = logging.DEBUG if numeric <= logging.DEBUG else logging.WARNING
    for name in ("httpx2", "httpcore2", "mcp", "uvicorn.access"):
        logging.getLogger(name).setLevel(quiet)


class _StdlibRedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = _redactor.scrub(record.getMessage())
        record.msg, record.args = message, None
        return True


def get_logger(name: str = "runtype_mcp") -> Any:
    if not structlog.is_configured():
        # Never let an unconfigured logger fall back to stdout, which is the protocol in stdio mode.
        configure_logging("WARNING")
    return structlog.get_logger(name)
