"""update_flow, delete_flow, export_flow_runtime, publish_flow, list_flow_step_results, run_flow."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from mcp.types import ElicitResult

from runtype_mcp.server import build_server
from tests.conftest import MODES, connect, data, make_settings, text
from tests.fakes import FakeRuntype

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("mode", MODES)]

STEPS = [
    {
        "id": "s1",
        "name": "Summarize",
        "type": "prompt",
        "order": 1,
        "config": {"model": "m", "userPrompt": "old", "temperature": 0.2},
    },
    {
        "id": "s2",
        "name": "Save",
        "type": "update-record",
        "order": 2,
        "config": {"updates": {"summary": "{{s}}"}},
    },
]


def _flow(fake: FakeRuntype) -> str:
    fake.flows["flow_a"] = {
        "id": "flow_a",
        "name": "Summ",
        "flowSteps": [dict(s) for s in STEPS],
        "updatedAt": "x",
    }
    return "flow_a"


async def test_step_update_changes_one_step_and_keeps_the_others(fake: FakeRuntype, mode: str) -> None:
    fid = _flow(fake)
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "update_flow",
                {"flow_id": fid, "step_update": {"step": "Summarize", "config": {"userPrompt": "new"}}},
            )
        )
    (put,) = fake.sent("PUT", "/v1/flows/flow_a")
    sent = json.loads(put.content)["flowSteps"]
    assert sent[0]["config"] == {"model": "m", "userPrompt": "new", "temperature": 0.2}
    assert sent[1] == STEPS[1]
    assert out["changed_step"] == "s1" and out["replaced_steps"] is False
    assert "publish_flow" in out["note"]


async def test_step_update_naming_no_step_lists_the_real_ones(fake: FakeRuntype, mode: str) -> None:
    fid = _flow(fake)
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "update_flow", {"flow_id": fid, "step_update": {"step": "Nope", "enabled": False}}
        )
    assert res.is_error and '"Summarize" (id "s1")' in text(res)
    assert fake.sent("PUT", "/v1/flows/.*") == []


async def test_steps_replace_the_whole_list(fake: FakeRuntype, mode: str) -> None:
    fid = _flow(fake)
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "update_flow",
                {
                    "flow_id": fid,
                    "steps": [{"name": "Only", "type": "template", "config": {"template": "x"}}],
                },
            )
        )
    assert [s["name"] for s in fake.flows[fid]["flowSteps"]] == ["Only"]
    assert out["replaced_steps"] is True


async def test_update_flow_needs_something_to_change(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("update_flow", {"flow_id": "flow_a"})
    assert res.is_error and "nothing to change" in text(res)


async def test_delete_flow_without_confirmation_changes_nothing(fake: FakeRuntype, mode: str) -> None:
    fid = _flow(fake)
    async with connect(fake, mode) as client:
        out = data(await client.call_tool("delete_flow", {"flow_id": fid}))
    assert out["deleted"] is False and out["step_count"] == 2 and "confirm=true" in out["note"]
    assert fid in fake.flows and fake.sent("DELETE", "/v1/flows/.*") == []


async def test_delete_flow_with_confirm_deletes(fake: FakeRuntype, mode: str) -> None:
    fid = _flow(fake)
    async with connect(fake, mode) as client:
        out = data(await client.call_tool("delete_flow", {"flow_id": fid, "confirm": True}))
    assert out["deleted"] is True and fid not in fake.flows


@pytest.mark.parametrize(
    ("action", "approve", "deleted"),
    [("accept", True, True), ("accept", False, False), ("decline", None, False)],
)
async def test_delete_flow_asks_the_user_when_the_client_can(
    fake: FakeRuntype, mode: str, action: str, approve: bool | None, deleted: bool
) -> None:
    fid = _flow(fake)
    asked: list[str] = []

    async def on_elicit(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        content = {"approve": approve} if approve is not None else None
        return ElicitResult(action=action, content=content)  # type: ignore[arg-type]

    server = build_server(make_settings(), transport=fake.transport())
    async with Client(server, mode=mode, elicitation_callback=on_elicit) as client:  # type: ignore[arg-type]
        out = data(await client.call_tool("delete_flow", {"flow_id": fid, "confirm": True}))
    assert asked and "flow_a" in asked[0], "the user is asked even when the model passed confirm=true"
    assert out["deleted"] is deleted and (fid in fake.flows) is not deleted
    if action == "decline":
        assert "declined" in out["note"]


async def test_export_and_publish(fake: FakeRuntype, mode: str) -> None:
    fid = _flow(fake)
    async with connect(fake, mode) as client:
        exported = data(await client.call_tool("export_flow_runtime", {"flow_id": fid}))
        published = data(await client.call_tool("publish_flow", {"flow_id": fid}))
    assert exported["step_count"] == 2 and exported["definition"]["name"] == "Summ"
    assert published["published_version_id"] == "ver_pub_1"


async def test_export_without_plan_explains_the_403(fake: FakeRuntype, mode: str) -> None:
    fid = _flow(fake)
    fake.fail(
        "GET",
        "/flows/flow_a/export-runtime",
        403,
        body={"error": "Enterprise only", "code": "BYOC_PLAN_REQUIRED"},
    )
    async with connect(fake, mode) as client:
        res = await client.call_tool("export_flow_runtime", {"flow_id": fid})
    assert res.is_error and "Enterprise (BYOC) plan" in text(res)


async def test_flow_step_results_page_with_an_offset_cursor(fake: FakeRuntype, mode: str) -> None:
    fid = _flow(fake)
    fake.step_results = [
        {
            "id": f"sr{i}",
            "flowId": fid,
            "stepName": "Summarize",
            "stepType": "prompt",
            "status": "completed",
            "outputPreview": "o" * 900,
        }
        for i in range(5)
    ]
    async with connect(fake, mode) as client:
        first = data(await client.call_tool("list_flow_step_results", {"flow_id": fid, "limit": 3}))
        second = data(
            await client.call_tool(
                "list_flow_step_results", {"flow_id": fid, "limit": 3, "cursor": first["next_cursor"]}
            )
        )
        bad = await client.call_tool("list_flow_step_results", {"flow_id": fid, "cursor": "page:2"})
    assert [r["id"] for r in first["step_results"]] + [r["id"] for r in second["step_results"]] == [
        f"sr{i}" for i in range(5)
    ]
    assert first["next_cursor"] == "offset:3" and second["has_more"] is False
    assert len(first["step_results"][0]["output"]) == 300 and first["step_results"][0]["output_chars"] == 900
    assert "previews cut at 300" in first["note"]
    assert bad.is_error and "pass next_cursor exactly" in text(bad)


async def test_run_flow_returns_preview_steps_and_unresolved_variables(fake: FakeRuntype, mode: str) -> None:
    fid = _flow(fake)
    rec = fake.add_record("customer", "Acme")
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "run_flow", {"flow_id": fid, "record_id": rec["id"], "inputs": {"lang": "en"}}
            )
        )
        full = data(
            await client.call_tool("run_flow", {"flow_id": fid, "record_id": rec["id"], "full_output": True})
        )
    sent = json.loads(fake.sent("POST", "/v1/dispatch")[0].content)
    assert sent == {
        "flow": {"id": fid},
        "record": {"id": rec["id"]},
        "inputs": {"lang": "en"},
        "options": {"streamResponse": False, "versionType": "draft"},
    }
    assert out["status"] == "completed" and out["final_output"].startswith("summary of Acme")
    assert out["output_truncated"] is True and len(out["final_output"]) == 2000
    assert out["steps"][0]["unresolved_variables"] == ["colour"] and "did not resolve" in out["next"]
    assert len(full["final_output"]) > 3000


async def test_run_flow_async_then_poll_by_execution_id(fake: FakeRuntype, mode: str) -> None:
    fid = _flow(fake)
    async with connect(fake, mode) as client:
        started = data(await client.call_tool("run_flow", {"flow_id": fid, "wait": False}))
        polled = data(
            await client.call_tool("run_flow", {"flow_id": fid, "execution_id": started["execution_id"]})
        )
    assert fake.sent("POST", "/v1/dispatch")[0].headers["prefer"] == "respond-async"
    assert started["status"] == "queued" and 'execution_id="exec_1"' in started["next"]
    assert polled["status"] == "completed" and polled["final_output"] == {"answer": 42}


async def test_run_flow_rejects_reserved_input_names_locally(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("run_flow", {"flow_id": "flow_a", "inputs": {"_record": 1}})
    assert res.is_error and 'inputs["_record"]' in text(res)
    assert fake.requests == []


async def test_run_flow_is_never_resent_after_a_timeout(fake: FakeRuntype, mode: str) -> None:
    import httpx2

    fid = _flow(fake)
    fake.fail("POST", "/dispatch", exc=httpx2.ReadTimeout, times=3)
    async with connect(fake, mode) as client:
        res = await client.call_tool("run_flow", {"flow_id": fid, "record_id": "rec_1"})
    assert res.is_error and "get_record_results" in text(res)
    assert len(fake.sent("POST", "/v1/dispatch")) == 1


async def test_a_step_update_that_cannot_read_the_conditions_saves_nothing(
    fake: FakeRuntype, mode: str
) -> None:
    fid = "flow_x"
    # Runtype does not echo `when`; the stored flow has one, readable only from versions or the runtime export.
    fake.flows[fid] = {
        "id": fid,
        "name": "F",
        "flowSteps": [{"id": "s1", "name": "a", "type": "template", "order": 1, "config": {"template": "x"}}],
    }
    fake.fail("GET", "/flows/flow_x/versions", 500, times=20)
    fake.fail("GET", "/flows/flow_x/export-runtime", 500, times=20)
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "update_flow", {"flow_id": fid, "step_update": {"step": "a", "config": {"template": "y"}}}
        )
    assert res.is_error and text(res).startswith(
        "update_flow: nothing was saved: Step `when` conditions cannot"
    )
    assert text(res).endswith("pass steps= with every step (and its when) from get_flow.")
    assert fake.sent("PUT", "/v1/flows/flow_x") == []
