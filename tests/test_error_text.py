"""The exact text a model reads for each row of the error table in DESIGN.md (snapshotted)."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest

from tests.conftest import connect, text
from tests.fakes import API_KEY, FakeRuntype
from tests.snapshots import assert_snapshot

pytestmark = pytest.mark.anyio

DETAILS_400 = {
    "error": "Validation error",
    "details": [
        {"code": "MISSING_REQUIRED_FIELD", "message": "Required", "path": "name"},
        {
            "code": "OUT_OF_RANGE",
            "message": "String must contain at most 255 character(s)",
            "path": "recordType",
        },
        {
            "code": "INVALID_TYPE",
            "message": "Expected number, received string",
            "path": "metadata.priority",
            "suggestion": "Send priority as a number, e.g. 3",
        },
        {
            "code": "INVALID_ENUM",
            "message": "Invalid step type",
            "path": "steps.0.type",
            "options": ["prompt", "template"],
        },
        {
            "code": "UNRECOGNIZED_KEYS",
            "message": "Unrecognized key(s) in object",
            "path": "",
            "keys": ["colour"],
        },
    ],
}


def _setup_flow(fake: FakeRuntype) -> None:
    fake.flows["flow_a"] = {"id": "flow_a", "name": "F", "flowSteps": []}


CASES: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "400_details": (
        lambda f: f.fail("POST", "/records", 400, body=DETAILS_400),
        "create_record",
        {"name": "a", "type": "t"},
    ),
    "args_before_request": (None, "list_records", {"limit": 500, "type": ""}),
    "args_nested_step": (
        None,
        "create_flow",
        {"name": "f", "steps": [{"name": "s", "type": "prompt", "colour": 1}]},
    ),
    "401": (lambda f: f.fail("GET", "/records", 401, body={"error": "Invalid API key"}), "list_records", {}),
    "403_scope": (
        lambda f: f.fail("POST", "/flows", 403, body={"error": "Forbidden"}),
        "create_flow",
        {"name": "f", "steps": [{"name": "s", "type": "prompt", "config": {"userPrompt": "x"}}]},
    ),
    "404": (None, "get_record", {"record_id": "rec_missing"}),
    "409_create": (
        lambda f: f.add_record("customer", "Acme"),
        "create_record",
        {"name": "Acme", "type": "customer"},
    ),
    "422": (
        lambda f: f.fail(
            "POST",
            "/records",
            422,
            body={
                "error": "schema_validation_failed",
                "details": [{"code": "INVALID_TYPE", "message": "must be integer", "path": "metadata.age"}],
            },
        ),
        "create_record",
        {"name": "a", "type": "person"},
    ),
    "429_after_retries": (
        lambda f: f.fail(
            "GET",
            "/records",
            429,
            times=5,
            headers={"Retry-After": "120"},
            body={"error": "Too many", "code": "SLOW_MODE_HOURLY_LIMIT_EXCEEDED"},
        ),
        "list_records",
        {},
    ),
    "5xx_read": (lambda f: f.fail("GET", "/records", 503, times=5), "list_records", {}),
    "5xx_run": (
        lambda f: (_setup_flow(f), f.fail("POST", "/flows/flow_a/run-on-record-type", 500)),
        "run_flow_on_record_type",
        {"flow_id": "flow_a", "record_type": "t"},
    ),
    "timeout_read": (
        lambda f: f.fail("GET", "/records", exc=httpx2.ReadTimeout, times=5),
        "list_records",
        {},
    ),
    "non_json_2xx": (
        lambda f: f.fail("POST", "/flows", 200, body="<html>ok</html>"),
        "create_flow",
        {"name": "f", "steps": [{"name": "s", "type": "prompt", "config": {"userPrompt": "x"}}]},
    ),
    "unexpected_bug": (lambda f: f.fail("GET", "/records", exc=RuntimeError), "list_records", {}),
}


def _normalise(msg: str) -> str:
    msg = re.sub(r"\d\d:\d\d:\d\d UTC", "HH:MM:SS UTC", msg)
    msg = re.sub(r"\(\d+ s \(", "(N s (", msg)
    msg = re.sub(r"untrusted-data-[0-9a-f]{12}", "untrusted-data-ID", msg)
    return re.sub(r"err_[0-9a-f]{10}", "err_ID", msg)


@pytest.mark.parametrize("case", sorted(CASES))
async def test_error_text_for_each_table_row(fake: FakeRuntype, case: str) -> None:
    setup, tool, args = CASES[case]
    if setup:
        setup(fake)
    async with connect(fake) as client:
        res = await client.call_tool(tool, args)
    assert res.is_error
    msg = text(res)
    assert API_KEY not in msg
    assert "Error executing tool" not in msg, "the bare SDK message means an exception escaped unmapped"
    assert "pydantic" not in msg and "input_value" not in msg
    assert_snapshot(f"errors/{case}.txt", _normalise(msg))


async def test_missing_key_text(fake: FakeRuntype) -> None:
    async with connect(fake, api_key=None) as client:
        res = await client.call_tool("get_record", {"record_id": "rec_1"})
    assert_snapshot("errors/missing_key.txt", text(res))
