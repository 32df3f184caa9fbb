"""The core tools through the in-memory MCP client, in both protocol eras, against the fake API."""

from __future__ import annotations

import json

import httpx2
import pytest

from tests.conftest import MODES, connect, data, text
from tests.fakes import FakeRuntype
from tests.fence import shown as shown_text

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("mode", MODES)]


async def test_create_record_sends_api_body_and_returns_the_record(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "create_record",
            {
                "name": "Acme",
                "type": "customer",
                "metadata": {"tier": "gold"},
                "owner_id": "u1",
                "messages": [{"role": "user", "content": "hi"}],
            },
        )
    out = data(res)
    assert out["record"]["name"] == "Acme" and out["record"]["metadata"] == {"tier": "gold"}
    (req,) = fake.sent("POST", "/v1/records")
    assert json.loads(req.content) == {
        "name": "Acme",
        "type": "customer",
        "metadata": {"tier": "gold"},
        "ownerId": "u1",
        "messages": [{"role": "user", "content": "hi"}],
    }


async def test_create_record_conflict_points_to_existing_id(fake: FakeRuntype, mode: str) -> None:
    existing = fake.add_record("customer", "Acme")
    async with connect(fake, mode) as client:
        res = await client.call_tool("create_record", {"name": "Acme", "type": "customer"})
    assert res.is_error
    assert f'update_record with record_id="{existing["id"]}"' in text(res)


async def test_create_record_surfaces_renamed_keys(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "create_record", {"name": "p", "type": "person", "metadata": {"First Name": "A"}}
        )
    assert any('renamed by Runtype to "first_name"' in w for w in data(res)["warnings"])


async def test_create_record_that_landed_despite_500_is_not_sent_twice(fake: FakeRuntype, mode: str) -> None:
    fake.fail("POST", "/records", 500, land=True)
    async with connect(fake, mode) as client:
        res = await client.call_tool("create_record", {"name": "Acme", "type": "customer"})
    out = data(res)
    assert "created once" in out["note"]
    assert len(fake.sent("POST", "/v1/records")) == 1
    assert sum(r["name"] == "Acme" for r in fake.records.values()) == 1


async def test_create_record_that_did_not_land_is_retried_once_after_a_lookup(
    fake: FakeRuntype, mode: str
) -> None:
    fake.fail("POST", "/records", 503)
    async with connect(fake, mode) as client:
        res = await client.call_tool("create_record", {"name": "Acme", "type": "customer"})
    assert data(res)["record"]["name"] == "Acme"
    assert len(fake.sent("POST", "/v1/records")) == 2
    assert sum(r["name"] == "Acme" for r in fake.records.values()) == 1


async def test_create_record_timeout_twice_says_lookup_found_nothing(fake: FakeRuntype, mode: str) -> None:
    fake.fail("POST", "/records", exc=httpx2.ReadTimeout, times=2)
    async with connect(fake, mode) as client:
        res = await client.call_tool("create_record", {"name": "Acme", "type": "customer"})
    assert res.is_error
    assert "safe to call create_record again" in text(res)
    assert fake.records == {}


async def test_update_record_merges_metadata_by_default(fake: FakeRuntype, mode: str) -> None:
    rec = fake.add_record("customer", "Acme", {"tier": "gold", "score": 1, "old": True})
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "update_record",
            {"record_id": rec["id"], "metadata": {"score": 2}, "remove_metadata_keys": ["old"]},
        )
    out = data(res)
    assert out["record"]["metadata"] == {"tier": "gold", "score": 2}
    assert "1 key(s) set, 1 kept, 1 removed" in out["note"]


async def test_update_record_replace_mode_drops_unsent_keys(fake: FakeRuntype, mode: str) -> None:
    rec = fake.add_record("customer", "Acme", {"tier": "gold", "score": 1})
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "update_record", {"record_id": rec["id"], "metadata": {"score": 2}, "metadata_mode": "replace"}
        )
    assert data(res)["record"]["metadata"] == {"score": 2}
    assert fake.sent("GET", "/v1/records/.*") == [], "replace mode writes without reading"


