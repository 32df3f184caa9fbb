"""Flows a model gets right the first time (issue 12): the step reference, checks before saving,
every `when` shown, one-step edits, versions out loud. Through a real MCP client against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.conftest import connect, data, sandbox, text
from tests.fakes import FakeRuntype

pytestmark = pytest.mark.anyio


async def call(client: Client, tool: str, args: dict[str, Any]) -> Any:
    return data(await client.call_tool(tool, args))


def _by_type(reference: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["type"]: entry for entry in reference["step_types"]}


async def test_get_step_types_documents_keys_examples_outputs_and_the_expression_language() -> None:
    async with sandbox() as client:
        ref = await call(client, "get_step_types", {})
        one = await call(client, "get_step_types", {"type": "conditional"})
        wrong = await client.call_tool("get_step_types", {"type": "conditionl"})
    types = _by_type(ref)
    assert ref["source"] == "Runtype documentation", "the sandbox serves GET /v1/documentation"
    assert len(types) == 30
    assert "userPrompt" in types["prompt"]["required"] and "model" in types["prompt"]["optional"]
    assert "outputVariable" in types["prompt"]["writes"]
    assert types["conditional"]["example"]["config"]["condition"]
    assert "Number()" in ref["scope"]["expressions"] and "_record" in ref["scope"]["templates"]
    assert [e["type"] for e in one["step_types"]] == ["conditional"]
    assert wrong.is_error and 'did you mean "conditional"' in text(wrong)


async def test_get_step_types_falls_back_to_the_built_in_reference_when_the_api_has_no_docs(
    fake: FakeRuntype,
) -> None:
    async with connect(fake) as client:
        ref = await call(client, "get_step_types", {"type": "update-record"})
    assert ref["source"].startswith("built-in reference")
    assert "updates" in ref["step_types"][0]["required"]


async def test_a_branching_flow_written_from_the_reference_saves_first_time_and_shows_every_when() -> None:
    async with sandbox() as client:
        types = _by_type(await call(client, "get_step_types", {}))
        classify = {**types["prompt"]["example"], "when": "_record.metadata.tier !== 'free'"}
        route = types["conditional"]["example"]
        save = {
            **types["update-record"]["example"],
            "when": "category?.includes('bug') || Number(_record.metadata.score) > 80",
        }
        created = await call(client, "create_flow", {"name": "Triage", "steps": [classify, route, save]})
        got = await call(client, "get_flow", {"flow_id": created["id"]})
    assert not created.get("warnings"), created.get("warnings")
    for shown in (created, got):
        assert [s.get("when") for s in shown["steps"]] == [classify["when"], None, save["when"]]
        assert shown["steps"][1]["config"]["trueSteps"][0]["config"] == {"updates": {"tier": "hot"}}
        assert all(s["order"] == i + 1 for i, s in enumerate(shown["steps"]))
    assert "Not published" in got["note"] and got["draft_differs"] is True


async def test_a_typo_in_a_config_key_is_refused_with_the_suggestion_and_nothing_is_sent(
    fake: FakeRuntype,
) -> None:
    steps = [{"name": "Ask", "type": "prompt", "config": {"model": "m", "userPromt": "Hi {{_record.name}}"}}]
    async with connect(fake) as client:
        res = await client.call_tool("create_flow", {"name": "T", "steps": steps})
    assert res.is_error
    assert 'steps[0].config.userPromt: is not a config key of prompt → did you mean "userPrompt"?' in text(
        res
    )
    assert "userPrompt: is required" not in text(res), "the typo explains the missing key"
    assert fake.sent("POST", "/v1/flows") == []


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (
            {"name": "S", "type": "set-variable", "config": {"variableName": "x"}},
            "steps[0].config.value: is required",
        ),
        (
            {"name": "S", "type": "template", "config": {"template": "x"}, "when": "score >"},
            "steps[0].when: does not parse",
        ),
        ({"name": "S", "type": "conditional", "config": {}}, "steps[0].config.condition: is required"),
        (
            {
                "name": "C",
                "type": "conditional",
                "config": {
                    "condition": "true",
                    "trueSteps": [{"name": "U", "type": "update-record", "config": {"update": {}}}],
                },
            },
            'steps[0].config.trueSteps[0].config.update: is not a config key of update-record → did you mean "updates"?',
        ),
        (
            {"name": "S", "type": "promt", "config": {}},
            'steps[0].type: unknown step type "promt" → did you mean "prompt"?',
        ),
        (
            {"name": "S", "type": "template", "config": {"template": "x"}, "when": "eval('1')"},
            "function eval() is not supported",
        ),
    ],
)
async def test_steps_with_errors_are_refused_before_saving(
    fake: FakeRuntype, step: dict[str, Any], expected: str
) -> None:
    async with connect(fake) as client:
        res = await client.call_tool("create_flow", {"name": "T", "steps": [step]})
    assert res.is_error and expected in text(res), text(res)
    assert fake.sent("POST", "/v1/flows") == []


async def test_soft_findings_are_saved_with_warnings() -> None:
    steps = [
        {
            "name": "T",
            "type": "template",
            "config": {"template": "{{_record.score}} {{summary}}", "outputVariable": "t"},
        },
    ]
    async with sandbox() as client:
        created = await call(client, "create_flow", {"name": "Soft", "steps": steps})
    warnings = " ".join(created["warnings"])
    assert "_record.score is not a record field; record data is _record.metadata.score" in warnings
    assert "{{summary}} is set by no earlier step" in warnings


async def test_validate_flow_checks_steps_or_a_saved_flow_without_saving() -> None:
    bad = [{"name": "Ask", "type": "prompt", "config": {"userPromt": "x"}}]
    good = [
        {
            "name": "T",
            "type": "template",
            "config": {"template": "{{_record.name}}"},
            "when": "_record.metadata.tier === 'gold'",
        }
    ]
    async with sandbox() as client:
        before = (await call(client, "list_flows", {}))["count"]
        refused = await call(client, "validate_flow", {"steps": bad})
        fine = await call(client, "validate_flow", {"steps": good})
        created = await call(client, "create_flow", {"name": "Good", "steps": good})
        saved = await call(client, "validate_flow", {"flow_id": created["id"]})
        after = (await call(client, "list_flows", {}))["count"]
    assert refused["valid"] is False and any("did you mean" in e for e in refused["errors"])
    assert fine["valid"] is True and fine["api_validator"] == "valid"
    assert saved["valid"] is True
    assert after == before + 1, "validate_flow saved nothing"


async def test_step_update_edits_when_inserts_and_removes_one_step_keeping_the_others_whens() -> None:
    steps = [
        {"name": "A", "type": "template", "config": {"template": "a", "outputVariable": "a"}, "when": "true"},
        {"name": "B", "type": "template", "config": {"template": "b"}, "when": "a === 'a'"},
    ]
    async with sandbox() as client:
        fid = (await call(client, "create_flow", {"name": "Edit", "steps": steps}))["id"]
        edited = await call(
            client, "update_flow", {"flow_id": fid, "step_update": {"step": "B", "when": "a !== 'z'"}}
        )
        inserted = await call(
            client,
            "update_flow",
            {
                "flow_id": fid,
                "step_update": {
                    "step": "A",
                    "insert": {
                        "name": "M",
                        "type": "set-variable",
                        "config": {"variableName": "m", "value": 1},
                    },
                },
            },
        )
        removed = await call(
            client, "update_flow", {"flow_id": fid, "step_update": {"step": "A", "remove": True}}
        )
        typo = await client.call_tool(
            "update_flow", {"flow_id": fid, "step_update": {"step": "B", "config": {"templte": "x"}}}
        )
        got = await call(client, "get_flow", {"flow_id": fid})
    assert [(s["name"], s.get("when")) for s in edited["steps"]] == [("A", "true"), ("B", "a !== 'z'")]
    assert [s["name"] for s in inserted["steps"]] == ["A", "M", "B"]
    assert [(s["name"], s.get("when"), s["order"]) for s in removed["steps"]] == [
        ("M", None, 1),
        ("B", "a !== 'z'", 2),
    ]
    assert typo.is_error and 'did you mean "template"' in text(typo)
    assert [(s["name"], s.get("when")) for s in got["steps"]] == [("M", None), ("B", "a !== 'z'")]


async def test_the_sandbox_runs_the_javascript_a_model_writes_in_when_and_condition() -> None:
    steps = [
        {
            "name": "Route",
            "type": "conditional",
            "config": {
                "condition": "Number(_record.metadata.score) > 80 && _record.metadata.tier?.toLowerCase() === 'gold'",
                "trueSteps": [
                    {"name": "Hot", "type": "update-record", "config": {"updates": {"lead": "hot"}}}
                ],
                "falseSteps": [
                    {"name": "Cold", "type": "update-record", "config": {"updates": {"lead": "cold"}}}
                ],
            },
        },
        {
            "name": "Note",
            "type": "update-record",
            "config": {"updates": {"noted": True}},
            "when": "['gold', 'silver'].includes(_record.metadata.tier.toLowerCase())",
        },
    ]
    async with sandbox() as client:
        hot = await call(
            client,
            "create_record",
            {"name": "Hot Co", "type": "lead", "metadata": {"score": "91", "tier": "Gold"}},
        )
        cold = await call(
            client,
            "create_record",
            {"name": "Cold Co", "type": "lead", "metadata": {"score": "12", "tier": "free"}},
        )
        fid = (await call(client, "create_flow", {"name": "Leads", "steps": steps}))["id"]
        for rec in (hot, cold):
            await call(client, "run_flow", {"flow_id": fid, "record_id": rec["record"]["id"]})
        hot_after = await call(client, "get_record", {"record_id": hot["record"]["id"]})
        cold_after = await call(client, "get_record", {"record_id": cold["record"]["id"]})
    assert hot_after["metadata"]["lead"] == "hot" and hot_after["metadata"]["noted"] is True
    assert cold_after["metadata"]["lead"] == "cold" and "noted" not in cold_after["metadata"]


GROUPED = {
    "data": [
        {
            "baseModel": "gpt-4o-mini",
            "displayName": "GPT-4o mini",
            "isConfigured": True,
            "providers": [{"provider": "openai", "modelId": "openai/gpt-4o-mini"}],
        }
    ],
    "stats": {},
    "total": 1,
}


async def test_list_models_names_the_catalogue_and_a_prompt_model_it_lacks_is_a_save_warning(
    fake: FakeRuntype,
) -> None:
    fake.fail("GET", "/model-configs/grouped", 200, body=GROUPED, times=3)
    steps = [
        {"name": "A", "type": "prompt", "config": {"model": "gpt-4o-mini", "userPrompt": "x"}},
        {"name": "B", "type": "prompt", "config": {"model": "gpt-9-ultra", "userPrompt": "y"}},
    ]
    async with connect(fake) as client:
        models = await call(client, "list_models", {})
        created = await call(client, "create_flow", {"name": "M", "steps": steps})
    assert models["models"][0]["id"] == "gpt-4o-mini" and models["models"][0]["model_ids"] == [
        "openai/gpt-4o-mini"
    ]
    assert created["warnings"] == ['steps[1].config.model: "gpt-9-ultra" is not in list_models']


async def test_the_sandbox_lists_its_echo_model_as_what_it_is() -> None:
    async with sandbox() as client:
        models = await call(client, "list_models", {})
    (model,) = models["models"]
    assert model["id"] == "sandbox-default" and "echoes" in model["note"] and "Sandbox" in models["note"]


async def test_unresolved_variables_say_whether_to_fix_the_flow_or_the_data() -> None:
    steps = [
        {
            "name": "T",
            "type": "template",
            "config": {"template": "{{_record.metadata.phone}} {{_record.metadata.phnoe}}"},
        }
    ]
    async with sandbox() as client:
        await call(client, "create_record", {"name": "Has", "type": "contact", "metadata": {"phone": "1"}})
        rid = (await call(client, "create_record", {"name": "Lacks", "type": "contact", "metadata": {}}))[
            "record"
        ]["id"]
        fid = (await call(client, "create_flow", {"name": "U", "steps": steps}))["id"]
        ran = await call(client, "run_flow", {"flow_id": fid, "record_id": rid})
    advice = ran["next"]
    assert 'Fix the flow: "_record.metadata.phnoe" is set on no "contact" record' in advice
    assert '"_record.metadata.phone": other records have it, this one does not' in advice
    assert "Running again changes nothing" in advice
