"""The catalogue behind the fault matrix, the secret scans and the argument attacks must name every
tool the server lists, over each transport: a new tool without an entry fails here, not silently."""

from __future__ import annotations

import json

import pytest

from runtype_mcp.server import MANIFEST, build_server
from tests.conftest import make_settings
from tests.fakes import FakeRuntype
from tests.reliability.catalog import TOOLS
from tests.reliability.conftest import Collector
from tests.reliability.test_attack_text import WRITE_TOOLS

pytestmark = pytest.mark.anyio
TRANSPORTS = ["stdio", "streamable-http"]


def _manifest_names(transport: str) -> set[str]:
    listing = json.loads(MANIFEST.read_text(encoding="utf-8"))[transport]
    return {e if isinstance(e, str) else e["name"] for e in listing}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_every_tool_the_server_lists_has_a_reliability_case(transport: str, report: Collector) -> None:
    with report.case("Coverage", "every listed tool has a catalogue case (manifest and live, per transport)",
                     "no tool missing, none stale"):  # fmt: skip
        server = build_server(make_settings(transport=transport), transport=FakeRuntype().transport())
        live = {t.name for t in await server.live_tools()}
        listed = _manifest_names(transport) | live
        assert listed - set(TOOLS) == set(), (
            f"tools without a case in tests/reliability/catalog.py: {sorted(listed - set(TOOLS))}"
        )
        assert set(TOOLS) - listed == set(), (
            f"catalogue cases for tools the server lacks: {sorted(set(TOOLS) - listed)}"
        )


def test_every_write_tool_is_attacked_with_a_bad_2xx_body() -> None:
    listing = json.loads(MANIFEST.read_text(encoding="utf-8"))["stdio"]
    writes = {t["name"] for t in listing if not t.get("annotations", {}).get("readOnlyHint")}
    writes.discard("export_records_csv")  # writes a local file; its 2xx bodies are CSV (test_attack_files)
    assert writes - set(WRITE_TOOLS) == set(), f"add to WRITE_TOOLS: {sorted(writes - set(WRITE_TOOLS))}"
