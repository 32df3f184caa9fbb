"""What the model sees of each tool is snapshotted, and every tool is declared on purpose."""

from __future__ import annotations

import pytest
from mcp import Client

from runtype_mcp.server import build_server
from tests.conftest import make_settings
from tests.fakes import FakeRuntype
from tests.snapshots import assert_snapshot

pytestmark = pytest.mark.anyio


async def _tools(**kw: object) -> list[dict[str, object]]:
    server = build_server(make_settings(**kw), transport=FakeRuntype().transport())
    async with Client(server) as client:
        listed = await client.list_tools()
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools]


async def test_each_tool_schema_matches_its_snapshot() -> None:
    for tool in await _tools():
        assert_snapshot(f"tools/{tool['name']}.json", tool)


async def test_tools_that_differ_over_streamable_http_match_their_snapshots() -> None:
    """Over HTTP no tool takes a local path: the file tools have their own variants."""
    stdio = {t["name"]: t for t in await _tools()}
    differ = [t for t in await _tools(transport="streamable-http") if stdio.get(str(t["name"])) != t]
    assert sorted(str(t["name"]) for t in differ) == ["export_records_csv", "upload_records_csv"]
    for tool in differ:
        assert_snapshot(f"tools/streamable-http/{tool['name']}.json", tool)


async def test_every_tool_sets_all_four_annotation_hints() -> None:
    for tool in [*await _tools(), *await _tools(transport="streamable-http")]:
        ann = tool["annotations"]
        assert isinstance(ann, dict)
        for hint in ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"):
            assert isinstance(ann.get(hint), bool), f"{tool['name']} leaves {hint} to the default"


async def test_descriptions_say_when_to_use_and_where_ids_come_from() -> None:
    for tool in await _tools():
        schema = tool["inputSchema"]
        assert isinstance(schema, dict)
        assert len(str(tool["description"])) > 40
        for name, prop in schema.get("properties", {}).items():
            assert "title" not in prop, f"{tool['name']}.{name} carries pydantic's auto title"
            if name.endswith("_id"):
                assert "from" in prop.get("description", "") or "returned by" in prop.get(
                    "description", ""
                ), f"{tool['name']}.{name} does not say where the id comes from"
