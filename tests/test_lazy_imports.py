"""Start-up stays lean: the sandbox, HTTP transport and retry library load only when used."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys, anyio
from runtype_mcp.config import Settings
from runtype_mcp.server import build_server
async def main():
    for transport in ("stdio", "streamable-http"):
        server = build_server(Settings(api_key="x", transport=transport))
        await server.list_tools()
anyio.run(main)
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("runtype_mcp", "stamina", "tenacity", "uvicorn", "platformdirs")))))
"""


def test_normal_start_does_not_import_sandbox_http_or_retry_modules() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert not [m for m in loaded if m.startswith("runtype_mcp.sandbox")], loaded
    assert "runtype_mcp.http_app" not in loaded
    assert "stamina" not in loaded and "tenacity" not in loaded
    # tools/list comes from the manifest in either transport: no tool module, no files folder yet
    assert not [m for m in loaded if m.startswith("runtype_mcp.tools.records")], loaded
    assert "runtype_mcp.files" not in loaded and "platformdirs" not in loaded
