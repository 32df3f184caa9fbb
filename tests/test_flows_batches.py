"""Run on exactly the records meant, follow the batch with its cost, cancel it, versions out loud and
an honest sandbox model (issue 12). Through a real MCP client against the sandbox."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client

from tests.conftest import data, sandbox, text
from tests.sandbox.conftest import wait_for

pytestmark = pytest.mark.anyio

SAVE = [{"name": "Tag", "type": "update-record", "config": {"updates": {"category": "done"}}}]


async def call(client: Client, tool: str, args: dict[str, Any]) -> Any:
    return data(await client.call_tool(tool, args))


async def _leads(client: Client, names: list[str], **metadata: Any) -> list[str]:
    ids = []
    for name in names:
        made = await call(client, "create_record", {"name": name, "type": "lead", "metadata": dict(metadata)})
        ids.append(made["record"]["id"])
    return ids


async def _finished(client: Client, batch_id: str) -> dict[str, Any]:
    async def check() -> Any:
        status = await call(client, "get_batch_status", {"batch_id": batch_id})
        return status if status["status"] in ("completed", "failed", "cancelled") else None

    return dict(await wait_for(check, 30))


async def test_a_filtered_run_runs_exactly_the_matching_records_minus_the_excluded_and_reports_cost() -> None:
    async with sandbox() as client:
        done = await _leads(client, ["Done 1", "Done 2"], category="old")
        todo = await _leads(client, ["Todo 1", "Todo 2", "Todo 3"])
        fid = (await call(client, "create_flow", {"name": "Tagger", "steps": SAVE}))["id"]
        started = await call(
            client,
            "run_flow_on_records",
            {
                "flow_id": fid,
                "type": "lead",
                "filter": {"field": "category", "op": "isNotSet"},
                "exclude_record_ids": [todo[0]],
            },
        )
        status = await _finished(client, started["batch_id"])
        after = {rid: await call(client, "get_record", {"record_id": rid}) for rid in done + todo}
    assert started["started"] is True and started["record_count"] == 2 and started["excluded"] == 1
    assert status["status"] == "completed" and status["processed"] == 2 and status["succeeded"] == 2
    assert status["total_cost_usd"] == 0 and status["unpriced_executions"] == 0
    assert [after[r]["metadata"].get("category") for r in todo] == [None, "done", "done"]
    assert [after[r]["metadata"]["category"] for r in done] == ["old", "old"], "filtered out: not run"


async def test_a_run_on_many_records_states_the_count_and_waits_for_the_users_approval() -> None:
    async with sandbox() as client:
        ids = await _leads(client, [f"L{i}" for i in range(26)])
        fid = (await call(client, "create_flow", {"name": "Many", "steps": SAVE}))["id"]
        asked = await call(client, "run_flow_on_records", {"flow_id": fid, "record_ids": ids})
        untouched = await call(client, "get_record", {"record_id": ids[0]})
    assert asked["started"] is False and asked["record_count"] == 26
    assert "confirm=true" in asked["next"]
    assert "category" not in untouched["metadata"]


async def test_cancel_batch_stops_a_running_batch_and_says_how_many_records_had_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runtype_mcp.sandbox import batches

    real = batches.run_flow

    async def held(db: Any, run: Any, record: Any, inputs: Any) -> Any:
        if record and record.get("name") == "hold":
            await anyio.Event().wait()  # ends only when the batch is cancelled
        return await real(db, run, record, inputs)

    monkeypatch.setattr(batches, "run_flow", held)
    async with sandbox() as client:
        ids = await _leads(client, ["a", "b", "hold"])
        fid = (await call(client, "create_flow", {"name": "Stop", "steps": SAVE}))["id"]
        batch_id = (await call(client, "run_flow_on_records", {"flow_id": fid, "record_ids": ids}))[
            "batch_id"
        ]

        async def two_done() -> bool:
            return bool((await call(client, "get_batch_status", {"batch_id": batch_id}))["processed"] == 2)

        await wait_for(two_done, 30)
        cancelled = await call(client, "cancel_batch", {"batch_id": batch_id})
        again = await call(client, "cancel_batch", {"batch_id": batch_id})
    assert cancelled["cancelled"] is True and cancelled["processed"] == 2 and cancelled["total"] == 3
    assert again["cancelled"] is False and 'already "cancelled"' in again["note"]


async def test_versions_are_stated_and_runs_say_which_version_ran() -> None:
    steps = [
        {
            "name": "Ask",
            "type": "prompt",
            "config": {"model": "gpt-4o-mini", "userPrompt": "Tier of {{_record.name}}"},
        }
    ]
    async with sandbox() as client:
        rid = (await _leads(client, ["Acme"]))[0]
        fid = (await call(client, "create_flow", {"name": "Versions", "steps": steps}))["id"]
        unpublished = await client.call_tool(
            "run_flow", {"flow_id": fid, "record_id": rid, "version": "published"}
        )
        await call(client, "publish_flow", {"flow_id": fid})
        live = await call(client, "get_flow", {"flow_id": fid})
        await call(
            client,
            "update_flow",
            {
                "flow_id": fid,
                "step_update": {"step": "Ask", "config": {"userPrompt": "New {{_record.name}}"}},
            },
        )
        changed = await call(client, "get_flow", {"flow_id": fid})
        versions = await call(client, "list_flow_versions", {"flow_id": fid})
        draft_run = await call(client, "run_flow", {"flow_id": fid, "record_id": rid})
        published_run = await call(
            client, "run_flow", {"flow_id": fid, "record_id": rid, "version": "published"}
        )
    assert unpublished.is_error and "publish" in text(unpublished)
    assert live["draft_differs"] is False and "is this draft" in live["note"]
    assert (
        changed["draft_differs"] is True and changed["published_version_id"] == live["published_version_id"]
    )
    assert versions["draft_differs"] is True and versions["versions"][0]["id"] == changed["draft_version_id"]
    assert draft_run["version"] == "draft" and "New Acme" in draft_run["final_output"]
    assert published_run["version"] == "published" and "Tier of Acme" in published_run["final_output"]
    for shown in (draft_run, published_run):
        assert "echo model" in shown["model_note"] and "not real model answers" in shown["model_note"]
    assert any("echo model" in w for w in live["warnings"])


async def test_a_dry_run_writes_nothing_and_shows_the_diff_it_would_apply() -> None:
    steps = [
        {
            "name": "Label",
            "type": "set-variable",
            "config": {"variableName": "label", "value": "vip {{_record.name}}"},
        },
        {
            "name": "Save",
            "type": "update-record",
            "config": {"updates": {"tier": "gold", "label": "{{label}}"}},
        },
    ]
    async with sandbox() as client:
        made = await call(
            client, "create_record", {"name": "Acme", "type": "lead", "metadata": {"tier": "silver", "n": 1}}
        )
        rid = made["record"]["id"]
        fid = (await call(client, "create_flow", {"name": "Dry", "steps": steps}))["id"]
        dry = await call(client, "run_flow", {"flow_id": fid, "record_id": rid, "dry_run": True})
        after = await call(client, "get_record", {"record_id": rid})
        results = await call(client, "get_record_results", {"record_id": rid})
        no_record = await client.call_tool("run_flow", {"flow_id": fid, "dry_run": True})
    assert dry["dry_run"] is True and dry["success"] is True
    (change,) = dry["would_write"]
    assert change["step"] == "Save" and change["record_id"] == rid
    assert change["changes"] == {
        "tier": {"before": "silver", "after": "gold"},
        "label": {"before": None, "after": "vip Acme"},
    }
    assert "NOTHING was written" in dry["next"]
    assert after["metadata"] == {"tier": "silver", "n": 1}
    assert results["count"] == 0 if "count" in results else not results.get("results")
    assert no_record.is_error and "dry_run" in text(no_record)
