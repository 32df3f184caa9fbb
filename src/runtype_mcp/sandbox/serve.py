"""Running the sandbox as a standalone HTTP API (`runtype-mcp sandbox serve`)."""

from __future__ import annotations

import copy
import pathlib

import platformdirs


def default_db_path() -> pathlib.Path:
    return platformdirs.user_data_path("runtype-mcp") / "sandbox.sqlite3"


def serve(
    *, host: str = "127.0.0.1", port: int = 8787, db_path: str | None = None, api_key: str | None = None
) -> None:
    """Serve the sandbox with uvicorn in the foreground; every log line goes to stderr."""
    import uvicorn
    import uvicorn.config

    from .app import Sandbox

    sandbox = Sandbox(db_path or default_db_path(), api_key=api_key)
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    uvicorn.run(sandbox.app, host=host, port=port, log_config=log_config, lifespan="on")
