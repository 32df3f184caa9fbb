"""The alternative for part 5: an MCP server generated from the sandbox's /openapi.json by fastmcp.

Runs under bench/.venv-alt (see setup_alt.sh), never under the project venv; it imports nothing from
runtype_mcp. Defaults only: every operation becomes a tool, exactly as the generator makes it.

    bench/.venv-alt/bin/python bench/alt_server.py http://127.0.0.1:PORT   (key in RUNTYPE_API_KEY)
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

import httpx2  # fastmcp 4.x speaks httpx2, like the MCP SDK
from fastmcp import FastMCP


def main() -> None:
    base_url = sys.argv[1]
    with urllib.request.urlopen(base_url + "/openapi.json", timeout=30) as response:  # loopback only
        spec = json.load(response)
    client = httpx2.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {os.environ['RUNTYPE_API_KEY']}"}, timeout=60
    )
    FastMCP.from_openapi(openapi_spec=spec, client=client, name="runtype-openapi").run(show_banner=False)


if __name__ == "__main__":
    main()
