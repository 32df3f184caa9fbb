"""Every run result says what each step did and why, through a real MCP client against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from runtype_mcp.config import Settings
from runtype_mcp.server import build_server
from tests.conftest import data

pytestmark = pytest.mark.anyio
WHY_HEALTH = "skipped: when was false (_record.metadata.health <= 49 → _record.metadata.health = 49.5)"


async def _setup(client: Client, steps: list[dict[str, Any]]) -> tuple[str, str]:
    record = data(
        await client.call_tool(
            "create_record", {"name": "Edge Co", "type": "account", "metadata": {"health": 49.5}}
        )
    )
    flow = data(await client.call_tool("create_flow", {"name": "Rescue", "steps": steps}))
    return flow["id"], record["record"]["id"]


FLAG = {
    "name": "Flag at risk",
    "type": "update-record",
    "when": "_record.metadata.health <= 49",
    "config": {"updates": {"at_risk": True}},
}
OFF = {"name": "Old note", "type": "template", "enabled": False, "config": {"template": "hi"}}


async def test_a_run_whose_steps_were_all_skipped_says_why_each_was_skipped() -> None:
    async with Client(build_server(Settings(sandbox=True, sandbox_db=":memory:"))) as client:
        flow_id, record_id = await _setup(client, [FLAG, OFF])
        run = data(await client.call_tool("run_flow", {"flow_id": flow_id, "record_id": record_id}))
        dry = data(
            await client.call_tool("run_flow", {"flow_id": flow_id, "record_id": record_id, "dry_run": True})
        )
        stored = data(await client.call_tool("list_flow_step_results", {"flow_id": flow_id}))
        record_rows = data(await client.call_tool("get_record_step_results", {"record_id": record_id}))
    for result in (run, dry):
        assert [(s["name"], s["status"]) for s in result["steps"]] == [
            ("Flag at risk", WHY_HEALTH),
            ("Old note", "skipped: disabled"),
        ]
        assert result["next"].startswith("No step ran: every step was skipped")
        assert result["version"] == "draft"
    assert {(r["step"], r["status"]) for r in stored["step_results"]} == {
        ("Flag at risk", WHY_HEALTH),
        ("Old note", "skipped: disabled"),
    }
    assert all(r.get("version_id") for r in stored["step_results"]), "each row names the version that ran"
    assert {r["status"] for r in record_rows["step_results"]} == {WHY_HEALTH, "skipped: disabled"}


async def test_a_missing_field_in_when_is_reported_as_undefined() -> None:
    step = {**FLAG, "when": "_record.metadata.plan == 'gold'"}
    async with Client(build_server(Settings(sandbox=True, sandbox_db=":memory:"))) as client:
        flow_id, record_id = await _setup(client, [step])
        run = data(await client.call_tool("run_flow", {"flow_id": flow_id, "record_id": record_id}))
    assert run["steps"][0]["status"] == (
        "skipped: when was false (_record.metadata.plan == 'gold' → _record.metadata.plan = undefined)"
    )


async def test_ran_and_failed_steps_are_listed_with_their_status_and_error() -> None:
    broken = {"name": "Broken", "type": "template", "config": {"template": "{% if x %}"}}
    ok = {"name": "Greet", "type": "template", "config": {"template": "hello"}}
    async with Client(build_server(Settings(sandbox=True, sandbox_db=":memory:"))) as client:
        flow_id, record_id = await _setup(client, [ok, broken])
        run = data(await client.call_tool("run_flow", {"flow_id": flow_id, "record_id": record_id}))
    assert [(s["name"], s["status"]) for s in run["steps"]] == [("Greet", "completed"), ("Broken", "failed")]
    assert "Liquid" in run["steps"][1]["error"]
    assert not run["next"].startswith("No step ran")


async def test_batch_per_record_outcomes_list_each_step_with_why_and_the_version() -> None:
    async with Client(build_server(Settings(sandbox=True, sandbox_db=":memory:"))) as client:
        flow_id, edge = await _setup(client, [FLAG, OFF])
        low = data(
            await client.call_tool(
                "create_record", {"name": "Low Co", "type": "account", "metadata": {"health": 20}}
            )
        )["record"]["id"]
        ran = data(
            await client.call_tool("run_flow_on_record_type", {"flow_id": flow_id, "record_type": "account"})
        )
        status = data(await client.call_tool("get_batch_status", {"batch_id": ran["batch_id"]}))
        versions = data(await client.call_tool("list_flow_versions", {"flow_id": flow_id}))
    by_id = {r["record_id"]: r for r in ran["results"]}
    assert by_id[edge]["steps"] == ["Flag at risk: " + WHY_HEALTH, "Old note: skipped: disabled"]
    assert by_id[edge]["note"] == "every step was skipped: nothing ran for this record"
    assert by_id[low]["steps"] == ["Flag at risk: completed", "Old note: skipped: disabled"]
    assert "note" not in by_id[low]
    assert {r["version_id"] for r in ran["results"]} == {versions["versions"][0]["id"]}
    assert ran["next"].startswith("1 of 2 records ran no step (every step skipped: see steps).")
    assert f'list_flow_step_results with flow_id="{flow_id}" and batch_id' in status["next"]
