"""The official SDK, over loopback HTTP, gets from the sandbox exactly the bodies its own types declare.

Each test drives `runtype-mcp sandbox serve` (in a thread, on a free 127.0.0.1 port) with the SDK's
generated client wherever that client can express the call; the conftest hook validates every 2xx
JSON body against the type the SDK declares for the endpoint, so a passing call means "the SDK parses
it". Where the SDK cannot send or read a call, `raw` (plain httpx) sends it and `ledger.validate`
applies the same declared type.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.contract.conftest import SKIP_REASON, Ledger

runtype = pytest.importorskip("runtype", reason=SKIP_REASON)

STEPS: list[dict[str, Any]] = [
    {
        "id": "step_label",
        "name": "Label",
        "type": "prompt",
        "order": 0,
        "config": {
            "model": "sandbox-default",
            "userPrompt": "Label {{_record.name}}",
            "outputVariable": "label",
        },
    },
    {
        "id": "step_save",
        "name": "Save",
        "type": "update-record",
        "order": 1,
        "config": {"recordId": "{{_record.id}}", "updates": {"label": "{{label}}"}},
    },
]


def _records(raw: Any, record_type: str, count: int) -> list[str]:
    ids = []
    for index in range(count):
        response = raw.post(
            "/v1/records",
            json={"type": record_type, "name": f"{record_type}-{index}", "metadata": {"n": index}},
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def _flow(generated: Any, name: str) -> str:
    flow = generated.flows.create_flow(name=name, steps=STEPS)
    assert [step.name for step in flow.flow_steps] == ["Label", "Save"]
    return str(flow.id)


def test_the_records_lifecycle_parses_with_the_generated_client(generated: Any) -> None:
    api = generated.records
    created = api.create_record(type="contract_rec", name="Ada", metadata={"tier": "gold", "score": 3})
    assert created.id and created.name == "Ada"
    got = api.get_record_details(created.id)
    assert got.metadata == {"tier": "gold", "score": 3}
    updated = api.update_record(created.id, metadata={"tier": "silver"})
    assert updated.metadata["tier"] == "silver"
    page = api.list_records(type="contract_rec", limit=5, include_count=True, view="compact")
    assert [row.id for row in page.data] == [created.id]
    assert api.get_record_costs(created.id).execution_count == 0
    assert api.get_record_results(created.id, include_count=True).data == []
    assert api.get_record_step_results(created.id, limit=5).data == []
    api.delete_record(created.id)
    from runtype._generated.core.api_error import ApiError

    with pytest.raises(ApiError) as gone:
        api.get_record_details(created.id)
    assert gone.value.status_code == 404


def test_record_queries_and_bulk_edits_parse_with_the_generated_client(generated: Any, raw: Any) -> None:
    api = generated.records
    ids = _records(raw, "contract_bulk", 3)
    values = api.get_field_values(type="contract_bulk", field="n", limit=5)
    assert sorted(item.value for item in values.values) == [0, 1, 2]
    schema = api.discover_record_schema(type="contract_bulk", sample="10")
    assert [field["name"] for field in schema.fields] == ["n"]
    preview = api.preview_record_filter(type="contract_bulk", where={"field": "n", "op": "gte", "value": 1})
    assert preview.matched_count == 2
    edit = api.bulk_edit_records(record_ids=ids, updates={"flag": True}, dry_run=True)
    assert sorted(edit.record_ids) == sorted(ids) and len(edit.data) == 3
    deleted = api.bulk_delete_records(ids=[*ids, "rec_missing"])
    assert deleted.deleted == 3


def test_csv_export_is_served_as_csv_which_the_sdk_declares_as_any(raw: Any, ledger: Ledger) -> None:
    # The generated `export_records_as_csv` declares `typing.Any` and calls `.json()` on the body, so it
    # cannot read the CSV the API sends (the SDK's own limitation); the sandbox follows the API.
    _records(raw, "contract_csv", 2)
    response = raw.get("/v1/records/export", params={"type": "contract_csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0].startswith("id,type,name")
    ledger.validate("GET", "/v1/records/export", response.text)


def test_flows_crud_publish_and_versions_parse_with_the_generated_client(generated: Any) -> None:
    flows = generated.flows
    flow_id = _flow(generated, "contract flow crud")
    assert flows.get_flow_details(flow_id).name == "contract flow crud"
    assert any(row.id == flow_id for row in flows.list_flows(search="contract flow crud").data)
    updated = flows.update_flow(flow_id, description="updated")
    assert updated.description == "updated"
    assert flows.export_flow_for_runtime_limited_preview(flow_id).id == flow_id
    assert flows.publish_flow(flow_id).success is True
    versions = generated.flow_versions.list_versions_for_a_flow(flow_id)
    assert versions.published_version_id is not None
    published = generated.flow_versions.get_the_published_version_for_a_flow(flow_id)
    assert published.id == versions.published_version_id and published.flow_config
    draft = generated.flow_versions.get_a_specific_flow_version(flow_id, versions.versions[-1].id)
    assert draft.flow_id == flow_id
    assert flows.list_flow_step_results(flow_id, limit=5).data == []
    flows.delete_flow(flow_id)


def test_run_on_record_type_inline_200_parses_with_the_generated_client(generated: Any, raw: Any) -> None:
    _records(raw, "contract_inline", 2)
    flow_id = _flow(generated, "contract inline run")
    run = generated.flows.run_flow_on_records_of_a_type(flow_id, record_type="contract_inline")
    assert run.executed_immediately is True and run.success_count == 2
    status = generated.batch.get_batch_execution_status(run.batch_id)
    assert status.status == "completed"


def test_run_on_record_type_scheduled_202_parses_with_the_generated_client(generated: Any, raw: Any) -> None:
    # The SDK contradicts itself here: its docstring documents a 202 `{batchId, status: "scheduled"}`
    # for large record sets, while the only declared response type requires `completedAt`,
    # `failureCount`, `results` and `successCount`. Choice: the sandbox's 202 body carries them all
    # (`results: []`, counts 0, `completedAt` = the scheduling time, not a completion), so the SDK
    # parses both paths; `executedImmediately: false` and `status: "scheduled"` say what happened.
    _records(raw, "contract_batch", 12)
    flow_id = _flow(generated, "contract scheduled run")
    run = generated.flows.run_flow_on_records_of_a_type(flow_id, record_type="contract_batch")
    assert run.executed_immediately is False and run.status == "scheduled" and run.results == []
    status = generated.batch.get_batch_execution_status(run.batch_id)
    assert status.total_records == 12


def test_flow_validation_result_parses_with_the_generated_client(generated: Any) -> None:
    result = generated.flow_validation.validate_a_prospective_flow_payload(
        request={"name": "contract validate", "steps": STEPS}
    )
    assert result.valid is True


def test_step_type_documentation_and_models_parse_with_the_generated_client(generated: Any) -> None:
    doc = generated.documentation.get_platform_documentation(topic="types-flow-steps")
    assert "conditional" in doc.content
    models = generated.model_configs.get_grouped_models()
    assert models.total == 1 and models.data[0].providers[0].model_id == "sandbox-default"


def test_auth_me_parses_with_the_generated_client(generated: Any) -> None:
    me = generated.authentication.get_current_user_info()
    assert me.user_id and me.has_organization is True


def _events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]


def test_every_dispatch_stream_event_parses_as_the_sdks_execution_stream_event(
    generated: Any, raw: Any, ledger: Ledger
) -> None:
    record_id = _records(raw, "contract_dispatch", 1)[0]
    flow_id = _flow(generated, "contract dispatch")
    response = raw.post("/v1/dispatch", json={"flow": {"id": flow_id}, "record": {"id": record_id}})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    for event in events:
        ledger.validate("POST", "/v1/dispatch", event)
    assert [e["type"] for e in events] == [
        "execution_start",
        "step_start",
        "step_complete",
        "step_start",
        "step_complete",
        "execution_complete",
    ]
    assert [e["seq"] for e in events] == sorted({e["seq"] for e in events})


def test_the_generated_dispatch_client_yields_typed_events(generated: Any, raw: Any) -> None:
    record_id = _records(raw, "contract_dispatch_sdk", 1)[0]
    flow_id = _flow(generated, "contract dispatch sdk")
    from runtype._generated.dispatch import PostV1DispatchRequestZero

    request = PostV1DispatchRequestZero.model_validate({"flow": {"id": flow_id}, "record": {"id": record_id}})
    events = list(generated.dispatch.execute_a_flow_or_agent(request=request))
    assert type(events[0]).__name__ == "ExecutionStreamEvent_ExecutionStart"
    assert events[-1].type == "execution_complete" and events[-1].success is True


def test_a_failed_dispatch_ends_with_an_execution_error_the_sdk_parses(raw: Any, ledger: Ledger) -> None:
    # A crawl needs the network, which the sandbox never uses: the step fails at run time.
    steps = [{"name": "Crawl", "type": "crawl", "order": 0, "config": {"url": "https://example.com"}}]
    response = raw.post("/v1/dispatch", json={"flow": {"name": "contract broken", "steps": steps}})
    assert response.status_code == 200, response.text
    events = _events(response.text)
    parsed = [ledger.validate("POST", "/v1/dispatch", event) for event in events]
    assert parsed[-1].type == "execution_error"
    assert parsed[-1].error.code == "FLOW_FAILED" and parsed[-1].error.message


def test_dispatch_json_body_events_parse_and_the_async_handle_polls(
    generated: Any, raw: Any, ledger: Ledger
) -> None:
    flow_id = _flow(generated, "contract dispatch json")
    body = {"flow": {"id": flow_id}, "options": {"streamResponse": False}}
    response = raw.post("/v1/dispatch", json=body)
    assert response.status_code == 200, response.text
    for event in response.json()["events"]:
        ledger.validate("POST", "/v1/dispatch", event)
    handle = raw.post("/v1/dispatch", json=body, headers={"Prefer": "respond-async"})
    assert handle.status_code == 202, handle.text
    status = generated.executions.poll_an_asynchronous_execution(handle.json()["executionId"])
    assert status.execution_id == handle.json()["executionId"]


def test_the_handwritten_client_reads_records_flows_and_the_dispatch_stream(
    handwritten: Any, generated: Any, raw: Any
) -> None:
    record_id = _records(raw, "contract_hand", 1)[0]
    assert handwritten.records.get(record_id).id == record_id
    assert any(r.id == record_id for r in handwritten.records.list(limit=50).data)
    flow_id = _flow(generated, "contract handwritten")
    assert handwritten.flows.get(flow_id).id == flow_id
    events = list(handwritten.dispatch({"flow": {"id": flow_id}, "record": {"id": record_id}}))
    assert events and events[-1]["type"] == "execution_complete"


def test_the_handwritten_patch_update_is_refused_with_a_405_naming_put(handwritten: Any, raw: Any) -> None:
    # The hand-written overlay updates with PATCH /records/{id} and reads /flows/{id}/steps; the
    # generated client (Fern, from the API definition) uses PUT and has no /flows/{id}/steps.
    # Choice: the API definition wins; the sandbox serves PUT and answers PATCH with a 405 naming it.
    record_id = _records(raw, "contract_patch", 1)[0]
    response = raw.patch(f"/v1/records/{record_id}", json={"metadata": {"a": 1}})
    assert response.status_code == 405 and "PUT" in response.json()["error"]
    with pytest.raises(runtype.APIError):
        handwritten.records.update(record_id, metadata={"a": 1})


def test_the_generated_csv_upload_sends_file_as_a_form_field_and_the_sandbox_imports_it(
    generated: Any, raw: Any
) -> None:
    # The generated `upload_csv_records` sends `file` as an ordinary multipart field holding the CSV
    # text JSON-encoded (`json.dumps`), not as a file part; the sandbox accepts that and a file part.
    result = generated.records.upload_csv_records(
        file="name,tier\nUna,gold\nBo,silver\n", name_column="name", type_value="contract_upload"
    )
    assert result.success is True
    listed = raw.get("/v1/records", params={"type": "contract_upload", "limit": 10}).json()["data"]
    assert sorted((r["name"], r["metadata"]["tier"]) for r in listed) == [("Bo", "silver"), ("Una", "gold")]


def test_list_parameters_the_sdk_defines_are_implemented_or_refused_with_a_detail(
    generated: Any, raw: Any
) -> None:
    _records(raw, "contract_params", 1)
    page = generated.records.list_records(type="contract_params", include_fields="true")
    assert page.data[0].available_fields == ["n"]
    assert generated.records.list_records(type="contract_params", product_surface_id="ps_1").data == []
    for name in ("distinct", "metadata_types", "has_large_fields"):
        response = raw.get("/v1/records", params={"type": "contract_params", name: "true"})
        assert response.status_code == 400, name
        assert response.json()["details"][0]["path"] == name


def test_the_handwritten_list_parameters_outside_the_api_definition_are_refused_by_name(
    handwritten: Any,
) -> None:
    with pytest.raises(runtype.APIError) as refused:
        handwritten.records.list(include_fields=True, sort_by="name", sort_order="asc")
    paths = {d["path"] for d in refused.value.response_body["details"]}
    assert paths == {"include_fields", "sort_by", "sort_order"}


def test_dispatch_accepts_the_sdks_identity_labels_and_refuses_what_the_sandbox_cannot_run(
    generated: Any, raw: Any
) -> None:
    flow_id = _flow(generated, "contract dispatch keys")
    labels = {
        "conversationId": "conv_1",
        "endUser": {"id": "u1"},
        "tenant": {"id": "t1"},
        "history": "inline",
    }
    body = {"flow": {"id": flow_id}, "options": {"streamResponse": False}, **labels}
    response = raw.post("/v1/dispatch", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["conversationId"] == "conv_1"
    refused = {"agent": {"id": "a"}, "clientTools": [], "credentialProxies": [], "history": "stored"}
    response = raw.post("/v1/dispatch", json={**body, **refused})
    assert response.status_code == 400
    details = response.json()["details"]
    assert {d["path"] for d in details} == {"agent", "clientTools", "credentialProxies", "history"}
    assert {d["code"] for d in details} == {"UNSUPPORTED_IN_SANDBOX"}


def _finished(generated: Any, batch_id: str) -> Any:
    """The batch status once the batch is no longer scheduled or running (bounded poll of a real server)."""
    deadline = time.monotonic() + 30
    while True:
        status = generated.batch.get_batch_execution_status(batch_id)
        if status.status not in ("scheduled", "running"):
            return status
        assert time.monotonic() < deadline, f"batch {batch_id} still {status.status} after 30 s"
        time.sleep(0.02)


def test_a_batch_of_given_and_inline_records_runs_and_reports_costs_and_steps(
    generated: Any, raw: Any
) -> None:
    ids = _records(raw, "contract_batch_flow", 2)
    flow_id = _flow(generated, "contract batch flow")
    submitted = generated.batch.submit_a_batch_flow_execution(
        flow_id=flow_id,
        record_ids=ids,
        records=[{"type": "contract_inline_rec", "name": "inline", "metadata": {"x": 1}}],
        inputs={"greeting": "hi"},
    )
    status = _finished(generated, submitted.batch_execution_id)
    # The inline record is never saved, so the flow's update-record step on it fails: 1 failed of 3.
    assert (status.status, status.total_records, status.processed_records, status.failed_records) == (
        "completed",
        3,
        3,
        1,
    )
    labels = [raw.get(f"/v1/records/{i}").json()["metadata"]["label"] for i in ids]
    assert all("Label contract_batch_flow" in label for label in labels)
    assert raw.get("/v1/records", params={"type": "contract_inline_rec"}).json()["data"] == []
    cost = generated.batch.get_batch_execution_total_cost(submitted.batch_execution_id)
    assert cost.total_cost_usd == 0.0 and cost.unpriced_executions == 0
    one = generated.batch.get_per_record_cost_for_a_batch(submitted.batch_execution_id, ids[0])
    assert one.record_id == ids[0]
    steps = generated.batch.get_step_results_for_a_batch_record(submitted.batch_execution_id, ids[0])
    assert [step.step_name for step in steps.data] == ["Label", "Save"]
    summary = generated.batch.get_batch_summary()
    assert any(item.id == submitted.batch_execution_id for item in summary.recent)


def test_a_batch_of_an_inline_flow_definition_runs_without_a_saved_flow(generated: Any, raw: Any) -> None:
    ids = _records(raw, "contract_batch_def", 1)
    submitted = generated.batch.submit_a_batch_flow_execution(
        flow_definition={"name": "inline def", "steps": STEPS[:1]}, record_ids=ids
    )
    status = _finished(generated, submitted.batch_execution_id)
    assert (status.status, status.flow_id, status.processed_records) == ("completed", "", 1)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> None:
    """A record named "hold" runs until its batch is cancelled; every other record runs normally."""
    import anyio

    from runtype_mcp.sandbox import batches

    real = batches.run_flow

    async def run_flow(db: Any, run: Any, record: Any, inputs: Any) -> Any:
        if record and record.get("name") == "hold":
            await anyio.Event().wait()  # never set: ends only by cancellation
        return await real(db, run, record, inputs)

    monkeypatch.setattr(batches, "run_flow", run_flow)


@pytest.mark.usefixtures("held")
def test_cancel_stops_a_running_batch_and_says_how_many_records_were_done(generated: Any, raw: Any) -> None:
    flow_id = _flow(generated, "contract cancel")
    inline = [{"type": "contract_cancel", "name": name, "metadata": {}} for name in ("a", "b", "hold")]
    submitted = generated.batch.submit_a_batch_flow_execution(flow_id=flow_id, records=inline)
    batch_id = submitted.batch_execution_id
    deadline = time.monotonic() + 30
    while generated.batch.get_batch_execution_status(batch_id).processed_records < 2:
        assert time.monotonic() < deadline, "the two free records did not finish"
        time.sleep(0.02)
    summary = generated.batch.get_batch_summary()
    assert any(item.id == batch_id for item in summary.batches)
    cancelled = generated.batch.cancel_a_batch_execution(batch_id)
    assert cancelled.success is True and "2 of 3" in cancelled.message
    status = generated.batch.get_batch_execution_status(batch_id)
    assert (status.status, status.processed_records) == ("cancelled", 2)
    again = raw.post(f"/v1/batch/cancel/{batch_id}")
    assert again.status_code == 409 and again.json()["batchStatus"] == "cancelled"


def test_ensure_creates_probes_plans_converges_and_pull_returns_the_same_definition(
    generated: Any, raw: Any
) -> None:
    flows = generated.flows
    name = "contract ensure"
    definition = {"name": name, "steps": STEPS}
    created = flows.ensure_flow_config_as_code_converge(
        name=name, definition=definition, version={"label": "abc123"}
    )
    assert created.result == "created"
    probe = flows.ensure_flow_config_as_code_converge(name=name, content_hash=created.content_hash)
    assert (probe.result, probe.flow_id) == ("unchanged", created.flow_id)
    assert (
        flows.ensure_flow_config_as_code_converge(name=name, content_hash="sha256:other").result
        == "definitionRequired"
    )
    changed = {"name": name, "steps": STEPS[:1]}
    plan = flows.ensure_flow_config_as_code_converge(name=name, definition=changed, dry_run=True)
    assert (plan.result, plan.changes, plan.changed_keys) == ("plan", "update", ["steps"])
    updated = flows.ensure_flow_config_as_code_converge(name=name, definition=changed, release="publish")
    assert updated.result == "updated" and updated.content_hash != created.content_hash
    pulled = flows.pull_flow_definition_config_as_code(name=name)
    assert (pulled.flow_id, pulled.content_hash) == (created.flow_id, updated.content_hash)
    assert [step.name for step in pulled.definition.steps] == ["Label"]
    versions = generated.flow_versions.list_versions_for_a_flow(created.flow_id)
    assert versions.published_version_id == updated.version_id


def test_ensure_refuses_to_overwrite_an_edit_made_outside_it_unless_told_to(generated: Any, raw: Any) -> None:
    from runtype._generated.core.api_error import ApiError

    flows = generated.flows
    name = "contract ensure conflict"
    created = flows.ensure_flow_config_as_code_converge(name=name, definition={"name": name, "steps": STEPS})
    assert (
        raw.put(f"/v1/flows/{created.flow_id}", json={"description": "edited in the dashboard"}).status_code
        == 200
    )
    with pytest.raises(ApiError) as conflict:
        flows.ensure_flow_config_as_code_converge(name=name, definition={"name": name, "steps": STEPS})
    assert conflict.value.status_code == 409 and conflict.value.body["code"] == "external_modification"
    over = flows.ensure_flow_config_as_code_converge(
        name=name, definition={"name": name, "steps": STEPS}, on_conflict="overwrite"
    )
    assert over.result == "updated"
    assert raw.get(f"/v1/flows/{created.flow_id}").json()["description"] is None
