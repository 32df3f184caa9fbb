"""Bugs the reliability suite found in the records-at-scale and flow tools (issues 12, 13), pinned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runtype_mcp.sandbox import Fault
from tests.conftest import data, text
from tests.reliability.conftest import Collector
from tests.reliability.harness import assert_actionable, fake_backend, mcp_client, prepare, sandbox_backend

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("fast_retries")]
AREA = "Regressions found by this suite"
HTML = "<html><body>Down for maintenance</body></html>"


async def test_upsert_records_where_every_row_failed_is_an_error_not_a_success(
    tmp_path: Path, report: Collector
) -> None:
    with report.case(AREA, "upsert_records: every row's create answered 503", "an error naming each row"):
        async with sandbox_backend() as be:
            await prepare(be, tmp_path)
            assert be.sandbox is not None
            be.sandbox.faults.add([Fault(method="POST", path="^/v1/records$", status=503, times=None)])
            async with mcp_client(be) as client:
                res = await client.call_tool(
                    "upsert_records", {"type": "rel", "records": [{"name": "n1"}, {"name": "n2"}]}
                )
        body = assert_actionable(res, "upsert_records")
        assert res.is_error, "zero rows done must not read as a success"
        assert "all 2 rows failed" in body and '"n1"' in body and '"n2"' in body
        assert "call upsert_records again with the same rows" in body


async def test_a_row_whose_merge_got_a_bad_2xx_says_it_was_sent_not_that_the_call_only_reads(
    tmp_path: Path, report: Collector
) -> None:
    with report.case(AREA, "upsert_records: a 200 HTML answer to one row's merge", "says the edit was sent"):
        async with fake_backend() as be:
            await prepare(be, tmp_path)
            assert be.fake is not None
            be.fake.fail("POST", "/records/bulk-edit", 200, body=HTML, land=True)
            rows = [{"name": "alpha", "metadata": {"tier": "x"}}, {"name": "beta", "metadata": {"tier": "y"}}]
            async with mcp_client(be) as client:
                res = await client.call_tool("upsert_records", {"type": "rel", "records": rows})
        assert not res.is_error and res.structured_content is not None, text(res)
        out = res.structured_content
        assert out["failed"] == 1 and out["updated"] == 1
        error = out["rows"][0].get("error") or out["rows"][1].get("error")
        assert "only reads" not in error and "The request was sent" in error
        assert "only reads" not in text(res)


@pytest.mark.parametrize("body", [HTML, '{"data": [{"id": "rec_'])
@pytest.mark.parametrize("tool", ["aggregate_records", "list_record_types"])
async def test_counts_from_an_export_that_is_not_csv_are_an_error_not_zero(
    tool: str, body: str, tmp_path: Path, report: Collector
) -> None:
    with report.case(AREA, "aggregate/list_record_types: a 200 export that is not CSV", "an error, not 0"):
        async with sandbox_backend() as be:
            await prepare(be, tmp_path)
            assert be.sandbox is not None
            be.sandbox.faults.add([Fault(method="GET", path="^/v1/records/export$", status=200, body=body)])
            async with mcp_client(be) as client:
                args = {"type": "rel", "metrics": ["count"]} if tool == "aggregate_records" else {}
                res = await client.call_tool(tool, args)
        message = assert_actionable(res, tool)
        assert res.is_error and "not the records CSV" in message and "only reads" in message
        assert "instead of the expected CSV" in message


async def test_run_flow_on_records_by_type_runs_nothing_when_the_export_is_not_csv(
    tmp_path: Path, report: Collector
) -> None:
    with report.case(AREA, "run_flow_on_records: a 200 HTML export", "nothing ran; says so"):
        async with sandbox_backend() as be:
            world = await prepare(be, tmp_path)
            assert be.sandbox is not None
            be.sandbox.faults.add([Fault(method="GET", path="^/v1/records/export$", status=200, body=HTML)])
            async with mcp_client(be) as client:
                mark = len(be.counter.log)
                res = await client.call_tool("run_flow_on_records", {"flow_id": world.flow_id, "type": "rel"})
            batches = be.counter.count("POST", "/batch/flow", mark)
        message = assert_actionable(res, "run_flow_on_records")
        assert res.is_error and "nothing ran" in message and "No record matches" not in message
        assert batches == 0


async def test_a_batch_answer_without_a_batch_id_says_the_run_was_sent_and_how_to_check(
    tmp_path: Path, report: Collector
) -> None:
    with report.case(AREA, "run_flow_on_records: a 202 without a batch id", "sent; check, don't repeat"):
        async with fake_backend() as be:
            world = await prepare(be, tmp_path)
            assert be.fake is not None
            be.fake.fail("POST", "/batch/flow", 202, body={"status": "scheduled"}, land=True)
            async with mcp_client(be) as client:
                args = {"flow_id": world.flow_id, "record_ids": world.record_ids}
                res = await client.call_tool("run_flow_on_records", args)
        message = assert_actionable(res, "run_flow_on_records")
        assert res.is_error and "The request was sent" in message
        assert "Do not repeat run_flow_on_records blindly: first call get_record_results" in message


async def test_a_bad_2xx_on_cancel_batch_points_to_get_batch_status(
    tmp_path: Path, report: Collector
) -> None:
    with report.case(AREA, "cancel_batch: a 200 HTML answer", "says to check with get_batch_status"):
        async with fake_backend() as be:
            world = await prepare(be, tmp_path)
            assert be.fake is not None
            be.fake.fail("POST", "/batch/cancel/[^/]+", 200, body=HTML, land=True)
            async with mcp_client(be) as client:
                res = await client.call_tool("cancel_batch", {"batch_id": world.batch_id})
        message = assert_actionable(res, "cancel_batch")
        assert res.is_error and "first call get_batch_status with the batch_id" in message


async def test_cancelling_a_batch_twice_says_it_is_already_cancelled_not_finished(
    tmp_path: Path, report: Collector
) -> None:
    with report.case(AREA, "cancel_batch twice", "the second says the batch is already cancelled"):
        async with sandbox_backend() as be:
            world = await prepare(be, tmp_path)
            async with mcp_client(be) as client:
                first = await client.call_tool("cancel_batch", {"batch_id": world.batch_id})
                second = await client.call_tool("cancel_batch", {"batch_id": world.batch_id})
        again = data(second)
        assert again["cancelled"] is False and f'already "{again["status"]}"' in again["note"]
        if data(first)["cancelled"]:  # (the 3-record batch may, rarely, finish before the first call)
            assert again["status"] == "cancelled" and "finished" not in again["note"]


@pytest.mark.parametrize("tool", ["aggregate_records", "list_record_types", "run_flow_on_records"])
async def test_a_record_with_a_cell_over_128_kib_is_counted_not_an_internal_error(
    tool: str, tmp_path: Path, report: Collector
) -> None:
    """Found by the hostile-input run: csv's default cell limit raised from inside the tool."""
    with report.case(AREA, "a metadata value of 200,000 characters in the export", "counted, no crash"):
        async with sandbox_backend() as be:
            world = await prepare(be, tmp_path)
            big = {"name": "big", "type": "huge", "metadata": {"blob": "x" * 200_000}}
            assert (await be.direct.post("/v1/records", json=big)).status_code == 201
            args: dict[str, Any] = {
                "aggregate_records": {"type": "huge", "metrics": ["count", "count_distinct:blob"]},
                "list_record_types": {},
                "run_flow_on_records": {"flow_id": world.flow_id, "type": "huge"},
            }[tool]
            async with mcp_client(be) as client:
                res = await client.call_tool(tool, args)
        assert not res.is_error, assert_actionable(res, tool)
        out = res.structured_content
        assert out is not None
        if tool == "aggregate_records":
            assert out["rows"] == [[1, 1]]
        elif tool == "list_record_types":
            assert {"type": "huge", "count": 1} in out["types"]
        else:
            assert out["started"] is True and out["record_count"] == 1
