"""Hostile and malformed arguments against the in-process sandbox (the real HTTP path).

Whatever arrives, every call returns a tool result (an error or not): never a protocol error, a
traceback, a bare "Error executing tool" or an "internal error"; ids stay one URL path segment; and
the server still works afterwards. Examples are derandomized and bounded so CI is stable and quick.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import pytest
import stamina
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from mcp import Client
from mcp.types import CallToolResult

from tests.conftest import data, text
from tests.reliability.conftest import Collector
from tests.reliability.harness import Backend, World, assert_actionable, mcp_client, prepare, sandbox_backend
from tests.reliability.strategies import Schemas

AREA = "Hostile and malformed input (sandbox, real HTTP path)"
HELD = "a tool result every time (error or not), never a crash, traceback or internal error"
EXAMPLES = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


@dataclass
class Live:
    portal: BlockingPortal
    clients: dict[str, Client]
    be: Backend
    world: World
    schemas: Schemas

    def call(self, tool: str, args: dict[str, Any], mode: str = "auto") -> CallToolResult:
        async def go() -> CallToolResult:
            with anyio.fail_after(30):
                return await self.clients[mode].call_tool(tool, args)

        return self.portal.call(go)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "people.csv").write_text("name,tier\nann,gold\nbob,silver\n", encoding="utf-8")
    (tmp / "sub").mkdir()
    with (
        stamina.set_testing(True, attempts=10, cap=True),
        start_blocking_portal(backend="asyncio") as portal,
        portal.wrap_async_context_manager(sandbox_backend(seed=True)) as be,
    ):
        world = portal.call(prepare, be, tmp)
        with (
            portal.wrap_async_context_manager(mcp_client(be, "auto", files_dir=str(tmp))) as auto,
            portal.wrap_async_context_manager(mcp_client(be, "legacy", files_dir=str(tmp))) as legacy,
        ):
            tools = portal.call(auto.list_tools).tools
            ids = {
                "record_id": [*world.record_ids, "rec_missing"],
                "flow_id": [world.flow_id, "flow_missing"],
                "result_id": [world.result_id],
                "batch_id": [world.batch_id],
            }
            schemas = Schemas({t.name: t.input_schema for t in tools}, ids, tmp)
            yield Live(portal, {"auto": auto, "legacy": legacy}, be, world, schemas)


def _holds(live: Live, tool: str, args: dict[str, Any], mode: str) -> None:
    res = live.call(tool, args, mode)
    assert isinstance(res, CallToolResult)
    assert_actionable(res, tool, limit=12000)


def test_arguments_drawn_from_each_tools_own_schema_always_get_a_tool_result(
    live: Live, report: Collector
) -> None:
    @EXAMPLES
    @given(call=live.schemas.inside())
    def run(call: tuple[str, dict[str, Any]]) -> None:
        with report.case(AREA, "arguments drawn from each tool's own input schema", HELD):
            _holds(live, *call, "auto")

    run()


def test_arguments_outside_the_schema_always_get_a_tool_result(live: Live, report: Collector) -> None:
    @EXAMPLES
    @given(call=live.schemas.outside())
    def run(call: tuple[str, dict[str, Any]]) -> None:
        label = "wrong types, huge/control/unicode strings, deep nesting, extra and missing keys"
        with report.case(AREA, label, HELD):
            _holds(live, *call, "legacy")

    run()


HOSTILE_IDS = [
    "a/b",
    "..",
    ".",
    "../flows",
    "?smuggled=1",
    "#x",
    "a?b#c",
    "a\x00b",
    "%2F",
    "%2e%2e",
    " x ",
    "é€🦄",
]
ID_TOOLS = {
    "get_record": ("record_id", 3),
    "get_record_costs": ("record_id", 4),
    "get_record_results": ("record_id", 4),
    "get_record_step_results": ("record_id", 4),
    "delete_record": ("record_id", 3),
    "get_flow": ("flow_id", 3),
    "export_flow_runtime": ("flow_id", 4),
    "publish_flow": ("flow_id", 4),
    "list_flow_step_results": ("flow_id", 4),
    "run_flow_on_record_type": ("flow_id", 4),
    "get_batch_status": ("batch_id", 4),
    "list_flow_versions": ("flow_id", 3),
    "cancel_batch": ("batch_id", 4),
}


@pytest.mark.parametrize("tool", sorted(ID_TOOLS))
def test_ids_with_slashes_dots_query_or_nul_stay_one_path_segment(
    live: Live, tool: str, report: Collector
) -> None:
    arg, segments = ID_TOOLS[tool]
    held = "rejected before sending, or sent as exactly one encoded path segment with no query smuggled in"
    for bad in HOSTILE_IDS:
        with report.case(AREA, f"ids with / .. ? # NUL %2F unicode ({len(ID_TOOLS)} id tools)", held):
            args: dict[str, Any] = {arg: bad}
            if tool == "run_flow_on_record_type":
                args["record_type"] = "rel"
            if tool == "delete_record":
                args["confirm"] = True
            mark = len(live.be.counter.raw)
            res = live.call(tool, args)
            body = assert_actionable(res, tool)
            assert res.is_error, f"{tool}({bad!r}) should not find anything: {body}"
            for raw in live.be.counter.raw[mark:]:
                path, _, query = raw.decode().partition("?")
                assert len(path.strip("/").split("/")) == segments, f"{bad!r} became {path}"
                assert quote(bad, safe="") in path
                assert "smuggled" not in query and "#" not in raw.decode()


def test_the_server_still_works_after_all_hostile_calls(live: Live, report: Collector) -> None:
    with report.case(AREA, "a normal session after all of the above", "create, read and list succeed"):
        made = data(live.call("create_record", {"name": "after-the-storm", "type": "rel"}))
        got = data(live.call("get_record", {"record_id": made["record"]["id"]}, "legacy"))
        listed = live.call("list_flows", {})
        assert got["name"] == "after-the-storm"
        assert not listed.is_error, text(listed)
