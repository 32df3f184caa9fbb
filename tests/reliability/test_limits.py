"""Argument-size limits: each one exists, says what the limit is, and nothing is sent to Runtype."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import Collector
from tests.reliability.harness import World, assert_actionable, mcp_client, prepare, sandbox_backend

pytestmark = pytest.mark.anyio
MiB = 1024 * 1024
BIG = "x" * (MiB + 10)


def _big_file(tmp: Path) -> str:
    path = tmp / "huge.csv"
    with path.open("wb") as fh:  # sparse: costs no disk
        fh.write(b"name\n")
        fh.truncate(20 * MiB + 1)
    return str(path)


LIMITS: dict[str, tuple[str, Callable[[World], dict[str, Any]], str]] = {
    "metadata over 1 MiB (create_record)": (
        "create_record",
        lambda w: {"name": "big", "type": "t", "metadata": {"blob": BIG}},
        "the limit is 1,048,576",
    ),
    "metadata over 1 MiB (update_record)": (
        "update_record",
        lambda w: {"record_id": w.record_id, "metadata": {"blob": BIG}, "metadata_mode": "replace"},
        "the limit is 1,048,576",
    ),
    "messages over 1 MiB (create_record)": (
        "create_record",
        lambda w: {"name": "big", "type": "t", "messages": [{"role": "user", "content": BIG}]},
        "the limit is 1,048,576",
    ),
    "updates over 1 MiB (bulk_edit_records)": (
        "bulk_edit_records",
        lambda w: {"record_ids": w.record_ids, "updates": {"blob": BIG}, "dry_run": False},
        "the limit is 1,048,576",
    ),
    "inputs over 1 MiB (run_flow)": (
        "run_flow",
        lambda w: {"flow_id": w.flow_id, "inputs": {"blob": BIG}},
        "the limit is 1,048,576",
    ),
    "step config over 1 MiB (create_flow)": (
        "create_flow",
        lambda w: {"name": "big", "steps": [{"name": "s", "type": "template", "config": {"template": BIG}}]},
        "the limit is 1,048,576",
    ),
    "step config over 1 MiB (update_flow)": (
        "update_flow",
        lambda w: {"flow_id": w.flow_id, "step_update": {"step": "t", "config": {"template": BIG}}},
        "the limit is 1,048,576",
    ),
    "csv_text over 20 MiB (ASCII)": (
        "upload_records_csv",
        lambda w: {"name_column": "name", "type_value": "t", "csv_text": "name\n" + "a" * (20 * MiB)},
        "at most 20971520 characters",
    ),
    "csv_text over 20 MiB as UTF-8 (fewer characters)": (
        "upload_records_csv",
        lambda w: {"name_column": "name", "type_value": "t", "csv_text": "name\n" + "é" * (10 * MiB + 1)},
        "is over 20 MB",
    ),
    "CSV file over 20 MiB (upload_records_csv path)": (
        "upload_records_csv",
        lambda w: {"name_column": "name", "type_value": "t", "path": _big_file(w.tmp)},
        "file is over 20 MB",
    ),
    "1,001 ids (bulk_delete_records)": (
        "bulk_delete_records",
        lambda w: {"ids": [f"rec_{i}" for i in range(1001)], "confirm": True},
        "at most 1000 items",
    ),
    "1,001 ids (bulk_edit_records)": (
        "bulk_edit_records",
        lambda w: {"record_ids": [f"rec_{i}" for i in range(1001)], "updates": {"a": 1}},
        "at most 1000 items",
    ),
    "an id over 512 characters": ("get_record", lambda w: {"record_id": "r" * 513}, "at most 512 characters"),
    "a name over 500 characters": (
        "create_record",
        lambda w: {"name": "n" * 501, "type": "t"},
        "at most 500 characters",
    ),
    "101 steps (create_flow)": (
        "create_flow",
        lambda w: {"name": "f", "steps": [{"name": f"s{i}", "type": "template"} for i in range(101)]},
        "at most 100 items",
    ),
}


@pytest.mark.parametrize("case", sorted(LIMITS))
async def test_an_oversized_argument_is_refused_with_its_limit_and_nothing_is_sent(
    case: str, tmp_path: Path, report: Collector
) -> None:
    tool, build, says = LIMITS[case]
    with report.case("Argument-size limits", case, "refused before any request, naming the limit"):
        async with sandbox_backend() as be:
            world = await prepare(be, tmp_path)
            args = build(world)
            async with mcp_client(be) as client:
                mark = len(be.counter.log)
                res = await client.call_tool(tool, args)
            sent = be.counter.log[mark:]
        body = assert_actionable(res, tool)
        assert res.is_error and says in body, body
        assert "nothing was sent" in body
        writes = [s for s in sent if s[0] != "GET"]
        assert writes == [], f"{tool} sent {writes}"
        assert len(body) < 2000, "the refused value is not echoed back"
