"""An offline, Runtype-compatible API: records, flows and runs over SQLite (see DESIGN.md, "The sandbox").

Importing this package is cheap: `Sandbox` and `Fault` (and Starlette with them) load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The submodule `serve` shares its name with the function; binding the function here, after the
# submodule is loaded, keeps `from runtype_mcp.sandbox import serve` a function in every import order.
from . import serve as _serve_module

serve = _serve_module.serve
default_db_path = _serve_module.default_db_path

if TYPE_CHECKING:
    from .app import Sandbox
    from .faults import Fault

__all__ = ["Fault", "Sandbox", "default_db_path", "serve"]

_HOMES = {"Sandbox": ".app", "Fault": ".faults"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
