"""Costs, results, result deletion and step results of a record, through the MCP client."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import MODES, connect, data, text
from tests.fakes import FakeRuntype
from tests.test_tools_records_more import connect_asking

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("mode", MODES)]


def _results(fake: FakeRuntype, rid: str, n: int, output: Any = "ok") -> list[dict[str, Any]]:
    rows = [
        {
            "id": f"recres_{i}",
            "recordId": rid,
            "status": "completed" if i % 3 else "failed",
            "createdAt": f"2026-11-0{1 + i % 9}T00:00:00Z",
            "flowId": "flow_a",
            "flowName": "Summarize",
            "result": output,
            "executionTimeMs": 120,
            "totalTokens": 42,
            "modelUsed": "gpt-x",
            "modelCost": "0.0012",
            "toolCost": None,
            "executionEngine": "runtime",
        }
        for i in range(n)
    ]
    fake.results[rid] = rows
    return rows


async def test_record_costs_are_returned_compactly(fake: FakeRuntype, mode: str) -> None:
    rec = fake.add_record("t", "a")
    async with connect(fake, mode) as client:
        out = data(await client.call_tool("get_record_costs", {"record_id": rec["id"]}))
    assert out == {
        "record_id": rec["id"],
        "total_cost": 0.0123,
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "total_tokens": 150,
        "execution_count": 2,
        "models": [{"model": "gpt-x", "count": 2, "tokens": 150, "cost": 0.0123}],
    }


async def test_record_costs_for_an_unknown_record_name_the_id(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("get_record_costs", {"record_id": "rec_x"})
    assert res.is_error and 'no record with record_id="rec_x"' in text(res)


async def test_record_id_with_a_slash_is_rejected_before_any_request(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("get_record_results", {"record_id": "a/../b"})
    assert res.is_error and "- record_id: must not contain slashes" in text(res)
    assert fake.requests == []


async def test_record_results_page_with_one_opaque_cursor(fake: FakeRuntype, mode: str) -> None:
    rec = fake.add_record("t", "a")
    rows = _results(fake, rec["id"], 5)
    async with connect(fake, mode) as client:
        first = data(await client.call_tool("get_record_results", {"record_id": rec["id"], "limit": 3}))
        second = data(
            await client.call_tool(
                "get_record_results", {"record_id": rec["id"], "limit": 3, "cursor": first["next_cursor"]}
            )
        )
    assert [r["id"] for r in first["results"]] == [r["id"] for r in rows[:3]]
    assert first["has_more"] is True and first["next_cursor"] == "page:2"
    assert [r["id"] for r in second["results"]] == ["recres_3", "recres_4"] and second["has_more"] is False
    assert [(r.url.params["page"], r.url.params["limit"]) for r in fake.requests] == [("1", "3"), ("2", "3")]
    assert first["results"][1] == {
        "id": "recres_1",
        "status": "completed",
        "created_at": "2026-11-02T00:00:00Z",
        "flow_id": "flow_a",
        "flow_name": "Summarize",
        "output": "ok",
        "execution_time_ms": 120.0,
        "total_tokens": 42,
        "model": "gpt-x",
        "model_cost": "0.0012",
    }


async def test_record_results_cut_long_outputs_and_say_how_to_read_more(fake: FakeRuntype, mode: str) -> None:
    rec = fake.add_record("t", "a")
    _results(fake, rec["id"], 50, output={"summary": "s" * 20000, "note": "\x00hidden\x1b"})
    async with connect(fake, mode) as client:
        res = await client.call_tool("get_record_results", {"record_id": rec["id"], "limit": 10})
        full_page = await client.call_tool("get_record_results", {"record_id": rec["id"], "limit": 25})
        one = data(
            await client.call_tool(
                "get_record_results", {"record_id": rec["id"], "limit": 1, "full_output": True}
            )
        )
    out = data(res)
    row = out["results"][0]
    assert len(row["output"]) == 300 and row["output_chars"] > 20000
    assert "limit=1, full_output=true" in out["note"]
    assert "\x00" not in row["output"] and "\x1b" not in text(res)
    assert len(text(full_page)) < 20000 and "cut to 300 chars" in data(full_page)["note"]
    assert len(one["results"][0]["output"]) == 12000 and "limit=1" not in one["note"]


async def test_record_results_filters_are_sent_and_a_foreign_cursor_is_refused(
    fake: FakeRuntype, mode: str
) -> None:
    rec = fake.add_record("t", "a")
    _results(fake, rec["id"], 4)
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "get_record_results", {"record_id": rec["id"], "status": "failed", "flow_id": "flow_a"}
            )
        )
        bad = await client.call_tool("get_record_results", {"record_id": rec["id"], "cursor": "offset:20"})
    params = fake.requests[0].url.params
    assert (params["status"], params["flowId"]) == ("failed", "flow_a")
    assert [r["id"] for r in out["results"]] == ["recres_0", "recres_3"]
    assert bad.is_error and "- cursor: not a page cursor from this tool" in text(bad)
    assert len(fake.requests) == 1


async def test_delete_result_without_confirm_keeps_it_and_names_the_record(
    fake: FakeRuntype, mode: str
) -> None:
    rec = fake.add_record("t", "Acme")
    _results(fake, rec["id"], 2)
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool("delete_record_result", {"record_id": rec["id"], "result_id": "recres_1"})
        )
    assert out["deleted"] is False and out["record_name"] == "Acme" and "confirm=true" in out["note"]
    assert len(fake.results[rec["id"]]) == 2 and fake.sent("DELETE", ".*") == []


async def test_delete_result_with_confirm_sends_the_result_id_in_the_body(
    fake: FakeRuntype, mode: str
) -> None:
    rec = fake.add_record("t", "Acme")
    _results(fake, rec["id"], 2)
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "delete_record_result", {"record_id": rec["id"], "result_id": "recres_1", "confirm": True}
            )
        )
    (req,) = fake.sent("DELETE", f"/v1/records/{rec['id']}/results")
    assert json.loads(req.content) == {"resultId": "recres_1"}
    assert out["deleted"] is True and [r["id"] for r in fake.results[rec["id"]]] == ["recres_0"]


async def test_delete_unknown_result_points_to_get_record_results(fake: FakeRuntype, mode: str) -> None:
    rec = fake.add_record("t", "Acme")
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "delete_record_result", {"record_id": rec["id"], "result_id": "recres_nope", "confirm": True}
        )
    assert res.is_error and 'no result with result_id="recres_nope"' in text(res)
    assert "get_record_results" in text(res)


async def test_step_results_page_by_offset_with_bounded_previews(fake: FakeRuntype, mode: str) -> None:
    rec = fake.add_record("t", "Acme")
    fake.step_results = [
        {
            "id": f"sr_{i}",
            "recordId": rec["id"],
            "flowId": "flow_a",
            "stepName": "Summarize",
            "stepType": "prompt",
            "status": "failed" if i == 0 else "completed",
            "durationMs": 15,
            "outputPreview": "p" * 5000,
            "errorMessage": "Model refused\n\x07" + "e" * 1000 if i == 0 else None,
        }
        for i in range(3)
    ]
    async with connect(fake, mode) as client:
        first = data(await client.call_tool("get_record_step_results", {"record_id": rec["id"], "limit": 2}))
        second = data(
            await client.call_tool(
                "get_record_step_results",
                {"record_id": rec["id"], "limit": 2, "cursor": first["next_cursor"]},
            )
        )
    assert first["next_cursor"] == "offset:2" and [s["id"] for s in second["step_results"]] == ["sr_2"]
    failed = first["step_results"][0]
    assert failed["status"] == "failed" and failed["error"].startswith("Model refused ee")
    assert len(failed["error"]) == 300 and "\x07" not in failed["error"]
    assert len(failed["output"]) == 300 and failed["output_chars"] == 5000 and "previews" in first["note"]
    assert fake.requests[1].url.params["offset"] == "2"


async def test_delete_result_dialog_names_the_record_and_approval_deletes(
    fake: FakeRuntype, mode: str
) -> None:
    rec = fake.add_record("t", "Acme")
    _results(fake, rec["id"], 1)
    async with connect_asking(fake, mode, approve=True) as (client, asked):
        out = data(
            await client.call_tool("delete_record_result", {"record_id": rec["id"], "result_id": "recres_0"})
        )
    assert asked == [
        f'Delete result "recres_0" of record "Acme" (id "{rec["id"]}")? The record stays; this cannot be undone.'
    ]
    assert out["deleted"] is True and fake.results[rec["id"]] == []
