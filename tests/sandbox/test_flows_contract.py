"""Flows and runs contract (runtype-api.md §3, §6): the same expectations for the sandbox and the live API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.conftest import Api, wait_for

pytestmark = pytest.mark.anyio

SET_STEP = {"name": "Pick", "type": "set-variable", "config": {"variableName": "greeting", "value": "hi"}}


def update_step(key: str = "touched") -> dict[str, Any]:
    return {
        "name": "Mark",
        "type": "update-record",
        "config": {"recordId": "{{_record.id}}", "updates": {key: "{{_record.name}}"}},
    }


async def test_create_flow_assigns_step_ids_and_order(api: Api) -> None:
    flow = await api.create_flow(api.unique("flow"), [SET_STEP, update_step()])

    assert flow["id"]
    steps = flow["flowSteps"]
    assert [step["type"] for step in steps] == ["set-variable", "update-record"]
    assert all(step["id"] for step in steps)
    if api.is_sandbox:
        assert [step["order"] for step in steps] == [0, 1]
        assert all(step["id"].startswith("step_") for step in steps)


async def test_create_flow_accepts_flow_steps_too(api: Api) -> None:
    response = await api.client.post("/v1/flows", json={"name": api.unique("fs"), "flowSteps": [SET_STEP]})

    assert response.status_code in (200, 201)
    api.created_flows.append(response.json()["id"])
    assert len(response.json()["flowSteps"]) == 1


async def test_unknown_step_type_is_invalid_enum_listing_allowed_types(api: Api) -> None:
    body = {"name": api.unique("bad"), "steps": [SET_STEP, {"name": "x", "type": "telepathy"}]}

    response = await api.client.post("/v1/flows", json=body)

    assert response.status_code == 400
    detail = response.json()["details"][0]
    assert detail["code"] == "INVALID_ENUM"
    assert detail["path"] == "steps.1.type"
    if api.is_sandbox:
        assert "prompt" in detail["suggestion"] and "update-record" in detail["suggestion"]


async def test_step_without_name_is_missing_required_field(api: Api) -> None:
    response = await api.client.post(
        "/v1/flows", json={"name": api.unique("bad"), "steps": [{"type": "prompt"}]}
    )

    assert response.status_code == 400
    assert ("MISSING_REQUIRED_FIELD", "steps.0.name") in [
        (d["code"], d["path"]) for d in response.json()["details"]
    ]


async def test_get_flow_and_missing_flow(api: Api) -> None:
    flow = await api.create_flow(api.unique("get"), [SET_STEP])

    found = await api.client.get(f"/v1/flows/{flow['id']}")
    missing = await api.client.get("/v1/flows/flow_missing")

    assert found.status_code == 200
    assert found.json()["name"] == api.unique("get")
    assert missing.status_code == 404


async def test_list_flows_with_search_finds_it(api: Api) -> None:
    await api.create_flow(api.unique("listed"), [SET_STEP])

    body = (await api.client.get("/v1/flows", params={"search": api.unique("listed")})).json()

    assert [flow["name"] for flow in body["data"]] == [api.unique("listed")]
    assert "hasMore" in body["pagination"]


async def test_update_flow_replaces_the_step_list_and_returns_a_draft(api: Api) -> None:
    flow = await api.create_flow(api.unique("upd"), [SET_STEP, update_step()])

    response = await api.client.put(f"/v1/flows/{flow['id']}", json={"flowSteps": [update_step("other")]})

    assert response.status_code == 200
    assert response.json()["draftVersionId"]
    assert [step["name"] for step in response.json()["flowSteps"]] == ["Mark"]


async def test_publish_then_versions_show_the_published_one(api: Api) -> None:
    flow = await api.create_flow(api.unique("pub"), [SET_STEP])

    published = await api.client.post(f"/v1/flows/{flow['id']}/publish")
    versions = await api.client.get(f"/v1/flow-versions/{flow['id']}")

    assert published.status_code == 200
    assert published.json()["success"] is True
    version_id = published.json()["publishedVersionId"]
    assert versions.json()["publishedVersionId"] == version_id
    assert version_id in [version["id"] for version in versions.json()["versions"]]


async def test_export_runtime_inlines_steps_and_lists_host_dependencies(api: Api) -> None:
    api.sandbox_only("export-runtime needs an Enterprise plan on the live API")
    wait = {"name": "Wait", "type": "wait-until", "config": {"delayMs": 10}}
    flow = await api.create_flow(api.unique("rt"), [SET_STEP, wait])

    body = (await api.client.get(f"/v1/flows/{flow['id']}/export-runtime")).json()

    assert [step["type"] for step in body["steps"]] == ["set-variable", "wait-until"]
    assert body["hostDependencies"][0]["kind"] == "durable-pause-host"
    assert body["hostDependencies"][0]["steps"] == [body["steps"][1]["id"]]


async def test_delete_flow_cascades_its_step_results(api: Api) -> None:
    record = await api.create_record(api.unique("casc"), api.unique("customer"))
    flow = await api.create_flow(api.unique("casc"), [update_step()])
    await api.client.post("/v1/dispatch", json=dispatch_body(flow["id"], record["id"]))

    response = await api.client.delete(f"/v1/flows/{flow['id']}")

    assert 200 <= response.status_code < 300
    assert (await api.client.get(f"/v1/flows/{flow['id']}")).status_code == 404
    steps = (await api.client.get(f"/v1/records/{record['id']}/step-results")).json()["data"]
    assert [step for step in steps if step.get("flowId") == flow["id"]] == []


def dispatch_body(flow_id: str, record_id: str) -> dict[str, Any]:
    return {"flow": {"id": flow_id}, "record": {"id": record_id}, "options": {"streamResponse": False}}


async def test_dispatch_runs_a_saved_flow_on_a_record(api: Api) -> None:
    record = await api.create_record(api.unique("disp"), api.unique("customer"), {"tier": "gold"})
    flow = await api.create_flow(api.unique("disp"), [SET_STEP, update_step()])

    response = await api.client.post("/v1/dispatch", json=dispatch_body(flow["id"], record["id"]))

    body = response.json()
    assert response.status_code == 200
    assert body["success"] is True
    assert body["status"] == "completed"
    assert body["totalEvents"] == len(body["events"])
    completes = [event for event in body["events"] if event["type"] == "step_complete"]
    assert [event["name"] for event in completes] == ["Pick", "Mark"]
    assert completes[0]["result"] == "hi"
    updated = (await api.client.get(f"/v1/records/{record['id']}")).json()
    assert updated["metadata"] == {"tier": "gold", "touched": api.unique("disp")}


async def test_dispatch_stores_one_result_and_step_results_per_run(api: Api) -> None:
    record = await api.create_record(api.unique("res"), api.unique("customer"))
    flow = await api.create_flow(api.unique("res"), [SET_STEP, update_step()])
    await api.client.post("/v1/dispatch", json=dispatch_body(flow["id"], record["id"]))

    results = (
        await api.client.get(f"/v1/records/{record['id']}/results", params={"includeCount": "true"})
    ).json()
    steps = (await api.client.get(f"/v1/records/{record['id']}/step-results")).json()
    by_flow = (
        await api.client.get(f"/v1/flows/{flow['id']}/step-results", params={"recordId": record["id"]})
    ).json()
    costs = (await api.client.get(f"/v1/records/{record['id']}/costs")).json()

    assert len(results["data"]) == 1
    assert results["data"][0]["status"] == "completed"
    assert results["data"][0]["flowId"] == flow["id"]
    assert results["pagination"]["page"] == 1
    assert {step["stepName"] for step in steps["data"]} == {"Pick", "Mark"}
    assert steps["pagination"]["returned"] == 2
    assert len(by_flow["data"]) == 2
    assert costs["executionCount"] == 1


async def test_delete_record_result_takes_a_json_body(api: Api) -> None:
    record = await api.create_record(api.unique("dr"), api.unique("customer"))
    flow = await api.create_flow(api.unique("dr"), [SET_STEP])
    await api.client.post("/v1/dispatch", json=dispatch_body(flow["id"], record["id"]))
    result_id = (await api.client.get(f"/v1/records/{record['id']}/results")).json()["data"][0]["id"]

    response = await api.client.request(
        "DELETE", f"/v1/records/{record['id']}/results", json={"resultId": result_id}
    )
    again = await api.client.request(
        "DELETE", f"/v1/records/{record['id']}/results", json={"resultId": result_id}
    )

    assert 200 <= response.status_code < 300
    assert again.status_code == 404
    assert (await api.client.get(f"/v1/records/{record['id']}/results")).json()["data"] == []


async def test_dispatch_failed_step_reports_failure(api: Api) -> None:
    api.sandbox_only("needs a step the sandbox cannot run")
    record = await api.create_record(api.unique("fail"), api.unique("customer"))
    crawl = {"name": "Crawl", "type": "crawl", "config": {"url": "https://example.com"}}
    flow = await api.create_flow(api.unique("fail"), [crawl])

    body = (await api.client.post("/v1/dispatch", json=dispatch_body(flow["id"], record["id"]))).json()

    assert body["success"] is False
    assert body["status"] == "failed"
    assert "sandbox" in body["error"]
    result = (await api.client.get(f"/v1/records/{record['id']}/results")).json()["data"][0]
    assert result["status"] == "failed"


async def test_dispatch_inline_flow_with_inputs_and_new_record(api: Api) -> None:
    steps = [{"name": "Echo", "type": "set-variable", "config": {"variableName": "out", "value": "{{who}}"}}]
    body = {
        "flow": {"name": api.unique("inline"), "steps": steps},
        "record": {"type": api.unique("customer"), "name": api.unique("inline"), "metadata": {"a": 1}},
        "inputs": {"who": "world"},
        "options": {"streamResponse": False},
    }

    response = await api.client.post("/v1/dispatch", json=body)

    assert response.status_code == 200
    complete = next(event for event in response.json()["events"] if event["type"] == "step_complete")
    assert complete["result"] == "world"
    if response.json().get("recordId"):
        api.created_records.append(response.json()["recordId"])


async def test_dispatch_rejects_reserved_input_names(api: Api) -> None:
    api.sandbox_only()
    body = {
        "flow": {"name": "x", "steps": [SET_STEP]},
        "inputs": {"_secret": 1},
        "options": {"streamResponse": False},
    }

    response = await api.client.post("/v1/dispatch", json=body)

    assert response.status_code == 400
    assert response.json()["details"][0]["path"] == "inputs._secret"


async def test_dispatch_streams_server_sent_events_by_default(api: Api) -> None:
    api.sandbox_only()
    response = await api.client.post("/v1/dispatch", json={"flow": {"name": "x", "steps": [SET_STEP]}})

    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: execution_start" in response.text
    assert "event: execution_complete" in response.text


async def test_dispatch_respond_async_is_polled_to_completion(api: Api) -> None:
    record = await api.create_record(api.unique("async"), api.unique("customer"))
    flow = await api.create_flow(api.unique("async"), [SET_STEP])

    response = await api.client.post(
        "/v1/dispatch", json=dispatch_body(flow["id"], record["id"]), headers={"Prefer": "respond-async"}
    )

    assert response.status_code == 202
    handle = response.json()

    async def finished() -> dict[str, Any] | None:
        status = (await api.client.get(f"/v1/executions/{handle['executionId']}/status")).json()
        return status if status["status"] in ("completed", "failed") else None

    status = await wait_for(finished, seconds=60)
    assert status["status"] == "completed"
    if api.is_sandbox:
        assert status["result"]["success"] is True


async def test_validate_reports_errors_and_sandbox_warnings(api: Api) -> None:
    body = {
        "name": "v",
        "steps": [{"name": "p", "type": "prompt", "config": {"userPrompt": "{{missing}}"}}, {"name": "bad"}],
    }

    response = await api.client.post("/v1/public/flows/validate", json=body)

    report = response.json()
    assert response.status_code == 200
    assert report["valid"] is False
    assert report["errors"]
    assert set(report["context"]) >= {"authenticated"}
    if api.is_sandbox:
        assert report["errors"][0]["path"] == "steps.1.type"
        assert report["errors"][0]["step"]["index"] == 1
        assert any(w["code"] == "UNDEFINED_VARIABLE" for w in report["warnings"])
        assert any(r["code"] == "MODEL_NOT_SET" for r in report["recommendations"])


async def test_run_on_record_type_runs_inline_and_reports_each_record(api: Api) -> None:
    record_type = api.unique("rort")
    for index in range(2):
        await api.create_record(f"r{index}", record_type)
    flow = await api.create_flow(api.unique("rort"), [update_step()])

    response = await api.client.post(
        f"/v1/flows/{flow['id']}/run-on-record-type", json={"recordType": record_type}
    )

    body = response.json()
    assert response.status_code == 200
    assert body["executedImmediately"] is True
    assert body["recordCount"] == 2
    assert body["successCount"] == 2
    assert {result["recordName"] for result in body["results"]} == {"r0", "r1"}
    status = (await api.client.get(f"/v1/batch/status/{body['batchId']}")).json()
    if api.is_sandbox:
        assert status["status"] == "completed"
        assert status["progress"] == 100


async def test_run_on_record_type_with_no_records_is_200_with_zero(api: Api) -> None:
    flow = await api.create_flow(api.unique("empty"), [SET_STEP])

    response = await api.client.post(
        f"/v1/flows/{flow['id']}/run-on-record-type", json={"recordType": api.unique("nothing")}
    )

    assert response.status_code == 200
    assert response.json()["recordCount"] == 0


async def test_run_on_record_type_needs_record_type(api: Api) -> None:
    flow = await api.create_flow(api.unique("rt"), [SET_STEP])

    response = await api.client.post(f"/v1/flows/{flow['id']}/run-on-record-type", json={})

    assert response.status_code == 400
    assert response.json()["details"][0]["path"] == "recordType"


async def test_run_on_missing_flow_is_404(api: Api) -> None:
    response = await api.client.post("/v1/flows/flow_missing/run-on-record-type", json={"recordType": "x"})

    assert response.status_code == 404


async def test_auth_me_answers(api: Api) -> None:
    response = await api.client.get("/v1/auth/me")

    assert response.status_code == 200


async def test_a_when_the_engine_cannot_run_is_refused_at_save_listing_what_is_supported(api: Api) -> None:
    step = {
        "name": "Route",
        "type": "conditional",
        "config": {
            "condition": "Number(score) > 80",
            "trueSteps": [
                {"name": "X", "type": "template", "config": {"template": "x"}, "when": "score => 1"}
            ],
        },
    }
    api.sandbox_only("the sandbox refuses at save what its engine cannot run")
    response = await api.client.post("/v1/flows", json={"name": api.unique("bad when"), "steps": [step]})
    assert response.status_code == 400
    (detail,) = response.json()["details"]
    assert detail["path"] == "steps.0.config.trueSteps.0.when"
    assert "Number()" in detail["suggestion"] and ".includes()" in detail["suggestion"]


async def test_a_virtual_run_stores_nothing_and_its_steps_see_their_own_writes(api: Api) -> None:
    record = await api.create_record(api.unique("virtual"), "virtual_run", {"tier": "silver"})
    steps = [
        {"name": "Save", "type": "update-record", "config": {"updates": {"tier": "gold"}}},
        {"name": "Read", "type": "template", "config": {"template": "{{_record.metadata.tier}}"}},
    ]
    flow = await api.create_flow(api.unique("virtual"), steps)
    body = {
        "flow": {"id": flow["id"]},
        "record": {"id": record["id"]},
        "options": {"streamResponse": False, "recordMode": "virtual", "storeResults": False},
    }
    ran = (await api.client.post("/v1/dispatch", json=body)).json()
    after = (await api.client.get(f"/v1/records/{record['id']}")).json()
    results = (await api.client.get(f"/v1/records/{record['id']}/results")).json()
    assert ran["success"] is True and ran["events"][-1]["finalOutput"] == "gold"
    assert after["metadata"] == {"tier": "silver"}
    assert results["data"] == []
