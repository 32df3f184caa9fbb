"""Running the sandbox as a standalone HTTP API (`runtype-mcp sandbox serve`).

On a loopback address it answers only to loopback host names and same-origin requests (DNS
rebinding and cross-site POSTs cannot reach it); it binds any other address only with a key.
"""

from __future__ import annotations

import copy
import pathlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

import platformdirs

if TYPE_CHECKING:  # starlette loads only when the sandbox is served (importing the package stays cheap)
    from starlette.types import ASGIApp

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def default_db_path() -> pathlib.Path:
    return platformdirs.user_data_path("runtype-mcp") / "sandbox.sqlite3"


def check_bind(host: str, api_key: str | None) -> None:
    """Refuse, before anything binds, to serve an open sandbox beyond this machine."""
    if host not in LOOPBACK and not api_key:
        raise SystemExit(
            f"runtype-mcp: refusing to serve the sandbox on {host} without a key: anyone who can reach it "
            "could read and change its data. Set RUNTYPE_API_KEY (clients then send it as "
            "'Authorization: Bearer <key>'), or serve on 127.0.0.1 (the default)."
        )


def standalone_app(app: ASGIApp, host: str, allowed_hosts: Iterable[str] = ()) -> ASGIApp:
    """The sandbox app behind the Host/Origin checks of a real listening socket."""
    from .guard import HostGuard

    return HostGuard(app, bind_host=host, allowed_hosts=allowed_hosts)


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8787,
    db_path: str | None = None,
    api_key: str | None = None,
    allowed_hosts: Iterable[str] = (),
) -> None:
    """Serve the sandbox with uvicorn in the foreground; every log line goes to stderr."""
    check_bind(host, api_key)
    import uvicorn
    import uvicorn.config

    from .app import Sandbox

    sandbox = Sandbox(db_path or default_db_path(), api_key=api_key)
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    app = standalone_app(sandbox.app, host, allowed_hosts)
    uvicorn.run(app, host=host, port=port, log_config=log_config, lifespan="on")
