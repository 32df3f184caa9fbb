"""Runs through the real engine: record steps see their own writes, results are stored once per run."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from runtype_mcp.sandbox import Sandbox

pytestmark = pytest.mark.anyio

Client = tuple[Sandbox, httpx2.AsyncClient]


async def dispatch(client: httpx2.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        "/v1/dispatch", json={**body, "options": {"streamResponse": False, **body.get("options", {})}}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def results_by_step(body: dict[str, Any]) -> dict[str, Any]:
    return {
        event["name"]: event for event in body["events"] if event["type"] in ("step_complete", "step_skip")
    }


async def test_record_steps_read_their_own_writes_within_a_run(sb: Client) -> None:
    _, client = sb
    record = (
        await client.post("/v1/records", json={"name": "acme", "type": "account", "metadata": {"n": 1}})
    ).json()
    steps = [
        {"name": "Bump", "type": "update-record", "config": {"updates": {"n": 2}}},
        {
            "name": "Read",
            "type": "get-record",
            "config": {"recordId": record["id"], "outputVariable": "fresh"},
        },
        {
            "name": "Make",
            "type": "set-variable",
            "config": {"variableName": "doc", "value": {"owner": "acme"}},
        },
        {
            "name": "Save",
            "type": "upsert-record",
            "config": {"recordType": "summary", "recordName": "for-acme", "sourceVariable": "doc"},
        },
        {"name": "List", "type": "list-records", "config": {"recordType": "summary"}},
    ]

    body = await dispatch(client, {"flow": {"name": "f", "steps": steps}, "record": {"id": record["id"]}})

    by_step = results_by_step(body)
    assert body["success"] is True, body
    assert by_step["Read"]["result"]["metadata"] == {"n": 2}
    assert [r["name"] for r in by_step["List"]["result"]] == ["for-acme"]
    stored = (await client.get("/v1/records", params={"type": "summary"})).json()["data"]
    assert [(r["name"], r["metadata"]) for r in stored] == [("for-acme", {"owner": "acme"})]
    assert (await client.get(f"/v1/records/{record['id']}")).json()["metadata"] == {"n": 2}


async def test_upsert_without_a_name_creates_a_new_record_each_run(sb: Client) -> None:
    _, client = sb
    steps = [
        {"name": "Doc", "type": "set-variable", "config": {"variableName": "doc", "value": {"k": "v"}}},
        {"name": "Save", "type": "upsert-record", "config": {"recordType": "log", "sourceVariable": "doc"}},
    ]

    for _ in range(2):
        await dispatch(client, {"flow": {"name": "f", "steps": steps}})

    logs = (await client.get("/v1/records", params={"type": "log"})).json()["data"]
    assert len(logs) == 2
    assert all(log["metadata"] == {"k": "v"} and log["name"] == log["id"] for log in logs)


async def test_disabled_and_when_false_steps_are_recorded_as_skipped(sb: Client) -> None:
    _, client = sb
    record = (await client.post("/v1/records", json={"name": "r", "type": "t"})).json()
    flow = (
        await client.post(
            "/v1/flows",
            json={
                "name": "skips",
                "steps": [
                    {
                        "name": "Off",
                        "type": "set-variable",
                        "enabled": False,
                        "config": {"variableName": "a", "value": 1},
                    },
                    {
                        "name": "Never",
                        "type": "set-variable",
                        "when": "false",
                        "config": {"variableName": "b", "value": 1},
                    },
                    {"name": "On", "type": "set-variable", "config": {"variableName": "c", "value": 1}},
                ],
            },
        )
    ).json()
    assert all("when" not in step for step in flow["flowSteps"])

    body = await dispatch(client, {"flow": {"id": flow["id"]}, "record": {"id": record["id"]}})

    assert [event["type"] for event in body["events"] if event["type"].startswith("step_")] == [
        "step_skip",
        "step_skip",
        "step_start",
        "step_complete",
    ]
    steps = (
        await client.get(
            f"/v1/flows/{flow['id']}/step-results", params={"sortBy": "order", "sortOrder": "asc"}
        )
    ).json()
    assert [(s["stepName"], s["status"]) for s in steps["data"]] == [
        ("Off", "skipped"),
        ("Never", "skipped"),
        ("On", "completed"),
    ]
    skipped = (await client.get(f"/v1/flows/{flow['id']}/step-results", params={"status": "skipped"})).json()
    assert len(skipped["data"]) == 2


async def test_dispatch_can_run_the_published_version(sb: Client) -> None:
    _, client = sb
    first = [{"name": "V", "type": "set-variable", "config": {"variableName": "v", "value": "one"}}]
    second = [{"name": "V", "type": "set-variable", "config": {"variableName": "v", "value": "two"}}]
    flow = (await client.post("/v1/flows", json={"name": "versions", "steps": first})).json()
    unpublished = await client.post(
        "/v1/dispatch",
        json={"flow": {"id": flow["id"]}, "options": {"streamResponse": False, "versionType": "published"}},
    )
    published_id = (await client.post(f"/v1/flows/{flow['id']}/publish")).json()["publishedVersionId"]
    again = (await client.post(f"/v1/flows/{flow['id']}/publish")).json()
    await client.put(f"/v1/flows/{flow['id']}", json={"flowSteps": second})

    draft = await dispatch(client, {"flow": {"id": flow["id"]}})
    published = await dispatch(client, {"flow": {"id": flow["id"]}, "options": {"versionType": "published"}})
    pinned = await dispatch(client, {"flow": {"id": flow["id"]}, "options": {"flowVersionId": published_id}})
    missing = await client.post(
        "/v1/dispatch",
        json={"flow": {"id": flow["id"]}, "options": {"streamResponse": False, "flowVersionId": "flowver_x"}},
    )

    assert unpublished.status_code == 404
    assert again["publishedVersionId"] == published_id
    assert draft["executionSummary"]["finalOutput"] == "two"
    assert published["executionSummary"]["finalOutput"] == "one"
    assert pinned["executionSummary"]["finalOutput"] == "one"
    assert missing.status_code == 404
    drafts = (await client.get(f"/v1/flow-versions/{flow['id']}", params={"type": "draft"})).json()[
        "versions"
    ]
    assert [v["versionNumber"] for v in drafts] == [2]


async def test_virtual_record_runs_without_storing_anything(sb: Client) -> None:
    _, client = sb
    steps = [{"name": "Say", "type": "prompt", "config": {"userPrompt": "Hello {{_record.metadata.who}}"}}]

    body = await dispatch(
        client,
        {
            "flow": {"name": "virtual", "steps": steps},
            "record": {"type": "ghost", "name": "casper", "metadata": {"who": "Casper"}},
            "options": {"recordMode": "virtual"},
        },
    )

    assert body["recordId"] is None
    assert "Hello Casper" in body["executionSummary"]["finalOutput"]
    assert "sandbox model" in body["executionSummary"]["finalOutput"]
    assert (await client.get("/v1/records", params={"type": "ghost"})).json()["data"] == []


async def test_prompt_tokens_show_up_in_costs(sb: Client) -> None:
    _, client = sb
    record = (await client.post("/v1/records", json={"name": "r", "type": "t"})).json()
    steps = [{"name": "Say", "type": "prompt", "config": {"model": "m1", "userPrompt": "one two three"}}]

    await dispatch(client, {"flow": {"name": "f", "steps": steps}, "record": {"id": record["id"]}})
    costs = (await client.get(f"/v1/records/{record['id']}/costs")).json()

    assert costs["executionCount"] == 1
    assert costs["promptTokens"] == 3
    assert costs["totalTokens"] > 3
    assert costs["modelBreakdown"][0]["model"] == "m1"
    assert costs["totalCost"] == 0


async def test_secrets_are_rejected(sb: Client) -> None:
    _, client = sb

    response = await client.post(
        "/v1/dispatch",
        json={
            "flow": {"name": "f", "steps": []},
            "secrets": {"KEY": "v"},
            "options": {"streamResponse": False},
        },
    )

    assert response.status_code == 400
    assert response.json()["code"] == "RUNTIME_FLOW_TRANSIENT_SECRETS_UNSUPPORTED"


async def test_nan_in_a_body_is_rejected_not_stored(sb: Client) -> None:
    _, client = sb

    response = await client.post(
        "/v1/records",
        content=b'{"name": "n", "type": "t", "metadata": {"x": NaN}}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["details"][0]["code"] == "INVALID_FORMAT"
