"""Issue 12's "done when", in one session against the sandbox through a real MCP client: author a
branching flow from get_step_types alone, refuse a typo at save, show every `when`, dry-run without
writing, run a filtered subset, report the batch's cost, cancel a running batch."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.conftest import text
from tests.sandbox.conftest import wait_for
from tests.test_flows_batches import _finished, _leads, call, sandbox

pytestmark = pytest.mark.anyio


async def test_a_model_builds_tests_and_runs_a_branching_flow_right_the_first_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runtype_mcp.sandbox import batches

    real = batches.run_flow

    async def held(db: Any, run: Any, record: Any, inputs: Any) -> Any:
        if record and record.get("name") == "hold":
            await anyio.Event().wait()  # ends only when its batch is cancelled
        return await real(db, run, record, inputs)

    monkeypatch.setattr(batches, "run_flow", held)
    async with sandbox() as client:
        ref = {e["type"]: e for e in (await call(client, "get_step_types", {}))["step_types"]}
        branch = ref["conditional"]["example"]  # hot/cold on Number(score) > 80
        note = {**ref["set-variable"]["example"], "when": "_record.metadata.tier?.toLowerCase() === 'gold'"}
        typo = await client.call_tool(
            "create_flow",
            {"name": "Leads", "steps": [{**branch, "config": {**branch["config"], "conditon": "x"}}]},
        )
        created = await call(client, "create_flow", {"name": "Leads", "steps": [branch, note]})
        fid = created["id"]
        shown = await call(client, "get_flow", {"flow_id": fid})

        hot, cold = (
            await _leads(client, ["Hot"], score="91", tier="Gold"),
            await _leads(client, ["Cold"], score=3),
        )
        dry = await call(client, "run_flow", {"flow_id": fid, "record_id": hot[0], "dry_run": True})
        untouched = await call(client, "get_record", {"record_id": hot[0]})

        done = await _leads(client, ["Done"], score=50, tier="hot")
        started = await call(
            client,
            "run_flow_on_records",
            {"flow_id": fid, "type": "lead", "filter": {"field": "tier", "op": "neq", "value": "hot"}},
        )
        status = await _finished(client, started["batch_id"])
        after = {
            rid: (await call(client, "get_record", {"record_id": rid}))["metadata"]
            for rid in hot + cold + done
        }

        held_ids = await _leads(client, ["a", "hold"])
        running = await call(client, "run_flow_on_records", {"flow_id": fid, "record_ids": held_ids})

        async def one_done() -> bool:
            return bool(
                (await call(client, "get_batch_status", {"batch_id": running["batch_id"]}))["processed"] == 1
            )

        await wait_for(one_done, 30)
        cancelled = await call(client, "cancel_batch", {"batch_id": running["batch_id"]})

    assert (
        typo.is_error
        and 'config.conditon: is not a config key of conditional → did you mean "condition"?' in text(typo)
    )
    assert not created.get("warnings"), "saved on the first try, without findings"
    assert [s.get("when") for s in shown["steps"]] == [None, note["when"]]
    assert dry["dry_run"] is True and dry["would_write"][0]["changes"] == {
        "tier": {"before": "Gold", "after": "hot"}
    }
    assert untouched["metadata"] == {"score": "91", "tier": "Gold"}, "the dry run wrote nothing"
    assert started["record_count"] == 2 and status["processed"] == 2, "exactly the filtered subset"
    assert status["total_cost_usd"] == 0 and status["unpriced_executions"] == 0
    assert [after[r]["tier"] for r in hot + cold + done] == ["hot", "cold", "hot"]
    assert cancelled["cancelled"] is True and cancelled["processed"] == 1 and cancelled["total"] == 2
