"""Context cost: how many characters (and ~tokens = chars/4) the model pays for our tools and results.

- `tools/list` per configuration (full, --toolsets records, --toolsets flows, --read-only), read from the
  wire: model-visible (name, title, description, inputSchema as compact JSON) and the full result.
- A typical result: `list_records` with 50 rows (its default compact view) vs the same 50 records
  fetched in full (`view=full`) straight from the API.
- What the untrusted-data boundary costs (issue 15): the characters an answer's text has beyond the same
  object as plain compact JSON, on that 50-row list and on one `get_record`.

    python bench/context.py
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import anyio
import httpx2
from common import (
    API_KEY,
    compact,
    ours,
    seed_db,
    served_sandbox,
    server_env,
    structured,
    text_of,
    tokens,
    wire_session,
)

CONFIGS: dict[str, tuple[str, ...]] = {
    "full surface": (),
    "--toolsets records": ("--toolsets", "records"),
    "--toolsets flows": ("--toolsets", "flows"),
    "--read-only": ("--read-only",),
}
VISIBLE = ("name", "title", "description", "inputSchema")


def model_visible(tool: dict[str, Any]) -> dict[str, Any]:
    return {key: tool[key] for key in VISIBLE if key in tool}


def size(text: str) -> dict[str, int]:
    return {"chars": len(text), "tokens": tokens(len(text))}


def tools_list_sizes(tools: list[dict[str, Any]], result: dict[str, Any], top: int = 5) -> dict[str, Any]:
    per_tool = sorted(((t["name"], len(compact(model_visible(t)))) for t in tools), key=lambda nt: -nt[1])
    return {
        "tools": len(tools),
        "model_visible": size(compact([model_visible(t) for t in tools])),
        "full": size(compact(result)),
        "heaviest_tools_chars": dict(per_tool[:top]),
    }


FENCED = re.compile(
    r"<untrusted-data-(?P<id>[0-9a-f]{12})>\n(?P<data>.*)\n</untrusted-data-(?P=id)>(?:\n(?P<guidance>.*))?",
    re.S,
)


def boundary_cost(text: str) -> dict[str, Any]:
    """Characters the fence adds: the text vs the same data and guidance as one plain compact JSON object."""
    match = FENCED.fullmatch(text)
    if match is None:
        raise RuntimeError(f"answer is not fenced: {text[:200]!r}")
    plain = compact({**json.loads(match["data"]), **json.loads(match["guidance"] or "{}")})
    extra = len(text) - len(plain)
    return {
        "chars": extra,
        "tokens": tokens(extra),
        "share": round(extra / len(text), 4),
        "answer_chars": len(text),
    }


def model_reads(result: dict[str, Any]) -> str:
    """The content blocks a host passes to the model: text as is, other blocks (links) as compact JSON."""
    parts = [b["text"] if b.get("type") == "text" else compact(b) for b in result.get("content", [])]
    return "\n".join(parts)


async def tools_lists(base_url: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, args in CONFIGS.items():
        async with wire_session(ours(*args), server_env(base_url)) as session:
            result = await session.request("tools/list")
        out[label] = tools_list_sizes(result["tools"], result)
    return out


async def list_vs_full(url: str, record_type: str = "customer", rows: int = 50) -> dict[str, Any]:
    async with wire_session(ours(), server_env(url)) as session:
        result = await session.call_tool("list_records", {"type": record_type, "limit": rows})
        listed = structured(result)
        one = await session.call_tool("get_record", {"record_id": listed["records"][0]["id"]})
    async with httpx2.AsyncClient(
        base_url=url + "/v1", headers={"Authorization": f"Bearer {API_KEY}"}
    ) as http:
        full = await http.get("/records", params={"type": record_type, "limit": str(rows), "view": "full"})
        full.raise_for_status()
        compact_api = await http.get(
            "/records", params={"type": record_type, "limit": str(rows), "view": "compact"}
        )
        compact_api.raise_for_status()
    full_body = full.json()
    ids = [r["id"] for r in listed["records"]]
    same = ids == [r["id"] for r in full_body["data"]]
    read = model_reads(result)
    return {
        "rows": len(ids),
        "same_records": same,
        "list_records_compact": {**size(read), "text_only": size(text_of(result))},
        "list_records_whole_result": size(compact(result)),
        "api_view_full_50": {**size(compact(full_body)), "as_served_bytes": len(full.content)},
        "api_view_compact_50": size(compact(compact_api.json())),
        "ratio_compact_vs_full": round(len(read) / len(compact(full_body)), 3),
        "target_tokens": 2500,
        "boundary_cost": {
            "list_records_50": boundary_cost(text_of(result)),
            "get_record": boundary_cost(text_of(one)),
        },
    }


def measure(records: int = 2000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "context.sqlite3"
        seed_db(db, [(None, records)])
        with served_sandbox(db) as served:

            async def both() -> dict[str, Any]:
                return {
                    "tools_list": await tools_lists(),
                    "list_records_50": await list_vs_full(served.url),
                    "target_full_surface_tokens": 6000,
                }

            return anyio.run(both)


def main() -> None:
    print(json.dumps(measure(), indent=2))


if __name__ == "__main__":
    main()
