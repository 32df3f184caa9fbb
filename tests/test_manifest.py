"""tools/list is served from src/runtype_mcp/tools_manifest.json for a fast start; it must equal
what the SDK generates from the tool functions, so it can never drift from the code."""

from __future__ import annotations

import json
import os

import pytest

from runtype_mcp.server import MANIFEST, build_server, load_manifest
from tests.conftest import make_settings
from tests.fakes import FakeRuntype

pytestmark = pytest.mark.anyio


def _dump(tools: list[object]) -> list[dict[str, object]]:
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]  # type: ignore[attr-defined]


async def _live(**kw: object) -> list[dict[str, object]]:
    return _dump(
        list(await build_server(make_settings(**kw), transport=FakeRuntype().transport()).live_tools())
    )


async def test_manifest_equals_live_generation_for_each_transport() -> None:
    stdio = await _live()
    http = await _live(transport="streamable-http")
    by_name = {t["name"]: t for t in stdio}
    # Over HTTP most tools are listed as over stdio: those are stored by name only.
    expected = {
        "stdio": stdio,
        "streamable-http": [t["name"] if by_name.get(t["name"]) == t else t for t in http],
    }
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        MANIFEST.write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        load_manifest.cache_clear()
        return
    assert json.loads(MANIFEST.read_text(encoding="utf-8")) == expected, (
        "tools_manifest.json is stale: run UPDATE_SNAPSHOTS=1 pytest tests/test_manifest.py"
    )


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"toolsets": "records"},
        {"toolsets": "flows"},
        {"read_only": True},
        {"transport": "streamable-http"},
        {"transport": "streamable-http", "read_only": True},
    ],
)
async def test_listing_from_the_manifest_matches_the_live_listing(kw: dict[str, object]) -> None:
    served = build_server(make_settings(**kw), transport=FakeRuntype().transport())
    live = build_server(make_settings(**kw), transport=FakeRuntype().transport())
    assert _dump(list(await served.list_tools())) == _dump(list(await live.live_tools()))


async def test_a_tool_is_registered_with_the_sdk_only_when_first_called(fake: FakeRuntype) -> None:
    from mcp import Client

    server = build_server(make_settings(), transport=fake.transport())
    async with Client(server) as client:
        await client.list_tools()
        assert server._registered == set()
        await client.call_tool("list_records", {})
    assert server._registered == {"list_records"}
