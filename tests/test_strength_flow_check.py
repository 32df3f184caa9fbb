"""What `create_flow` / `update_flow` / `validate_flow` tell a model about its steps (flow_check.py):
each error and warning word for word, since the model fixes its flow from exactly this text."""

from __future__ import annotations

from typing import Any

import pytest

from runtype_mcp.flow_check import Findings, check_steps, did_you_mean
from runtype_mcp.sandbox.expressions import SUPPORTED
from runtype_mcp.step_reference import STEP_TYPES

REF = " → see get_step_types"
UNSET = "is set by no earlier step (outputVariable): it must come from run inputs"


def check(steps: list[Any], models: set[str] | None = None) -> tuple[list[str], list[str]]:
    found = check_steps(steps, models=models)
    return [d.line() for d in found.errors], found.warnings


def tpl(name: str, template: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "template",
        "config": {"template": template, **extra.pop("config", {})},
        **extra,
    }


def test_a_valid_flow_has_no_findings() -> None:
    steps = [
        {
            "name": "Ask",
            "type": "prompt",
            "config": {"userPrompt": "Hi {{_record.name}}", "outputVariable": "reply"},
        },
        {"name": "Keep", "type": "set-variable", "config": {"variableName": "kept", "value": "{{reply}}"}},
        tpl("Show", "{{ reply }} {{kept.text}} {{_record.metadata.tier}} {{_private}}", when="kept && reply"),
    ]
    assert check(steps, models=None) == ([], [])


def test_what_is_not_a_step_is_named_by_its_place() -> None:
    steps: list[Any] = [
        "text",
        {"type": "prompt"},
        {"name": "A", "type": 3},
        {"name": "", "type": "prompt"},
        7,
    ]
    errors, warnings = check(steps)
    assert errors == [f"- steps[{i}]: must be a step {{name, type, config}}{REF}" for i in range(5)]
    assert warnings == []


def test_an_unknown_type_gets_the_closest_name_and_the_whole_list() -> None:
    listing = "one of: " + ", ".join(f"'{t}'" for t in STEP_TYPES)
    errors, _ = check(
        [
            {"name": "A", "type": "promt", "config": {}},
            {"name": "B", "type": "zzzz", "config": {}},
            {"name": "C", "type": "TEMPLATE", "config": {}},
        ]
    )
    assert errors == [
        f'- steps[0].type: unknown step type "promt" → did you mean "prompt"? {listing}',
        f'- steps[1].type: unknown step type "zzzz" → {listing}',
        f'- steps[2].type: unknown step type "TEMPLATE" → did you mean "template"? {listing}',
    ]


def test_did_you_mean_falls_back_to_a_case_insensitive_match() -> None:
    assert did_you_mean("Promt", ["prompt", "template"]) == "prompt"
    assert did_you_mean("TEMPLATE", ["prompt", "template"]) == "template"
    assert did_you_mean("qqqq", ["prompt", "template"]) is None


def test_an_unknown_steps_outputs_define_nothing() -> None:
    _, warnings = check([{"name": "A", "type": "zzzz", "config": {"outputVariable": "x"}}, tpl("B", "{{x}}")])
    assert warnings == [f"steps[1].config: {{{{x}}}} {UNSET}"]


def test_a_config_that_is_not_an_object_is_the_only_error_of_its_step() -> None:
    errors, warnings = check([{"name": "A", "type": "template", "config": "{{x}}", "when": "y >"}])
    assert (errors, warnings) == ([f"- steps[0].config: must be an object{REF}"], [])


def test_an_empty_config_of_a_type_that_needs_keys_names_each_missing_key() -> None:
    errors, _ = check(
        [{"name": "S", "type": "set-variable"}, {"name": "G", "type": "get-record", "config": []}]
    )
    assert errors == [
        f"- steps[0].config.variableName: is required for set-variable{REF}",
        f"- steps[0].config.value: is required for set-variable{REF}",
        f"- steps[1].config: needs one of recordId, recordType, recordFilter{REF}",
    ]


def test_one_of_the_alternatives_is_enough() -> None:
    assert check([{"name": "G", "type": "get-record", "config": {"recordType": "lead"}}]) == ([], [])


def test_an_unknown_key_is_refused_with_a_guess_or_the_list_of_keys() -> None:
    errors, _ = check(
        [
            tpl("T", "x", config={"outputVarible": "o"}),
            tpl("U", "x", config={"qqqqqq": 1}),
            {"name": "V", "type": "template", "config": {"templte": "x"}},
        ]
    )
    keys = "asArtifact, errorHandling, inputs, outputFormat, outputVariable, partials, pdfOptions, sampleData, streamOutput, template"
    assert errors == [
        '- steps[0].config.outputVarible: is not a config key of template → did you mean "outputVariable"?',
        f"- steps[1].config.qqqqqq: is not a config key of template → template keys: {keys}",
        '- steps[2].config.templte: is not a config key of template → did you mean "template"?',
    ]


def test_a_key_guessed_for_nothing_does_not_hide_a_missing_required_key() -> None:
    errors, _ = check([{"name": "V", "type": "template", "config": {"qqqqqq": "x"}}])
    assert errors[-1] == f"- steps[0].config.template: is required for template{REF}"
    assert len(errors) == 2