async def test_update_record_without_changes_is_rejected_locally(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("update_record", {"record_id": "rec_1"})
    assert res.is_error and "pass at least one of name, type, metadata" in text(res)
    assert fake.requests == []


async def test_get_record_returns_full_record_with_messages(fake: FakeRuntype, mode: str) -> None:
    rec = fake.add_record("customer", "Acme", {"notes": "x" * 300})
    rec["messages"] = [{"role": "user", "content": "hello"}]
    async with connect(fake, mode) as client:
        out = data(await client.call_tool("get_record", {"record_id": rec["id"]}))
    assert out["metadata"]["notes"] == "x" * 300
    assert out["message_count"] == 1 and out["messages"][0]["content"] == "hello"


async def test_list_records_is_compact_and_pages_with_cursor(fake: FakeRuntype, mode: str) -> None:
    for i in range(5):
        fake.add_record("customer", f"c{i}", {"notes": "y" * 300})
    fake.add_record("other", "o")
    async with connect(fake, mode) as client:
        first = data(await client.call_tool("list_records", {"type": "customer", "limit": 3}))
        second = data(
            await client.call_tool(
                "list_records", {"type": "customer", "limit": 3, "cursor": first["next_cursor"]}
            )
        )
    assert [r["name"] for r in first["records"]] == ["c0", "c1", "c2"]
    assert first["has_more"] is True
    assert [r["name"] for r in second["records"]] == ["c3", "c4"]
    assert second["has_more"] is False and "next_cursor" not in second
    assert first["records"][0]["metadata"]["notes"].endswith("…")
    assert fake.requests[0].url.params["view"] == "compact"


async def test_create_flow_fills_order_and_returns_steps(fake: FakeRuntype, mode: str) -> None:
    steps = [
        {
            "name": "Summarize",
            "type": "prompt",
            "config": {"model": "m", "userPrompt": "Hi {{_record.name}}", "outputVariable": "s"},
        },
        {"name": "Save", "type": "update-record", "config": {"updates": {"summary": "{{s}}"}}},
    ]
    async with connect(fake, mode) as client:
        out = data(await client.call_tool("create_flow", {"name": "Sum", "steps": steps, "description": "d"}))
    (req,) = fake.sent("POST", "/v1/flows")
    sent = json.loads(req.content)
    assert [s["order"] for s in sent["steps"]] == [1, 2]
    assert sent["description"] == "d"
    assert [s["type"] for s in out["steps"]] == ["prompt", "update-record"]


async def test_create_flow_rejects_unknown_step_type_listing_allowed_values(
    fake: FakeRuntype, mode: str
) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("create_flow", {"name": "f", "steps": [{"name": "a", "type": "promt"}]})
    assert res.is_error
    msg = text(res)
    assert "steps[0].type" in msg and "'prompt'" in msg and "'memory-summary'" in msg
    assert "errors.pydantic.dev" not in msg and "input_value" not in msg
    assert fake.requests == []


async def test_get_and_list_flows(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        created = data(
            await client.call_tool(
                "create_flow",
                {"name": "F", "steps": [{"name": "a", "type": "template", "config": {"template": "x"}}]},
            )
        )
        got = data(await client.call_tool("get_flow", {"flow_id": created["id"]}))
        listed = data(await client.call_tool("list_flows", {}))
    assert got["steps"][0]["config"] == {"template": "x"}
    assert [f["id"] for f in listed["flows"]] == [created["id"]]


async def test_run_on_small_type_returns_per_record_outcomes(fake: FakeRuntype, mode: str) -> None:
    fake.flows["flow_a"] = {"id": "flow_a", "name": "F", "flowSteps": []}
    for i in range(3):
        fake.add_record("customer", f"c{i}")
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "run_flow_on_record_type", {"flow_id": "flow_a", "record_type": "customer"}
            )
        )
    assert out["status"] == "completed" and out["record_count"] == 3 and out["failure_count"] == 0
    assert [r["name"] for r in out["results"]] == ["c0", "c1", "c2"]


async def test_run_on_large_type_is_scheduled_and_points_to_batch_status(
    fake: FakeRuntype, mode: str
) -> None:
    fake.flows["flow_a"] = {"id": "flow_a", "name": "F", "flowSteps": []}
    for i in range(12):
        fake.add_record("customer", f"c{i}")
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "run_flow_on_record_type", {"flow_id": "flow_a", "record_type": "customer"}
            )
        )
        status = data(await client.call_tool("get_batch_status", {"batch_id": out["batch_id"]}))
    assert out["status"] == "scheduled" and out["record_count"] == 12
    assert 'get_batch_status with batch_id="batch_1"' in out["next"]
    assert status["progress"] == 50 and status["processed"] == 6 and status["failed"] == 1


