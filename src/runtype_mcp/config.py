"""Settings: the only place that reads the environment.

Flags from the CLI are passed as init arguments, which pydantic-settings ranks above
environment variables, so a flag always overrides its `RUNTYPE_*` twin.
"""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TOOLSETS: tuple[str, ...] = ("records", "flows")
DEFAULT_BASE_URL = "https://api.runtype.com"


class Settings(BaseSettings):
    """Typed configuration, read once at the edge and injected through the server's lifespan."""

    model_config = SettingsConfigDict(env_prefix="RUNTYPE_", extra="ignore", frozen=True)

    api_key: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    timeout: float = Field(default=30.0, gt=0, le=600)
    tool_timeout: float = Field(default=120.0, gt=0, le=3600)
    read_only: bool = False
    toolsets: Annotated[tuple[str, ...], NoDecode] = TOOLSETS
    sandbox: bool = False
    sandbox_db: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] | None = None
    protocol_era: Literal["auto", "legacy"] = "auto"
    # Streamable HTTP transport (see http_app.py).
    mcp_http_token: SecretStr | None = None
    mcp_forward_key: bool = False
    mcp_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    # Set from --transport: streamable HTTP serves tools that touch no file of the server.
    transport: Literal["stdio", "streamable-http"] = "stdio"
    # The only folder file tools may use (None: `runtype-mcp` in the documents folder; see files.py).
    files_dir: str | None = None
    # Export caps: the file stops at the last whole row within them, and the answer says so.
    export_max_rows: int = Field(default=1_000_000, ge=1, le=10**9)
    export_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1024, le=2**40)
    # Retry bounds (seconds). Tests shrink them; users rarely need to.
    max_retry_wait: float = Field(default=20.0, ge=0, le=300)
    retry_attempts: int = Field(default=3, ge=1, le=10)
    # Largest upstream JSON body read (bytes); a bigger or endless one fails with a clear error.
    max_response_bytes: int = Field(default=32 * 1024 * 1024, ge=1024, le=2**40)

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                f"RUNTYPE_BASE_URL must start with http:// or https:// (got {_no_userinfo(value)!r}); "
                f"the default is {DEFAULT_BASE_URL}"
            )
        if value.endswith("/v1"):
            # The client adds /v1 itself; accept the common mistake instead of calling /v1/v1.
            value = value[: -len("/v1")]
        return value

    @field_validator("mcp_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("toolsets", mode="before")
    @classmethod
    def _split_toolsets(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip().lower() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            names = tuple(dict.fromkeys(value))
            if not names or names == ("all",):
                return TOOLSETS
            unknown = [name for name in names if name not in TOOLSETS]
            if unknown:
                raise ValueError(
                    f"unknown toolset(s) {', '.join(unknown)}; choose from {', '.join(TOOLSETS)} (comma-separated)"
                )
            return names
        return value

    @property
    def key_configured(self) -> bool:
        return self.api_key is not None

    @property
    def public_base_url(self) -> str:
        """RUNTYPE_BASE_URL as it may be shown: without any `user:password@` credentials."""
        return _no_userinfo(self.base_url)

    def secrets(self) -> list[str]:
        """Values that must never appear in logs or output: the key, the HTTP token, and credentials
        inside RUNTYPE_BASE_URL (`https://user:pass@host`: the password and the whole `user:pass`)."""
        values = [v.get_secret_value() for v in (self.api_key, self.mcp_http_token) if v is not None]
        userinfo = _split_userinfo(self.base_url)[0]
        if userinfo:
            user, colon, password = userinfo.partition(":")
            values += [userinfo, password, unquote(password)] if colon else [user, unquote(user)]
            # httpx sends URL credentials as `Authorization: Basic base64(user:pass)`: that is the secret too.
            values.append(base64.b64encode(unquote(userinfo).encode()).decode())
        return [v for v in dict.fromkeys(values) if v]


def _split_userinfo(url: str) -> tuple[str, str]:
    """(`user:password` or "", `url` without it): the authority ends at the first "/", "?" or "#"."""
    scheme, sep, rest = url.partition("://")
    end = len(re.split(r"[/?#]", rest, maxsplit=1)[0])
    userinfo, at, host = rest[:end].rpartition("@")
    return (userinfo if at else ""), f"{scheme}{sep}{host}{rest[end:]}"


def _no_userinfo(url: str) -> str:
    return _split_userinfo(url)[1]
