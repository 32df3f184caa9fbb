"""The sandbox flow engine: runs a flow's steps (runtype-api.md §5) against one record, offline.

It runs only what it can run honestly. ``prompt`` steps are answered by a deterministic sandbox model
that labels itself and echoes the rendered prompt; it never pretends to be a real model. ``template``,
``set-variable``, ``conditional`` and the record steps (``get-record``, ``list-records``,
``update-record``, ``upsert-record``) run for real against ``RecordOps``. Every other step type fails
with "step type <type> is not supported in the sandbox".

Templates are described in ``templating``, ``when``/``condition`` expressions in ``expressions``.
A failed step stops the run unless its ``config.errorHandling`` is ``"continue"`` or
``{"onError": "continue"}``; steps after a stop are neither run nor reported.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from runtype_mcp.sandbox.expressions import ExpressionError, evaluate
from runtype_mcp.sandbox.record_steps import RecordOps, RecordSteps, StepFailed, config_error
from runtype_mcp.sandbox.templating import TemplateContext, is_truthy, render_template

__all__ = [
    "STEP_TYPES",
    "SUPPORTED_STEP_TYPES",
    "RecordOps",
    "RunOutcome",
    "StepOutcome",
    "render_template",
    "run_flow",
]

# The API's enum, in the order of runtype-api.md §5.2.
STEP_TYPES: tuple[str, ...] = (
    "prompt",
    "crawl",
    "fetch-url",
    "retrieve-record",
    "get-record",
    "list-records",
    "api-call",
    "transform-data",
    "template",
    "conditional",
    "loop",
    "set-variable",
    "upsert-record",
    "send-email",
    "send-event",
    "send-stream",
    "update-record",
    "search",
    "generate-embedding",
    "vector-search",
    "tool-call",
    "wait-until",
    "paginate-api",
    "store-vector",
    "execute-agent",
    "store-asset",
    "generate-pdf",
    "save-memory",
    "recall-memory",
    "memory-summary",
)
SUPPORTED_STEP_TYPES: frozenset[str] = frozenset(
    {
        "prompt",
        "template",
        "set-variable",
        "conditional",
        "update-record",
        "upsert-record",
        "get-record",
        "list-records",
    }
)
SANDBOX_MODEL = "sandbox-default"
MAX_CONDITIONAL_DEPTH = 10


@dataclass
class StepOutcome:
    """What one step did; ``order`` and timestamps as the API reports step results."""

    step_id: str
    name: str
    type: str
    order: int
    status: Literal["completed", "failed", "skipped"]
    output: Any
    error: str | None
    started_at: str
    completed_at: str
    duration_ms: int
    input_variables: dict[str, Any]
    resolved_prompt: str | None
    unresolved_variables: list[str]
    model_used: str | None
    prompt_tokens: int
    completion_tokens: int
    reason: str | None = None  # why a step was skipped: "disabled" or "when was false (...)"


@dataclass
class RunOutcome:
    """A whole run: ``steps`` in the order they started; ``variables`` excludes ``_record``."""

    success: bool
    steps: list[StepOutcome]
    variables: dict[str, Any]
    final_output: Any
    error: str | None
    duration_ms: int


@dataclass
class _Result:
    output: Any
    resolved_prompt: str | None = None
    model_used: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


def _timestamp() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _words(text: str) -> int:
    return len(text.split())


async def run_flow(
    steps: list[dict[str, Any]],
    *,
    record: dict[str, Any] | None,
    inputs: dict[str, Any] | None,
    ops: RecordOps,
) -> RunOutcome:
    """Run ``steps`` in ``order`` against ``record`` with ``inputs`` as template variables."""
    started = time.perf_counter()
    variables = dict(inputs or {})
    run = _Run(ops, variables)
    reserved = sorted(name for name in variables if name.startswith("_"))
    if reserved:
        error: str | None = (
            f"input names must not start with _ (reserved for system variables): {', '.join(reserved)}"
        )
    elif not isinstance(steps, list):
        error = "steps must be a list of step objects"
    else:
        if record is not None:
            variables["_record"] = record
        error = await run.run_steps(steps, depth=0)
    completed = [outcome for outcome in run.outcomes if outcome.status == "completed"]
    return RunOutcome(
        success=error is None,
        steps=run.outcomes,
        variables={name: value for name, value in variables.items() if name != "_record"},
        final_output=completed[-1].output if completed else None,
        error=error,
        duration_ms=_elapsed_ms(started),
    )


def _continues_on_error(step: Any) -> bool:
    config = step.get("config") if isinstance(step, dict) else None
    handling = config.get("errorHandling") if isinstance(config, dict) else None
    return handling == "continue" or (isinstance(handling, dict) and handling.get("onError") == "continue")


def _order(step: Any, index: int) -> int:
    order = step.get("order") if isinstance(step, dict) else None
    return order if isinstance(order, int) and not isinstance(order, bool) else index


@dataclass
class _Run:
    ops: RecordOps
    variables: dict[str, Any]
    outcomes: list[StepOutcome] = field(default_factory=list)

    async def run_steps(self, steps: list[Any], *, depth: int) -> str | None:
        """Run steps in order; return the error that stopped them, or None."""
        for index, step in sorted(enumerate(steps), key=lambda pair: (_order(pair[1], pair[0]), pair[0])):
            error = await self._run_step(step, index, depth)
            if error is not None:
                return error
        return None

    async def _run_step(self, step: Any, index: int, depth: int) -> str | None:
        started = time.perf_counter()
        raw = step if isinstance(step, dict) else {}
        step_id = str(raw.get("id") or f"step_{index + 1}")
        outcome = StepOutcome(
            step_id=step_id,
            name=str(raw.get("name") or step_id),
            type=str(raw.get("type") or ""),
            order=_order(step, index),
            status="completed",
            output=None,
            error=None,
            started_at=_timestamp(),
            completed_at="",
            duration_ms=0,
            input_variables={},
            resolved_prompt=None,
            unresolved_variables=[],
            model_used=None,
            prompt_tokens=0,
            completion_tokens=0,
        )
        self.outcomes.append(outcome)  # before running, so a conditional precedes its branch's steps
        context = TemplateContext(self.variables)
        try:
            if not isinstance(step, dict):
                raise StepFailed("a step must be an object {id, name, type, order, enabled, config}")
            if step.get("enabled", True) is False:
                outcome.status, outcome.reason = "skipped", "disabled"
            elif not self._predicate(step.get("when"), context, "when"):
                outcome.status, outcome.reason = "skipped", _when_false(step.get("when"), self.variables)
            else:
                result = await self._execute(step, context, depth)
                outcome.output = result.output
                outcome.resolved_prompt = result.resolved_prompt
                outcome.model_used = result.model_used
                outcome.prompt_tokens = result.prompt_tokens
                outcome.completion_tokens = result.completion_tokens
        except StepFailed as exc:
            outcome.status = "failed"
            outcome.error = str(exc)
        outcome.input_variables = context.used
        outcome.unresolved_variables = context.unresolved
        outcome.completed_at = _timestamp()
        outcome.duration_ms = _elapsed_ms(started)
        if outcome.status == "failed" and not _continues_on_error(step):
            return f"step {outcome.name!r} failed: {outcome.error}"
        return None

    def _predicate(self, value: Any, context: TemplateContext, label: str) -> bool:
        if value is None:
            return True
        if isinstance(value, bool):
            return value
        if not isinstance(value, str):
            raise StepFailed(f"{label} must be an expression string, got {type(value).__name__}")
        try:
            return is_truthy(evaluate(value, context))
        except ExpressionError as exc:
            raise StepFailed(f"{label}: {exc}") from None

    async def _execute(self, step: dict[str, Any], context: TemplateContext, depth: int) -> _Result:
        step_type = step.get("type")
        if not isinstance(step_type, str) or step_type not in STEP_TYPES:
            raise StepFailed(f"unknown step type {step_type!r}; use one of: {', '.join(STEP_TYPES)}")
        if step_type not in SUPPORTED_STEP_TYPES:
            raise StepFailed(f"step type {step_type} is not supported in the sandbox")
        config = step.get("config") or {}
        if not isinstance(config, dict):
            raise StepFailed("config must be an object")
        output_variable = config.get("outputVariable")
        if output_variable is not None and (
            not isinstance(output_variable, str) or not output_variable or output_variable.startswith("_")
        ):
            raise config_error("outputVariable", "must be a non-empty name that does not start with _")
        records = RecordSteps(self.ops, self.variables)
        record_steps: dict[str, Callable[[dict[str, Any], TemplateContext], Awaitable[Any]]] = {
            "get-record": records.get_record,
            "list-records": records.list_records,
            "update-record": records.update_record,
            "upsert-record": records.upsert_record,
        }
        if step_type == "conditional":
            result = await self._conditional(config, context, depth)
        elif step_type in record_steps:
            result = _Result(await record_steps[step_type](config, context))
        else:
            result = {"prompt": _prompt, "template": _template, "set-variable": self._set_variable}[
                step_type
            ](config, context)
        if output_variable:
            self.variables[output_variable] = result.output
        return result

    async def _conditional(self, config: dict[str, Any], context: TemplateContext, depth: int) -> _Result:
        if depth >= MAX_CONDITIONAL_DEPTH:
            raise StepFailed(f"conditional steps nest deeper than {MAX_CONDITIONAL_DEPTH} levels")
        if config.get("condition") is None:
            raise config_error("condition", "is required: an expression such as _record.metadata.score > 50")
        for key in ("trueSteps", "falseSteps"):
            if not isinstance(config.get(key) or [], list):
                raise config_error(key, "must be a list of steps")
        outcome = self._predicate(config["condition"], context, "config.condition")
        branch = "trueSteps" if outcome else "falseSteps"
        error = await self.run_steps(config.get(branch) or [], depth=depth + 1)
        if error is not None:
            raise StepFailed(f"{branch}: {error}")
        return _Result({"result": outcome, "branch": branch})

    def _set_variable(self, config: dict[str, Any], context: TemplateContext) -> _Result:
        name = config.get("variableName")
        if not isinstance(name, str) or not name or name.startswith("_"):
            raise config_error("variableName", "must be a non-empty name that does not start with _")
        if "value" not in config:
            raise config_error("value", "is required")
        value = config["value"]
        value = context.render(value) if isinstance(value, str) else copy.deepcopy(value)
        self.variables[name] = value
        return _Result(value)


def _when_false(when: Any, variables: dict[str, Any]) -> str:
    """Why a `when` skipped its step: the expression and the values it read (missing ones as undefined)."""
    if not isinstance(when, str):
        return f"when was {json.dumps(when)}"
    probe = TemplateContext(variables)
    with contextlib.suppress(ExpressionError):  # the same expression just evaluated without error
        evaluate(when, probe)
    values = [f"{name} = {_shown(value)}" for name, value in probe.used.items() if name != "_record"]
    values += [f"{name} = undefined" for name in probe.unresolved]
    return f"when was false ({when} → {', '.join(values) or 'no variables read'})"


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


def _prompt(config: dict[str, Any], context: TemplateContext) -> _Result:
    """Answer with the sandbox model, which echoes the rendered user prompt under its own label."""
    user = config.get("userPrompt", config.get("text"))
    if not isinstance(user, str):
        raise config_error("userPrompt", "must be a string: the prompt to send")
    system = config.get("systemPrompt")
    if system is not None and not isinstance(system, str):
        raise config_error("systemPrompt", "must be a string")
    model = config.get("model") or SANDBOX_MODEL
    if not isinstance(model, str):
        raise config_error("model", "must be a model name string")
    response_format = config.get("responseFormat", "text")
    if response_format not in ("text", "json"):
        raise config_error("responseFormat", 'must be "text" or "json"')
    rendered_system = context.render(system) if system else ""
    prompt = context.render(user)
    output: Any = f"[sandbox model {model}] {prompt}"
    if response_format == "json":
        output = {"sandboxModel": model, "prompt": prompt}
    completion = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
    return _Result(
        output,
        resolved_prompt=prompt,
        model_used=model,
        prompt_tokens=_words(rendered_system) + _words(prompt),
        completion_tokens=_words(completion),
    )


def _template(config: dict[str, Any], context: TemplateContext) -> _Result:
    """Render ``config.template`` with ``{{ }}`` placeholders only: Liquid is not implemented."""
    template = config.get("template")
    if not isinstance(template, str):
        raise config_error("template", "must be a string")
    if "{%" in template:
        raise config_error(
            "template", "uses Liquid tags ({% ... %}), which the sandbox does not implement; use {{ }} only"
        )
    return _Result(context.render(template))
