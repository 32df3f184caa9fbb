"""Against an alternative: our server vs an MCP server generated from the sandbox's /openapi.json.

The generator is fastmcp's `FastMCP.from_openapi` (defaults), installed only in bench/.venv-alt by
`bash bench/setup_alt.sh`; without that venv this part is skipped with a message. Both servers talk to
the same loopback sandbox and are driven by the same raw JSON-RPC stdio client, so the comparison is:
tool count, tools/list size, get-record latency (interleaved with a raw httpx2 GET), and the exact text a
model reads on a 400 (create with an empty name), a 409 (duplicate type+name) and a 404.

    python bench/alt.py [--calls 300]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
from common import (
    API_KEY,
    HERE,
    WireSession,
    ours,
    seed_db,
    served_sandbox,
    server_env,
    structured,
    summary,
    text_of,
    wire_session,
)
from context import tools_list_sizes

ALT_PYTHON = HERE / ".venv-alt" / "bin" / "python"
ALT_SERVER = HERE / "alt_server.py"
SKIP = "skipped: bench/.venv-alt is missing; create it with `bash bench/setup_alt.sh` (installs fastmcp there only)"
TEXT_LIMIT = 3000


def alt_available() -> bool:
    return ALT_PYTHON.exists()


def alt_version() -> str:
    out = subprocess.run(
        [str(ALT_PYTHON), "-c", "import fastmcp; print(fastmcp.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return out.stdout.strip() or "unknown"


def find_tool(tools: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    """A tool by name, ignoring case and separators (get_record == getRecord)."""
    key = re.sub(r"[^a-z0-9]", "", wanted.lower())
    for tool in tools:
        if re.sub(r"[^a-z0-9]", "", tool["name"].lower()) == key:
            return tool
    raise LookupError(f"no tool like {wanted!r} among {[t['name'] for t in tools]}")


def id_argument(tool: dict[str, Any]) -> str:
    required = tool.get("inputSchema", {}).get("required") or list(
        tool.get("inputSchema", {}).get("properties", {})
    )
    return str(required[0])


def model_text(result: dict[str, Any]) -> dict[str, Any]:
    text = text_of(result)
    return {"is_error": bool(result.get("isError")), "chars": len(text), "text": text[:TEXT_LIMIT]}


async def errors(session: WireSession, tools: list[dict[str, Any]], tag: str) -> dict[str, Any]:
    create = find_tool(tools, "createRecord")["name"]
    get = find_tool(tools, "getRecord")
    name = f"bench-duplicate-{tag}"
    empty = await session.call_tool(create, {"name": "", "type": "customer"})
    first = await session.call_tool(create, {"name": name, "type": "customer"})
    if first.get("isError"):
        raise RuntimeError(f"{tag}: first create failed: {text_of(first)[:300]}")
    duplicate = await session.call_tool(create, {"name": name, "type": "customer"})
    missing = await session.call_tool(get["name"], {id_argument(get): "rec_does_not_exist"})
    return {
        "400 create with empty name": model_text(empty),
        "409 duplicate type+name": model_text(duplicate),
        "404 get missing record": model_text(missing),
    }


async def compare(url: str, calls: int) -> dict[str, Any]:
    alt_env = {
        "RUNTYPE_API_KEY": API_KEY,
        "FASTMCP_CHECK_FOR_UPDATES": "off",
        "FASTMCP_SHOW_CLI_BANNER": "false",
    }
    async with httpx2.AsyncClient(
        base_url=url + "/v1", headers={"Authorization": f"Bearer {API_KEY}"}
    ) as http:
        listing = await http.get("/records", params={"type": "customer", "limit": "1"})
        record_id = listing.json()["data"][0]["id"]
        started = time.perf_counter()
        async with wire_session(ours(), server_env(url)) as mine:
            ours_list = await mine.request("tools/list")
            ours_start = time.perf_counter() - started
            started = time.perf_counter()
            async with wire_session([str(ALT_PYTHON), str(ALT_SERVER), url], alt_env) as alt:
                alt_list = await alt.request("tools/list")
                alt_start = time.perf_counter() - started
                alt_get = find_tool(alt_list["tools"], "getRecord")
                alt_args = {id_argument(alt_get): record_id}
                check = await alt.call_tool(alt_get["name"], alt_args)
                if check.get("isError"):
                    raise RuntimeError(f"alt getRecord failed: {text_of(check)[:300]}")
                structured(await mine.call_tool("get_record", {"record_id": record_id}))

                async def ours_call() -> None:
                    if (await mine.call_tool("get_record", {"record_id": record_id})).get("isError"):
                        raise RuntimeError("get_record failed")

                async def alt_call() -> None:
                    if (await alt.call_tool(alt_get["name"], alt_args)).get("isError"):
                        raise RuntimeError("alt get failed")

                async def raw_call() -> None:
                    response = await http.get(f"/records/{record_id}")
                    response.raise_for_status()
                    response.json()

                paths = {
                    "raw httpx2 GET": raw_call,
                    "runtype-mcp get_record": ours_call,
                    "generated getRecord": alt_call,
                }
                samples: dict[str, list[float]] = {name: [] for name in paths}
                for _ in range(20):
                    for fn in paths.values():
                        await fn()
                names = list(paths)
                for i in range(calls):
                    shift = i % len(names)
                    for name in names[shift:] + names[:shift]:
                        t0 = time.perf_counter()
                        await paths[name]()
                        samples[name].append(time.perf_counter() - t0)
                alt_errors = await errors(alt, alt_list["tools"], "alt")
            ours_errors = await errors(mine, ours_list["tools"], "ours")
    latency = {name: summary(values) for name, values in samples.items()}
    raw = latency["raw httpx2 GET"]["median_ms"]
    for name in ("runtype-mcp get_record", "generated getRecord"):
        latency[name]["added_median_ms"] = round(latency[name]["median_ms"] - raw, 3)
    return {
        "generator": f"fastmcp {alt_version()} FastMCP.from_openapi (defaults)",
        "tools_list": {
            "runtype-mcp": tools_list_sizes(ours_list["tools"], ours_list),
            "generated": tools_list_sizes(alt_list["tools"], alt_list),
        },
        "spawn_to_tools_list_s": {"runtype-mcp": round(ours_start, 2), "generated": round(alt_start, 2)},
        "get_record_latency": latency,
        "error_text": {"runtype-mcp": ours_errors, "generated": alt_errors},
    }


def measure(calls: int = 300) -> dict[str, Any]:
    if not alt_available():
        return {"skipped": SKIP}
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "alt.sqlite3"
        seed_db(db, [(None, 500)])
        with served_sandbox(db) as served:
            return anyio.run(compare, served.url, calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    print(json.dumps(measure(parser.parse_args().calls), indent=2))


if __name__ == "__main__":
    main()
