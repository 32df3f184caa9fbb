"""Workflow prompts and resource templates, through the MCP client."""

from __future__ import annotations

import json
import re

import pytest
from mcp import MCPError

from runtype_mcp.config import Settings
from runtype_mcp.prompts import load_prompts
from runtype_mcp.server import selected_tools
from tests.conftest import MODES, connect, data
from tests.fakes import FakeRuntype

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("mode", MODES)]
TOOL_NAMES = {spec.name for spec in selected_tools(Settings())}


async def test_every_prompt_renders_and_names_only_real_tools(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        listed = (await client.list_prompts()).prompts
        assert len(listed) >= 4
        for prompt in listed:
            args = {a.name: f"<{a.name}>" for a in prompt.arguments or []}
            rendered = await client.get_prompt(prompt.name, args)
            body = "\n".join(m.content.text for m in rendered.messages if m.content.type == "text")
            for value in args.values():
                assert value in body, f"{prompt.name} does not use {value}"
            named = set(re.findall(r"`([a-z]+(?:_[a-z]+)+)`", body))
            assert named, f"{prompt.name} names no tools"
            assert named <= TOOL_NAMES, f"{prompt.name} names unknown tools: {named - TOOL_NAMES}"


async def test_prompt_missing_a_required_argument_is_refused(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        with pytest.raises(MCPError):
            await client.get_prompt("import_csv", {"path": "a.csv"})


async def test_prompt_keeps_runtype_template_syntax_intact(fake: FakeRuntype, mode: str) -> None:
    enrich = next(p for p in load_prompts() if p.name == "enrich_records")
    text = enrich.render(record_type="customer", goal="x")
    assert "{{_record.metadata.<field>}}" in text and '"customer"' in text


async def test_resource_templates_are_listed_and_read_as_json(fake: FakeRuntype, mode: str) -> None:
    rec = fake.add_record("customer", "Acme", {"tier": "gold"})
    fake.flows["flow_a"] = {"id": "flow_a", "name": "F", "flowSteps": []}
    async with connect(fake, mode) as client:
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        record = await client.read_resource(f"runtype://records/{rec['id']}")
        flow = await client.read_resource("runtype://flows/flow_a")
    assert templates == {
        "runtype://records/{record_id}",
        "runtype://flows/{flow_id}",
        "runtype://record-types/{type}/schema",
    }
    assert json.loads(record.contents[0].text)["metadata"] == {"tier": "gold"}  # type: ignore[union-attr]
    assert json.loads(flow.contents[0].text)["name"] == "F"  # type: ignore[union-attr]


async def test_missing_record_resource_is_not_found(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        with pytest.raises(MCPError) as info:
            await client.read_resource("runtype://records/rec_missing")
    assert "list_records" in str(info.value)


async def test_record_tools_link_the_record_resource(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("create_record", {"name": "Acme", "type": "customer"})
    rid = data(res)["record"]["id"]
    links = [c for c in res.content if c.type == "resource_link"]
    assert [link.uri for link in links] == [f"runtype://records/{rid}"]
