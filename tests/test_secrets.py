"""The API key never appears in logs, tool output or errors; metadata values are not logged."""

from __future__ import annotations

import io

import httpx2
import pytest

from runtype_mcp.logs import Redactor, get_logger
from tests.conftest import MODES, connect
from tests.fakes import API_KEY, FakeRuntype

PRIVATE = "private-value-7f3e"


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_key_and_metadata_values_never_leave_the_process(
    fake: FakeRuntype, log_stream: io.StringIO, mode: str
) -> None:
    rec = fake.add_record("customer", "Acme", {"email": PRIVATE})
    fake.fail("GET", "/records", 500, body={"error": f"upstream echoed Bearer {API_KEY}"})
    fake.fail("GET", "/records/.*", exc=httpx2.ConnectError, times=1)
    outputs: list[str] = []
    async with connect(fake, mode) as client:
        calls = [
            ("list_records", {}),
            ("get_record", {"record_id": rec["id"]}),
            ("create_record", {"name": "B", "type": "customer", "metadata": {"email": PRIVATE}}),
            ("update_record", {"record_id": rec["id"], "metadata": {"email": PRIVATE + "2"}}),
            ("create_record", {"name": "Acme", "type": "customer"}),
            ("get_batch_status", {"batch_id": "x"}),
        ]
        for tool, args in calls:
            res = await client.call_tool(tool, args)
            outputs.append(res.model_dump_json())
    logs = log_stream.getvalue()
    assert "tool.call" in logs
    assert API_KEY not in logs
    assert API_KEY not in "".join(outputs)
    assert PRIVATE not in logs, "metadata values must not be logged"


def test_redactor_scrubs_key_in_nested_values_and_authorization_keys() -> None:
    redact = Redactor([API_KEY])
    event = {
        "event": "x",
        "headers": {"Authorization": "Bearer abc"},
        "msg": f"oops {API_KEY}",
        "items": [API_KEY],
    }
    out = redact(None, "info", event)
    assert API_KEY not in repr(out)
    assert out["headers"]["Authorization"] == "[REDACTED]"


def test_exception_tracebacks_are_redacted(log_stream: io.StringIO) -> None:
    try:
        raise ValueError(f"bad key {API_KEY}")
    except ValueError:
        get_logger("test").exception("boom")
    assert "bad key [REDACTED]" in log_stream.getvalue()
    assert API_KEY not in log_stream.getvalue()
