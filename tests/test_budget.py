"""What a model reads of tools/list stays within budget, and the README quotes the real figures."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from mcp import Client

from runtype_mcp.server import build_server
from tests.conftest import make_settings
from tests.fakes import FakeRuntype

pytestmark = pytest.mark.anyio
BUDGET = 22_000  # 5,500 tokens at ~4 characters a token (bench/context.py counts the same way)
# Each toolset's share of the budget, so that one toolset's growth cannot crowd out the other.
TOOLSET_BUDGET = {"records": 12_400, "flows": 9_400}
README = Path(__file__).resolve().parent.parent / "README.md"


async def _sizes(**settings: object) -> tuple[int, int, int]:
    server = build_server(make_settings(**settings), transport=FakeRuntype().transport())
    async with Client(server) as client:
        tools = [
            t.model_dump(mode="json", by_alias=True, exclude_none=True)
            for t in (await client.list_tools()).tools
        ]
    visible = [{k: t[k] for k in ("name", "title", "description", "inputSchema") if k in t} for t in tools]
    return (
        len(tools),
        len(json.dumps(visible, separators=(",", ":"))),
        len(json.dumps(tools, separators=(",", ":"))),
    )


async def test_model_visible_tool_list_fits_the_budget() -> None:
    count, visible, _ = await _sizes()
    assert count >= 27
    assert visible < BUDGET, f"tools/list costs {visible} characters of the {BUDGET} budget"


@pytest.mark.parametrize("toolset", sorted(TOOLSET_BUDGET))
async def test_each_toolset_stays_within_its_share(toolset: str) -> None:
    _, visible, _ = await _sizes(toolsets=toolset)
    assert visible < TOOLSET_BUDGET[toolset], (
        f"the {toolset} tools cost {visible} characters of their {TOOLSET_BUDGET[toolset]} share"
    )


async def test_toolsets_and_read_only_mode_shrink_the_list() -> None:
    _, full, _ = await _sizes()
    for kw in ({"toolsets": "records"}, {"toolsets": "flows"}, {"read_only": True}):
        _, part, _ = await _sizes(**kw)
        assert part < full


async def test_readme_quotes_the_current_figures() -> None:
    count, visible, full = await _sizes()
    line = (
        f"`tools/list` with all {count} tools: {visible:,} characters model-visible (name, title, description, "
        f"input schema; about {visible // 4:,} tokens), {full:,} characters in full with output schemas."
    )
    text = README.read_text(encoding="utf-8")
    current = re.search(r"^`tools/list` with all .*$", text, re.M)
    assert current, "README lost its tools/list size line"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        README.write_text(text.replace(current.group(0), line), encoding="utf-8")
        return
    assert current.group(0) == line, (
        "README size figures are stale: UPDATE_SNAPSHOTS=1 pytest tests/test_budget.py"
    )
