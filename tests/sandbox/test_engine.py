"""The sandbox flow engine: templates, the safe expression language and every supported step type."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from runtype_mcp.sandbox.engine import (
    STEP_TYPES,
    SUPPORTED_STEP_TYPES,
    RecordOps,
    RunOutcome,
    render_template,
    run_flow,
)
from runtype_mcp.sandbox.expressions import ExpressionError, evaluate
from runtype_mcp.sandbox.filters import matches
from runtype_mcp.sandbox.templating import UNDEFINED, TemplateContext


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _deep_merge(base: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _apply(metadata: dict[str, Any], updates: dict[str, Any], strategy: str) -> dict[str, Any]:
    if strategy == "replace":
        return dict(updates)
    if strategy == "deep-merge":
        return _deep_merge(metadata, updates)
    return {**metadata, **updates}


class FakeRecords:
    """An in-memory RecordOps: ``updates`` patch metadata, filters use the real filter language."""

    def __init__(self, *records: dict[str, Any]) -> None:
        self.records = {record["id"]: copy.deepcopy(record) for record in records}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_with: str | None = None

    def _check(self, method: str, **kwargs: Any) -> None:
        self.calls.append((method, kwargs))
        if self.fail_with is not None:
            raise RuntimeError(self.fail_with)

    async def get_record(
        self,
        *,
        record_id: str | None = None,
        record_type: str | None = None,
        name: str | None = None,
        where: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        self._check("get_record", record_id=record_id, record_type=record_type, name=name, where=where)
        if record_id is not None:
            return self.records.get(record_id)
        found = await self._select(record_type, name, where)
        return found[0] if found else None

    async def list_records(
        self, *, record_type: str, where: dict[str, Any] | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        self._check("list_records", record_type=record_type, where=where, limit=limit)
        return (await self._select(record_type, None, where))[:limit]

    async def _select(
        self, record_type: str | None, name: str | None, where: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        found = [
            record
            for record in self.records.values()
            if record_type in (None, record["type"])
            and name in (None, record["name"])
            and matches(where, record)
        ]
        return sorted(found, key=lambda record: record["updatedAt"], reverse=True)

    async def update_record(
        self, record_id: str, updates: dict[str, Any], *, merge_strategy: str = "merge"
    ) -> dict[str, Any]:
        self._check("update_record", record_id=record_id, updates=updates, merge_strategy=merge_strategy)
        record = self.records[record_id]
        record["metadata"] = _apply(record["metadata"], updates, merge_strategy)
        record["updatedAt"] = "2026-11-22T10:00:00.000Z"
        return copy.deepcopy(record)

    async def upsert_record(
        self, *, record_type: str, name: str | None, metadata: dict[str, Any], merge_strategy: str = "merge"
    ) -> dict[str, Any]:
        self._check("upsert_record", record_type=record_type, name=name, metadata=metadata)
        existing = await self._select(record_type, name, None) if name is not None else []
        if existing:
            return await self.update_record(existing[0]["id"], metadata, merge_strategy=merge_strategy)
        record_id = f"rec_new{len(self.records)}"
        self.records[record_id] = {
            "id": record_id,
            "type": record_type,
            "name": name or record_id,
            "metadata": dict(metadata),
            "createdAt": "2026-11-22T10:00:00.000Z",
            "updatedAt": "2026-11-22T10:00:00.000Z",
        }
        return copy.deepcopy(self.records[record_id])


ACME = {
    "id": "rec_acme",
    "type": "customer",
    "name": "Acme",
    "metadata": {"company": "Acme Corp", "tier": "gold", "score": 80, "email": "ops@acme.test"},
    "createdAt": "2026-11-01T10:00:00.000Z",
    "updatedAt": "2026-11-20T10:00:00.000Z",
}
BETA = {
    "id": "rec_beta",
    "type": "customer",
    "name": "Beta",
    "metadata": {"company": "Beta Ltd", "tier": "free", "score": 20, "email": "hi@beta.test"},
    "createdAt": "2026-11-02T10:00:00.000Z",
    "updatedAt": "2026-11-21T10:00:00.000Z",
}
NOTE = {
    "id": "rec_note",
    "type": "note",
    "name": "Kickoff",
    "metadata": {"about": "rec_acme"},
    "createdAt": "2026-11-03T10:00:00.000Z",
    "updatedAt": "2026-11-03T10:00:00.000Z",
}


def step(step_type: str, order: int = 0, **config: Any) -> dict[str, Any]:
    return {
        "id": f"s{order}",
        "name": f"{step_type} {order}",
        "type": step_type,
        "order": order,
        "enabled": True,
        "config": config,
    }


async def run(
    *steps: dict[str, Any],
    record: dict[str, Any] | None = ACME,
    inputs: dict[str, Any] | None = None,
    ops: RecordOps | None = None,
) -> RunOutcome:
    store = ops if ops is not None else FakeRecords(ACME, BETA, NOTE)
    return await run_flow(list(steps), record=copy.deepcopy(record), inputs=inputs, ops=store)


# --- templates -------------------------------------------------------------------------------------------

VARIABLES: dict[str, Any] = {
    "topic": "pricing",
    "empty": "",
    "zero": 0,
    "nothing": None,
    "obj": {"k": [1, 2], "name": "café"},
    "items": [{"title": "first"}, {"title": "second"}],
    "_record": ACME,
}


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ("About {{topic}}.", "About pricing."),
        ("{{ topic }}|{{\n  topic\n}}", "pricing|pricing"),
        ("{{items.1.title}} {{items[0].title}} {{items.length}}", "second first 2"),
        (
            "{{_record.metadata.company}} / {{_record.name}} / {{_record.id}} / {{_record.type}}",
            "Acme Corp / Acme / rec_acme / customer",
        ),
        ("{{obj}} {{obj.k}} {{zero}} {{_record.metadata.score}}", '{"k":[1,2],"name":"café"} [1,2] 0 80'),
        ("[{{nothing}}]", "[]"),
        ('{{empty || "fallback"}} {{zero || "none"}} {{topic || "x"}}', "fallback none pricing"),
        ('[{{empty ?? "x"}}] {{nothing ?? "n"}} {{missing ?? \'m\'}} {{zero ?? 5}}', "[] n m 0"),
        ("{{missing || topic}} {{missing || also.missing || 'z'}} {{missing ?? true}}", "pricing z true"),
        ('{{missing || "say \\"hi\\""}}', 'say "hi"'),
    ],
)
def test_templates_render_paths_fallbacks_and_json_values(template: str, rendered: str) -> None:
    assert render_template(template, VARIABLES) == (rendered, [])


def test_unresolved_variables_render_empty_and_are_listed_once_in_order() -> None:
    assert render_template("{{b}}-{{a.nope}}-{{b}}-{{items.9.title}}", VARIABLES) == (
        "---",
        ["b", "a.nope", "items.9.title"],
    )


def test_a_fallback_chain_that_ends_undefined_reports_every_missing_name() -> None:
    assert render_template("[{{gone || also_gone}}]", VARIABLES) == ("[]", ["gone", "also_gone"])


def test_secrets_are_not_available_offline_and_are_reported() -> None:
    assert render_template("key={{ secret:OPENAI_KEY }}", VARIABLES) == ("key=", ["secret:OPENAI_KEY"])


def test_placeholders_outside_the_language_are_reported_verbatim() -> None:
    assert render_template("{{ topic | upcase }}{{secrets:KEY}}{{ }}", VARIABLES) == (
        "",
        ["topic | upcase", "secrets:KEY", "{{}}"],
    )


def test_bracket_paths_reach_keys_that_dots_cannot() -> None:
    variables = {"data": {"key with spaces": "a", "it's": "b", "list": [["x", "y"]]}}
    assert render_template(
        r"""{{data["key with spaces"]}}{{ data['it\'s'] }}{{data.list[0][1]}}""", variables
    ) == (
        "aby",
        [],
    )


def test_template_context_records_what_was_read() -> None:
    context = TemplateContext(VARIABLES)
    context.render("{{topic}} {{_record.metadata.tier}} {{nope}}")
    assert context.used == {"topic": "pricing", "_record.metadata.tier": "gold"}
    assert context.unresolved == ["nope"]


# --- expressions -----------------------------------------------------------------------------------------

EXPRESSION_VARIABLES: dict[str, Any] = {
    "score": 80,
    "tier": "gold",
    "flag": False,
    "tags": ["a", "b"],
    "nothing": None,
    "_record": ACME,
}


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ('_record.metadata.tier == "gold"', True),
        ('score > 50 && tier !== "free"', True),
        ("!(score >= 90) || false", True),
        ("score < 80 || score <= 79", False),
        ('"80" == score', True),
        ('"80" === score', False),
        ("score === 80.0", True),
        ("true == 1", True),
        ("null == undefined", True),
        ("null === undefined", False),
        ("missing === undefined", True),
        ("nothing == null && nothing !== undefined", True),
        ("{{_record.metadata.score}} >= 80", True),
        ('{{ missing || "x" }} == "x"', True),
        ("tags.length > 1 && tags[1] == 'b'", True),
        ('_record["metadata"]["company"] == "Acme Corp"', True),
        ("-score < 0", True),
        ('"abc" < "abd"', True),
        ('"10" < "9"', True),
        ('10 < "9"', False),
        ('score > "lots"', False),
        ("flag", False),
        ("!flag", True),
        ("!!tags", True),
        ('nothing ?? "default"', "default"),
        ('tier && "yes"', "yes"),
        ("missing.deeper.still", UNDEFINED),
        ("1.5e1 == 15", True),
        ('tags.0 == "a"', True),
        ("tags == tags && tags != _record", True),
        ("score == true", False),
        ('1 == "1" && "1" == 1 && false == 0 && 0 == false', True),
        ("null < 1 && true > false && '' < 1 && ' ' == 0", True),
        ("tags > 1 || tags < 1", False),
        # the JavaScript a model naturally writes
        ("Number(_record.metadata.score) > 80", False),
        ("Number(score) >= 80 && !flag", True),
        ("score + 1", 81),
        ('"a" + score', "a80"),
        ("score * 2 / 4 - 10 % 3", 39),
        ("tags[score - 79]", "b"),
        ('_record?.metadata?.tier?.toLowerCase() === "gold"', True),
        ("missing?.deeper?.toLowerCase()", UNDEFINED),
        ('tags.includes("b") && !tags.includes("z")', True),
        ('["gold", "silver"].includes(tier)', True),
        ('_record.metadata.company.toLowerCase().includes("acme")', True),
        ('score > 50 ? "hot" : "cold"', "hot"),
        ('tier === "gold" ? score > 90 ? "a" : "b" : "c"', "b"),
        ("parseInt('42px') + parseFloat(' 1.5') == 43.5", True),
        ('String(score).startsWith("8") && Boolean(tier)', True),
        ('" x ".trim().toUpperCase() + "y".endsWith("y")', "Xtrue"),
        ('"".__class__', UNDEFINED),
        ("_record.__dict__", UNDEFINED),
    ],
)
def test_expressions_follow_javascript_semantics(expression: str, value: Any) -> None:
    assert evaluate(expression, TemplateContext(EXPRESSION_VARIABLES)) == value


@pytest.mark.parametrize(
    "expression",
    [
        "score >",
        "score = 80",
        "alert(1)",
        '__import__("os").system("x")',
        "score; tier",
        "(score > 1",
        "tags.",
        "",
        "process.exit()",
        "tier.constructor('x')()",
        "eval('1')",
        "score ? 1",
        "[1, 2",
        "x" * 5000,
        "!" * 60 + "flag",
    ],
)
def test_expressions_outside_the_language_are_rejected_without_evaluating(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expression, TemplateContext(EXPRESSION_VARIABLES))


def test_expressions_report_variables_they_could_not_resolve() -> None:
    context = TemplateContext(EXPRESSION_VARIABLES)
    evaluate("score > 1 && _record.metadata.nope == null", context)
    assert context.unresolved == ["_record.metadata.nope"]
    assert context.used == {"score": 80}


# --- step types --------------------------------------------------------------------------------------------


def test_step_types_are_the_thirty_api_types_in_spec_order() -> None:
    assert len(STEP_TYPES) == len(set(STEP_TYPES)) == 30
    assert STEP_TYPES[:4] == ("prompt", "crawl", "fetch-url", "retrieve-record")
    assert STEP_TYPES[-1] == "memory-summary"
    assert set(STEP_TYPES) > SUPPORTED_STEP_TYPES
    assert len(SUPPORTED_STEP_TYPES) == 8


@pytest.mark.anyio
async def test_prompt_step_answers_with_the_labelled_sandbox_model() -> None:
    outcome = await run(
        step(
            "prompt",
            model="gpt-4o",
            systemPrompt="You are terse about {{topic}}.",
            userPrompt="Summarise {{_record.metadata.company}}",
        ),
        inputs={"topic": "sales"},
    )
    (result,) = outcome.steps
    assert result.status == "completed"
    assert result.output == "[sandbox model gpt-4o] Summarise Acme Corp"
    assert result.resolved_prompt == "Summarise Acme Corp"
    assert result.model_used == "gpt-4o"
    assert (result.prompt_tokens, result.completion_tokens) == (5 + 3, 6)
    assert result.input_variables == {"topic": "sales", "_record.metadata.company": "Acme Corp"}
    assert outcome.final_output == result.output


@pytest.mark.anyio
async def test_prompt_step_defaults_its_model_and_can_answer_json() -> None:
    outcome = await run(step("prompt", userPrompt="Hi {{_record.name}}", responseFormat="json"))
    assert outcome.steps[0].output == {"sandboxModel": "sandbox-default", "prompt": "Hi Acme"}
    assert outcome.steps[0].model_used == "sandbox-default"


@pytest.mark.anyio
async def test_outputs_are_stored_under_output_variable_for_later_steps() -> None:
    outcome = await run(
        step("prompt", 1, userPrompt="Rate {{_record.name}}", outputVariable="rating"),
        step("template", 2, template="Rating: {{rating}}", outputVariable="report"),
        step("template", 3, template="no output variable"),
    )
    assert outcome.success
    assert outcome.variables == {
        "rating": "[sandbox model sandbox-default] Rate Acme",
        "report": "Rating: [sandbox model sandbox-default] Rate Acme",
    }
    assert outcome.final_output == "no output variable"


@pytest.mark.anyio
async def test_steps_run_by_their_order_not_their_list_position() -> None:
    outcome = await run(
        step("set-variable", 2, variableName="x", value="second saw {{x}}"),
        step("set-variable", 1, variableName="x", value="first"),
    )
    assert [s.order for s in outcome.steps] == [1, 2]
    assert outcome.variables == {"x": "second saw first"}


@pytest.mark.anyio
async def test_template_step_rejects_liquid_tags_naming_the_config_key() -> None:
    outcome = await run(step("template", template="{% if x %}yes{% endif %}"))
    assert not outcome.success
    assert outcome.steps[0].error is not None
    assert outcome.steps[0].error.startswith("config.template uses Liquid tags")


@pytest.mark.anyio
async def test_set_variable_renders_strings_and_keeps_other_json_values() -> None:
    outcome = await run(
        step("set-variable", 1, variableName="greeting", value="Hello {{_record.name}}"),
        step("set-variable", 2, variableName="payload", value={"n": 1, "raw": "{{not rendered}}"}),
    )
    assert outcome.variables == {"greeting": "Hello Acme", "payload": {"n": 1, "raw": "{{not rendered}}"}}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("record", "branch", "label"), [(ACME, "trueSteps", "big"), (BETA, "falseSteps", "small")]
)
async def test_conditional_runs_the_branch_its_condition_selects(
    record: dict[str, Any], branch: str, label: str
) -> None:
    outcome = await run(
        step(
            "conditional",
            1,
            condition="_record.metadata.score > 50",
            trueSteps=[step("set-variable", 1, variableName="size", value="big")],
            falseSteps=[step("set-variable", 1, variableName="size", value="small")],
            outputVariable="decision",
        ),
        record=record,
    )
    assert outcome.success
    assert [s.type for s in outcome.steps] == ["conditional", "set-variable"]
    assert outcome.variables["size"] == label
    assert outcome.variables["decision"] == {"result": branch == "trueSteps", "branch": branch}
    assert outcome.final_output == label


def _nested_conditionals(levels: int) -> dict[str, Any]:
    inner = [step("set-variable", variableName="reached", value="yes")]
    for _ in range(levels):
        inner = [step("conditional", condition="true", trueSteps=inner)]
    return inner[0]


@pytest.mark.anyio
async def test_conditionals_nest_up_to_ten_levels() -> None:
    assert (await run(_nested_conditionals(10))).variables == {"reached": "yes"}
    too_deep = await run(_nested_conditionals(11))
    assert not too_deep.success
    assert too_deep.steps[-1].error == "conditional steps nest deeper than 10 levels"
    assert "reached" not in too_deep.variables


@pytest.mark.anyio
async def test_update_record_defaults_to_the_current_record_and_later_steps_see_the_change() -> None:
    store = FakeRecords(ACME, BETA)
    outcome = await run(
        step("update-record", 1, updates={"status": "reviewed {{_record.metadata.tier}}", "seen": True}),
        step("template", 2, template="{{_record.metadata.status}}"),
        ops=store,
    )
    assert outcome.success
    assert store.calls[-1] == (
        "update_record",
        {
            "record_id": "rec_acme",
            "updates": {"status": "reviewed gold", "seen": True},
            "merge_strategy": "merge",
        },
    )
    assert outcome.steps[0].output["metadata"]["status"] == "reviewed gold"
    assert outcome.final_output == "reviewed gold"


@pytest.mark.anyio
async def test_update_record_targets_a_record_id_or_the_first_filter_match() -> None:
    store = FakeRecords(ACME, BETA, NOTE)
    outcome = await run(
        step("update-record", 1, recordId="{{note_id}}", updates={"done": True}, mergeStrategy="replace"),
        step(
            "update-record",
            2,
            recordFilter={"type": "customer", "where": {"field": "tier", "op": "eq", "value": "{{tier}}"}},
            updates={"flag": 1},
        ),
        inputs={"note_id": "rec_note", "tier": "free"},
        ops=store,
    )
    assert outcome.success, outcome.error
    assert store.records["rec_note"]["metadata"] == {"done": True}
    assert store.records["rec_beta"]["metadata"]["flag"] == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"recordId": "rec_missing", "updates": {"a": 1}},
            "config.recordId names no existing record: 'rec_missing'",
        ),
        (
            {"recordFilter": {"where": {"field": "tier", "op": "eq", "value": "none"}}, "updates": {}},
            "config.recordFilter matches no record",
        ),
        (
            {"updates": {"a": 1}, "mergeStrategy": "overwrite"},
            "config.mergeStrategy must be one of: merge, replace, deep-merge",
        ),
        ({"updates": "a=1"}, "config.updates must be an object of the fields to change"),
    ],
)
async def test_update_record_problems_name_the_config_key(config: dict[str, Any], message: str) -> None:
    outcome = await run(step("update-record", **config))
    assert outcome.steps[0].error == message


@pytest.mark.anyio
async def test_update_record_without_a_target_needs_a_record() -> None:
    outcome = await run(step("update-record", updates={"a": 1}), record=None)
    assert (
        outcome.steps[0].error
        == "config.recordId or config.recordFilter is required when the run has no record"
    )


@pytest.mark.anyio
async def test_upsert_record_creates_then_updates_by_type_and_name() -> None:
    store = FakeRecords(ACME)
    flow = [
        step("set-variable", 1, variableName="summary", value={"score": 1}),
        step(
            "upsert-record",
            2,
            recordType="summary",
            recordName="for {{_record.name}}",
            sourceVariable="summary",
        ),
        step(
            "upsert-record",
            3,
            recordType="summary",
            recordName="for Acme",
            sourceVariable="{{ _record.metadata }}",
        ),
    ]
    outcome = await run(*flow, ops=store)
    assert outcome.success, outcome.error
    created, updated = outcome.steps[1].output, outcome.steps[2].output
    assert created["id"] == updated["id"]
    assert created["name"] == "for Acme"
    assert updated["metadata"] == {
        "score": 80,
        "company": "Acme Corp",
        "tier": "gold",
        "email": "ops@acme.test",
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("greeting", "config.sourceVariable 'greeting' must resolve to an object, but it is str"),
        ("nowhere", "config.sourceVariable 'nowhere' must resolve to an object, but it is undefined"),
        ("not a path!", "config.sourceVariable is not a variable path: 'not a path!'"),
    ],
)
async def test_upsert_record_needs_a_source_variable_holding_an_object(source: str, message: str) -> None:
    outcome = await run(
        step("upsert-record", recordType="t", recordName="n", sourceVariable=source),
        inputs={"greeting": "hi"},
    )
    assert not outcome.success
    assert outcome.steps[0].error == message


@pytest.mark.anyio
async def test_get_record_finds_by_id_by_type_and_name_or_by_filter_and_outputs_null_when_absent() -> None:
    outcome = await run(
        step("get-record", 1, recordId="{{_record.metadata.about || 'rec_note'}}", outputVariable="by_id"),
        step("get-record", 2, recordType="customer", recordName="Beta", outputVariable="by_name"),
        step(
            "get-record",
            3,
            recordFilter={"type": "customer", "where": {"field": "score", "op": "gt", "value": 50}},
            outputVariable="by_filter",
        ),
        step("get-record", 4, recordId="rec_missing", outputVariable="absent"),
    )
    assert outcome.success
    names = {key: (value or {}).get("name") for key, value in outcome.variables.items()}
    assert names == {"by_id": "Kickoff", "by_name": "Beta", "by_filter": "Acme", "absent": None}
    assert outcome.steps[3].status == "completed"


@pytest.mark.anyio
async def test_list_records_filters_by_type_where_and_limit() -> None:
    outcome = await run(
        step("list-records", 1, recordType="customer", outputVariable="all"),
        step(
            "list-records",
            2,
            recordType="customer",
            where={"field": "tier", "op": "in", "value": ["{{tier}}"]},
            outputVariable="gold",
        ),
        step("list-records", 3, recordFilter={"type": "customer"}, limit=1, outputVariable="one"),
        inputs={"tier": "gold"},
    )
    assert outcome.success, outcome.error
    assert [r["name"] for r in outcome.variables["all"]] == ["Beta", "Acme"]
    assert [r["name"] for r in outcome.variables["gold"]] == ["Acme"]
    assert len(outcome.variables["one"]) == 1


@pytest.mark.anyio
async def test_record_filter_problems_are_reported_with_config_paths() -> None:
    outcome = await run(
        step(
            "list-records",
            recordType="customer",
            recordFilter={"where": {"field": "tier", "op": "like", "value": "g"}},
        )
    )
    error = outcome.steps[0].error
    assert error is not None
    assert error.startswith("config.recordFilter.where.op: invalid op 'like'")


@pytest.mark.anyio
async def test_record_store_errors_fail_the_step_with_the_store_message() -> None:
    store = FakeRecords(ACME)
    store.fail_with = "database is locked"
    outcome = await run(step("get-record", recordId="rec_acme"), ops=store)
    assert outcome.steps[0].error == "record store error: database is locked"


@pytest.mark.anyio
@pytest.mark.parametrize("step_type", [t for t in STEP_TYPES if t not in SUPPORTED_STEP_TYPES])
async def test_unsupported_step_types_fail_and_stop_the_run(step_type: str) -> None:
    outcome = await run(step(step_type, 1, url="https://example.com"), step("template", 2, template="after"))
    assert not outcome.success
    assert [s.status for s in outcome.steps] == ["failed"]
    assert outcome.steps[0].error == f"step type {step_type} is not supported in the sandbox"
    assert (
        outcome.error == f"step '{step_type} 1' failed: step type {step_type} is not supported in the sandbox"
    )


@pytest.mark.anyio
async def test_an_unknown_step_type_lists_the_allowed_types() -> None:
    outcome = await run(step("fetch-github"))
    assert outcome.steps[0].error is not None
    assert outcome.steps[0].error.startswith("unknown step type 'fetch-github'; use one of: prompt, crawl")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("bad_step", "message"),
    [
        (step("prompt"), "config.userPrompt must be a string: the prompt to send"),
        (
            step("prompt", userPrompt="x", responseFormat="xml"),
            'config.responseFormat must be "text" or "json"',
        ),
        (
            step("template", template="x", outputVariable="_hidden"),
            "config.outputVariable must be a non-empty name",
        ),
        (
            step("set-variable", variableName="_record", value=1),
            "config.variableName must be a non-empty name",
        ),
        (step("set-variable", variableName="x"), "config.value is required"),
        (step("conditional", trueSteps=[]), "config.condition is required"),
        (step("conditional", condition="true", trueSteps="x"), "config.trueSteps must be a list of steps"),
        (step("conditional", condition="score >"), "config.condition: expected a value"),
        (
            step("list-records", recordType="customer", limit=0),
            "config.limit must be an integer from 1 to 1000",
        ),
        (step("list-records"), "config.recordType must be a string"),
        (step("get-record", recordId="{{nope}}"), "config.recordId is empty after rendering '{{nope}}'"),
        (step("get-record"), "config needs recordId, recordType (with recordName) or recordFilter"),
        ({"id": "x", "name": "x", "type": "template", "config": "template"}, "config must be an object"),
        ("not a step", "a step must be an object"),
        ({**step("template", template="x"), "when": 1}, "when must be an expression string, got int"),
        (step("prompt", userPrompt="x", systemPrompt=["x"]), "config.systemPrompt must be a string"),
        (step("prompt", userPrompt="x", model=4), "config.model must be a model name string"),
        (step("template", template=None), "config.template must be a string"),
        (
            step("upsert-record", recordType="t", sourceVariable=None),
            "config.sourceVariable must name a variable",
        ),
        (step("get-record", recordFilter=[]), "config.recordFilter must be an object {type?, where}"),
        (step("get-record", recordFilter={"type": 1}), "config.recordFilter.type must be a string"),
    ],
)
async def test_unusable_config_fails_the_step_naming_the_config_key(bad_step: Any, message: str) -> None:
    outcome = await run(bad_step)
    assert not outcome.success
    assert outcome.steps[0].status == "failed"
    assert outcome.steps[0].error is not None
    assert outcome.steps[0].error.startswith(message)


@pytest.mark.anyio
async def test_disabled_steps_and_steps_whose_when_is_falsy_are_skipped() -> None:
    disabled = {**step("template", 1, template="disabled"), "enabled": False}
    gated_off = {**step("template", 2, template="gated off"), "when": "_record.metadata.tier == 'free'"}
    gated_on = {
        **step("template", 3, template="gated on"),
        "when": "{{_record.metadata.score}} > 50 && !missing",
    }
    outcome = await run(disabled, gated_off, gated_on)
    assert [(s.name, s.status) for s in outcome.steps] == [
        ("template 1", "skipped"),
        ("template 2", "skipped"),
        ("template 3", "completed"),
    ]
    assert outcome.steps[0].output is None
    assert outcome.steps[2].unresolved_variables == ["missing"]
    assert outcome.final_output == "gated on"


@pytest.mark.anyio
async def test_a_boolean_when_gates_the_step_directly() -> None:
    outcome = await run(
        {**step("template", 1, template="off"), "when": False},
        {**step("template", 2, template="on"), "when": True},
    )
    assert [s.status for s in outcome.steps] == ["skipped", "completed"]


@pytest.mark.anyio
async def test_steps_that_are_not_a_list_fail_the_run() -> None:
    outcome = await run_flow("prompt", record=None, inputs=None, ops=FakeRecords())  # type: ignore[arg-type]
    assert (outcome.success, outcome.error) == (False, "steps must be a list of step objects")


@pytest.mark.anyio
async def test_get_record_combines_a_record_type_with_a_where_filter() -> None:
    outcome = await run(
        step("get-record", recordType="note", recordFilter={"where": {"field": "about", "op": "isSet"}})
    )
    assert outcome.final_output["name"] == "Kickoff"


@pytest.mark.anyio
async def test_a_when_outside_the_expression_language_fails_the_step() -> None:
    outcome = await run({**step("template", template="x"), "when": "process.exit()"})
    assert outcome.steps[0].error is not None
    assert outcome.steps[0].error.startswith("when: ")


@pytest.mark.anyio
async def test_a_failed_step_stops_the_run_and_later_steps_are_not_reported() -> None:
    outcome = await run(
        step("template", 1, template="one", outputVariable="a"),
        step("crawl", 2),
        step("template", 3, template="three", outputVariable="c"),
    )
    assert not outcome.success
    assert [s.status for s in outcome.steps] == ["completed", "failed"]
    assert outcome.variables == {"a": "one"}
    assert outcome.final_output == "one"


@pytest.mark.anyio
@pytest.mark.parametrize("handling", ["continue", {"onError": "continue"}])
async def test_error_handling_continue_lets_the_run_go_past_a_failed_step(handling: Any) -> None:
    outcome = await run(
        step("fetch-url", 1, url="https://example.com", errorHandling=handling),
        step("template", 2, template="after"),
    )
    assert outcome.success
    assert outcome.error is None
    assert [s.status for s in outcome.steps] == ["failed", "completed"]
    assert outcome.final_output == "after"


@pytest.mark.anyio
async def test_a_failed_step_inside_a_branch_fails_the_conditional_and_the_run() -> None:
    outcome = await run(
        step("conditional", 1, condition="true", trueSteps=[step("send-email", 1)]),
        step("template", 2, template="never"),
    )
    assert [(s.type, s.status) for s in outcome.steps] == [
        ("conditional", "failed"),
        ("send-email", "failed"),
    ]
    assert outcome.steps[0].error == (
        "trueSteps: step 'send-email 1' failed: step type send-email is not supported in the sandbox"
    )


@pytest.mark.anyio
async def test_input_names_starting_with_an_underscore_are_rejected() -> None:
    outcome = await run(step("template", template="x"), inputs={"_record": {}, "ok": 1})
    assert not outcome.success
    assert outcome.steps == []
    assert outcome.error == "input names must not start with _ (reserved for system variables): _record"


@pytest.mark.anyio
async def test_outcomes_carry_utc_timestamps_and_durations() -> None:
    outcome = await run(step("template", template="x"))
    stamp = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
    result = outcome.steps[0]
    assert stamp.fullmatch(result.started_at)
    assert stamp.fullmatch(result.completed_at)
    assert result.started_at <= result.completed_at
    assert 0 <= result.duration_ms <= outcome.duration_ms + 1
    assert (result.step_id, result.name, result.type, result.order) == ("s0", "template 0", "template", 0)


@pytest.mark.anyio
async def test_final_variables_exclude_the_record_and_the_caller_inputs_are_not_mutated() -> None:
    inputs = {"topic": "x"}
    outcome = await run(step("set-variable", variableName="topic", value="y"), inputs=inputs)
    assert outcome.variables == {"topic": "y"}
    assert inputs == {"topic": "x"}


@pytest.mark.anyio
async def test_a_flow_without_steps_succeeds_with_no_output() -> None:
    outcome = await run()
    assert (outcome.success, outcome.steps, outcome.final_output) == (True, [], None)