def test_an_open_type_takes_any_config_key() -> None:
    assert check([{"name": "F", "type": "fetch-url", "config": {"anything": 1, "url": "https://x"}}]) == (
        [],
        [],
    )


@pytest.mark.parametrize("when", [None, True, False])
def test_a_missing_or_boolean_when_is_fine(when: Any) -> None:
    assert check([tpl("T", "x", when=when)]) == ([], [])


def test_a_when_that_is_not_text_or_does_not_parse_is_refused() -> None:
    errors, _ = check([tpl("T", "x", when=5), tpl("U", "x", when="score >")])
    assert errors[0] == f"- steps[0].when: must be an expression string{REF}"
    assert errors[1].startswith("- steps[1].when: does not parse: ")
    assert errors[1].endswith(f" → supported: {SUPPORTED}")
    assert len(errors) == 2


def test_variables_a_when_reads_must_be_defined_earlier_or_be_record_fields() -> None:
    _, warnings = check(
        [
            tpl("T", "x", when="score > 1 && _record.nme && _record.metadata.nme && _hidden"),
            tpl("U", "x", when="score > 2"),
        ]
    )
    assert warnings == [
        f"steps[0].when: {{{{score}}}} {UNSET}",
        "steps[0].when: _record.nme is not a record field; record data is _record.metadata.nme",
        f"steps[1].when: {{{{score}}}} {UNSET}",
    ]


def test_templates_are_read_in_every_config_string_but_branches_and_condition() -> None:
    steps = [
        {
            "name": "U",
            "type": "update-record",
            "config": {"updates": {"a": ["{{ lead.name }}"], "condition": "{{deep}}"}, "outputVariable": "u"},
        },
        tpl("T", "{{ secret:API_KEY }} {{ 9lives }} {{_record.createdAt}} {{_record.ownr}} {{u}}"),
    ]
    _, warnings = check(steps)
    assert warnings == [
        f"steps[0].config: {{{{lead}}}} {UNSET}",
        f"steps[0].config: {{{{deep}}}} {UNSET}",
        "steps[1].config: _record.ownr is not a record field; record data is _record.metadata.ownr",
    ]


def test_a_repeated_finding_is_warned_once() -> None:
    _, warnings = check([tpl("T", "{{x}} {{x}} {{ x }}")])
    assert warnings == [f"steps[0].config: {{{{x}}}} {UNSET}"]
    found = Findings()
    found.warn("p", "m")
    found.warn("p", "m")
    found.warn("p", "n")
    assert found.warnings == ["p: m", "p: n"]


def test_a_prompt_model_outside_the_catalogue_is_a_warning() -> None:
    def prompt(model: Any) -> dict[str, Any]:
        return {"name": "P", "type": "prompt", "config": {"userPrompt": "x", "model": model}}

    models = {"gpt-4o-mini"}
    assert check([prompt("gpt-9")], models=models)[1] == [
        'steps[0].config.model: "gpt-9" is not in list_models'
    ]
    assert check([prompt("gpt-4o-mini")], models=models) == ([], [])
    assert check([prompt("gpt-9")], models=None) == ([], [])
    assert check([prompt(7)], models=models) == ([], [])
    assert check([prompt("{{_record.metadata.model}}")], models=models) == ([], [])
    assert check([prompt("gpt-9")], models=set())[1] == [
        'steps[0].config.model: "gpt-9" is not in list_models'
    ]
    other = {"name": "T", "type": "template", "config": {"template": "x", "model": "gpt-9"}}
    assert check([other], models=models)[0][0].startswith("- steps[0].config.model: is not a config key")


def conditional(condition: Any = "true", **branches: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"condition": condition} if condition != "absent" else {}
    return {"name": "C", "type": "conditional", "config": {**config, **branches}}


def test_a_conditional_needs_a_condition_even_when_the_key_is_there() -> None:
    branch = [tpl("A", "x")]
    assert check([conditional(None, trueSteps=branch)])[0] == [
        f"- steps[0].config.condition: is required for conditional{REF}"
    ]
    assert check([conditional(False, trueSteps=branch)]) == ([], [])
    assert check([conditional(3, trueSteps=branch)])[0] == [
        f"- steps[0].config.condition: must be an expression string{REF}"
    ]
    _, warnings = check([conditional("flag", falseSteps=branch)])
    assert warnings == [f"steps[0].config.condition: {{{{flag}}}} {UNSET}"]


def test_branches_must_be_step_lists_and_at_least_one_must_have_steps() -> None:
    errors, warnings = check([conditional(trueSteps="x", falseSteps={"a": 1})])
    assert errors == [
        f"- steps[0].config.trueSteps: must be an array of steps{REF}",
        f"- steps[0].config.falseSteps: must be an array of steps{REF}",
    ]
    assert warnings == ["steps[0].config: the conditional has no steps in trueSteps or falseSteps"]
    for empty in ({}, {"trueSteps": [], "falseSteps": None}):
        assert check([conditional(**empty)]) == (
            [],
            ["steps[0].config: the conditional has no steps in trueSteps or falseSteps"],
        )
    assert check([conditional(falseSteps=[tpl("A", "x")])]) == ([], [])