async def test_flow_run_is_never_resent_after_a_server_error(fake: FakeRuntype, mode: str) -> None:
    fake.flows["flow_a"] = {"id": "flow_a", "name": "F", "flowSteps": []}
    fake.fail("POST", "/flows/flow_a/run-on-record-type", 502, times=5)
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "run_flow_on_record_type", {"flow_id": "flow_a", "record_type": "customer"}
        )
    assert res.is_error and "may or may not have happened" in text(res)
    assert "list_flow_step_results" in text(res)
    assert len(fake.sent("POST", "/v1/flows/flow_a/run-on-record-type")) == 1


async def test_unknown_batch_says_where_batch_ids_come_from(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("get_batch_status", {"batch_id": "nope"})
    assert res.is_error and "run_flow_on_record_type" in text(res)


async def test_missing_key_server_still_lists_tools_and_explains_each_call(
    fake: FakeRuntype, mode: str
) -> None:
    async with connect(fake, mode, api_key=None) as client:
        tools = await client.list_tools()
        res = await client.call_tool("list_records", {})
    assert len(tools.tools) >= 9
    assert res.is_error and "RUNTYPE_API_KEY" in text(res) and "--sandbox" in text(res)
    assert fake.requests == []


async def test_unexpected_bug_gives_an_error_id_and_nothing_private(fake: FakeRuntype, mode: str) -> None:
    fake.fail("GET", "/records", exc=RuntimeError)  # not an httpx2 error: a bug path
    async with connect(fake, mode) as client:
        res = await client.call_tool("list_records", {})
    msg = text(res)
    assert res.is_error and "internal error err_" in msg
    assert "injected" not in msg and "Traceback" not in msg


async def test_oversized_metadata_is_refused_before_sending(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "create_record", {"name": "big", "type": "t", "metadata": {"blob": "x" * 1_100_000}}
        )
    assert res.is_error and "metadata: is 1,100,012 bytes of JSON; the limit is 1,048,576" in text(res)
    assert fake.requests == []


async def test_a_call_past_the_overall_deadline_is_stopped_with_a_clear_error(mode: str) -> None:
    import anyio
    from mcp import Client

    from runtype_mcp.server import build_server
    from tests.conftest import make_settings

    async def slow(request: httpx2.Request) -> httpx2.Response:
        await anyio.sleep(30)
        return httpx2.Response(200, json={})

    server = build_server(make_settings(tool_timeout=0.3), transport=httpx2.MockTransport(slow))
    with anyio.fail_after(10):
        async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
            read = await client.call_tool("list_records", {})
            run = await client.call_tool("run_flow_on_record_type", {"flow_id": "f", "record_type": "t"})
    assert read.is_error and "stopped after 0.3 s" in text(read) and "safe to repeat" in text(read)
    assert run.is_error and "may or may not have happened" in text(run)


async def test_a_failed_read_only_post_is_called_safe_to_repeat(fake: FakeRuntype, mode: str) -> None:
    fake.fail("POST", "/records/preview-filter", 503, times=5)
    async with connect(fake, mode) as client:
        res = await client.call_tool("preview_record_filter", {"type": "customer"})
    assert res.is_error and "safe to repeat" in text(res)
    assert len(fake.sent("POST", "/v1/records/preview-filter")) == 3, "a read-only POST is retried"


async def test_list_records_shows_the_model_a_table_with_type_hoisted(fake: FakeRuntype, mode: str) -> None:
    fake.add_record("customer", "Acme", {"tier": "gold", "notes": "n" * 90})
    fake.add_record("customer", "Globex", {"tier": "silver", "city": "Oslo"})
    async with connect(fake, mode) as client:
        res = await client.call_tool("list_records", {"type": "customer"})
    shown = shown_text(text(res))
    assert shown["type"] == "customer"
    assert shown["columns"] == ["id", "name", "updated_at", "tier", "notes", "city"]
    assert shown["rows"][0][1:] == ["Acme", "2026-11-01T00:00:00Z", "gold", "n" * 59 + "…", "(no key)"]
    assert shown["rows"][1][-1] == "Oslo"
    assert data(res)["records"][0]["metadata"]["notes"] == "n" * 90, "structured content keeps the rows whole"


async def test_a_read_answered_with_an_html_page_says_nothing_changed(fake: FakeRuntype, mode: str) -> None:
    fake.fail("GET", "/records", 200, body="<html>proxy login</html>", times=5)
    async with connect(fake, mode) as client:
        res = await client.call_tool("list_records", {})
    assert res.is_error and "Nothing was changed (this call only reads)" in text(res)
    assert "RUNTYPE_BASE_URL" in text(res)