def test_nested_steps_are_checked_with_their_own_paths() -> None:
    errors, warnings = check(
        [conditional(trueSteps=[{"name": "U", "type": "update-record", "config": {"update": {}}}, "junk"])]
    )
    assert errors == [
        '- steps[0].config.trueSteps[0].config.update: is not a config key of update-record → did you mean "updates"?',
        f"- steps[0].config.trueSteps[1]: must be a step {{name, type, config}}{REF}",
    ]
    assert warnings == []


def test_a_variable_set_in_one_branch_is_not_seen_in_the_other_but_is_after_the_conditional() -> None:
    setter = {"name": "S", "type": "set-variable", "config": {"variableName": "hit", "value": 1}}
    steps = [
        conditional(trueSteps=[setter], falseSteps=[tpl("F", "{{hit}}")], outputVariable="routed"),
        tpl("After", "{{hit}} {{routed}}"),
    ]
    assert check(steps) == ([], [f"steps[0].config.falseSteps[0].config: {{{{hit}}}} {UNSET}"])


def test_a_variable_defined_before_a_conditional_stays_defined_after_it() -> None:
    steps = [
        tpl("Before", "x", config={"outputVariable": "v"}),
        conditional(trueSteps=[tpl("In", "{{v}}", config={"outputVariable": "v"})]),
        tpl("After", "{{v}}"),
    ]
    assert check(steps) == ([], [])


def test_steps_are_checked_in_run_order_and_reported_at_their_place_in_the_list() -> None:
    use = {**tpl("Use", "{{made}}"), "order": 2}
    make = {**tpl("Make", "x", config={"outputVariable": "made"}), "order": 1}
    assert check([use, make]) == ([], [])
    bool_order = {**tpl("Make", "x", config={"outputVariable": "made"}), "order": True}
    assert check([tpl("Use", "{{made}}"), bool_order])[1] == [f"steps[0].config: {{{{made}}}} {UNSET}"]
    later = {**tpl("Make", "x", config={"outputVariable": "made"}), "order": 5}
    assert check([later, tpl("Use", "{{made}}")])[1] == [f"steps[1].config: {{{{made}}}} {UNSET}"]
    text_order = {**tpl("Make", "x", config={"outputVariable": "made"}), "order": "0"}
    assert check([tpl("Use", "{{made}}"), text_order])[1] == [f"steps[0].config: {{{{made}}}} {UNSET}"]
    # equal orders keep list order
    tie = [
        {**tpl("Make", "x", config={"outputVariable": "m"}), "order": 1},
        {**tpl("Use", "{{m}}"), "order": 1},
    ]
    assert check(tie) == ([], [])
    tie.reverse()
    assert check(tie)[1] == [f"steps[0].config: {{{{m}}}} {UNSET}"]


def test_errors_are_reported_in_run_order() -> None:
    errors, _ = check([{**tpl("B", "x", when=1), "order": 2}, {**tpl("A", "x", when=2), "order": 1}])
    assert errors == [
        f"- steps[1].when: must be an expression string{REF}",
        f"- steps[0].when: must be an expression string{REF}",
    ]


def test_a_nested_path_starts_where_it_is_given() -> None:
    found = check_steps([tpl("T", "{{x}}")], path="step_update.insert")
    assert found.warnings == [f"step_update.insert[0].config: {{{{x}}}} {UNSET}"]


def test_only_string_output_names_define_variables() -> None:
    steps = [
        {
            "name": "S",
            "type": "set-variable",
            "config": {"variableName": 5, "value": 1, "outputVariable": "ok"},
        },
        tpl("T", "{{ok}} {{5}}"),
    ]
    assert check(steps) == ([], [])
    assert check([tpl("A", "x", config={"outputVariable": None}), tpl("T", "{{None}}")])[1] == [
        f"steps[1].config: {{{{None}}}} {UNSET}"
    ]


def test_a_long_unknown_type_is_cut_to_sixty_characters_in_the_error() -> None:
    long_type = "x" * 100
    errors, _ = check([{"name": "A", "type": long_type, "config": {}}])
    assert errors[0].startswith(f'- steps[0].type: unknown step type "{"x" * 59}…" → one of: ')


def test_a_long_model_name_is_cut_to_eighty_characters_in_the_warning() -> None:
    model = "m" * 120
    step = {"name": "P", "type": "prompt", "config": {"userPrompt": "x", "model": model}}
    assert check([step], models={"gpt"})[1] == [f'steps[0].config.model: "{"m" * 79}…" is not in list_models']


def test_the_record_itself_is_a_known_variable() -> None:
    assert check([tpl("T", "{{_record}} {{ _record }}", when="_record")]) == ([], [])


def test_a_condition_is_read_as_an_expression_only_not_as_a_template() -> None:
    steps = [
        {"name": "S", "type": "set-variable", "config": {"variableName": "label", "value": "a"}},
        conditional("label === '{{literal}}'", trueSteps=[tpl("A", "x")]),
    ]
    assert check(steps) == ([], [])
