"""Flow step lists: validation for create/update (§3.2), the public validator and runtime dependencies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from . import engine
from .expressions import SUPPORTED, ExpressionError, parse
from .ids import new_id
from .validation import Checker, join, one_of

STEP_KEYS = ("id", "name", "type", "order", "enabled", "config", "when")
_TEMPLATE_VAR = re.compile(r"{{\s*([A-Za-z_][\w]*)")
_PAUSING_TYPES = ("wait-until", "crawl")


def check_steps(check: Checker, raw: Any, path: str) -> list[dict[str, Any]]:
    """Validate a step list; assign `step_…` ids and `order` where missing; sort by order."""
    if not isinstance(raw, list):
        check.wrong_type(path, "an array of steps", raw)
        return []
    steps: list[dict[str, Any]] = []
    for index, step in enumerate(raw):
        where = join(path, index)
        if not isinstance(step, dict):
            check.wrong_type(where, "an object {name, type, config}", step)
            continue
        check.known_keys(step, STEP_KEYS, where)
        check.string(step, "name", path=where, required=True, min_len=1, max_len=255)
        step_type = check.string(step, "type", path=where, required=True)
        if step_type is not None and step_type not in engine.STEP_TYPES:
            check.add(
                "INVALID_ENUM",
                f"{join(where, 'type')} '{step_type}' is not a step type",
                join(where, "type"),
                one_of(engine.STEP_TYPES),
            )
        check.string(step, "id", path=where, min_len=1, max_len=255)
        check.string(step, "when", path=where, nullable=True)
        _check_expressions(check, step, where)
        check.boolean(step, "enabled", path=where)
        check.mapping(step, "config", path=where)
        order = step.get("order")
        if order is not None and (isinstance(order, bool) or not isinstance(order, int)):
            check.wrong_type(join(where, "order"), "an integer", order)
        steps.append(
            {
                "id": step.get("id") or new_id("step"),
                "name": step.get("name"),
                "type": step_type,
                "order": order if isinstance(order, int) and not isinstance(order, bool) else index,
                "enabled": step.get("enabled", True) is not False,
                "config": step.get("config") or {},
                **({"when": step["when"]} if step.get("when") else {}),
            }
        )
    ids = [step["id"] for step in steps]
    for index, step_id in enumerate(ids):
        if step_id in ids[:index]:
            check.add(
                "CUSTOM_VALIDATION",
                f"Step id '{step_id}' is used twice",
                join(join(path, index), "id"),
                "Give every step a unique id, or omit ids and let the API assign them",
            )
    return sorted(steps, key=lambda step: step["order"])


def _check_expressions(check: Checker, step: dict[str, Any], where: str) -> None:
    """Refuse at save a `when` or `condition` (nested branches included) the engine could not run."""
    found: list[tuple[str, Any]] = [(join(where, "when"), step.get("when"))]
    config = step.get("config")
    if step.get("type") == "conditional" and isinstance(config, dict):
        found.append((join(join(where, "config"), "condition"), config.get("condition")))
        for key in ("trueSteps", "falseSteps"):
            branch = config.get(key)
            for index, inner in enumerate(branch if isinstance(branch, list) else []):
                if isinstance(inner, dict):
                    _check_expressions(check, inner, join(join(join(where, "config"), key), index))
    for path, text in found:
        if isinstance(text, str) and text.strip():
            try:
                parse(text)
            except ExpressionError as exc:
                check.add("INVALID_FORMAT", f"{path} does not parse: {exc}", path, f"Supported: {SUPPORTED}")


def walk(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every step, including those nested in a config (`trueSteps`, `falseSteps`, `steps`)."""
    for step in steps:
        yield step
        for value in (step.get("config") or {}).values():
            if isinstance(value, list) and value and all(isinstance(v, dict) and "type" in v for v in value):
                yield from walk(value)


def host_dependencies(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pausing = [
        step.get("id") or step.get("name") for step in walk(steps) if step.get("type") in _PAUSING_TYPES
    ]
    detached = [
        step.get("id") or step.get("name")
        for step in walk(steps)
        if step.get("type") == "execute-agent" and (step.get("config") or {}).get("detached")
    ]
    found: list[dict[str, Any]] = []
    if pausing:
        found.append(
            {
                "kind": "durable-pause-host",
                "interface": "DurablePauseHost",
                "reason": "wait-until and crawl steps pause the run and resume it later",
                "steps": pausing,
            }
        )
    if detached:
        found.append(
            {
                "kind": "background-run-coordinator",
                "interface": "BackgroundRunCoordinator",
                "reason": "detached execute-agent steps keep running after the flow returns",
                "steps": detached,
            }
        )
    return found


def validate_definition(body: dict[str, Any], *, authenticated: bool) -> dict[str, Any]:
    """The report of `POST /v1/public/flows/validate`: schema errors plus sandbox-specific advice."""
    check = Checker()
    check.string(body, "name", required=True, min_len=1, max_len=255)
    raw = body.get("steps", body.get("flowSteps"))
    path = "steps" if "steps" in body or "flowSteps" not in body else "flowSteps"
    steps = check_steps(check, raw if raw is not None else [], path)
    errors = [_issue(detail, raw if isinstance(raw, list) else []) for detail in check.details]
    warnings: list[dict[str, Any]] = []
    recommendations: list[dict[str, Any]] = []
    defined = {"_record"}
    for index, step in enumerate(steps):
        config = step["config"]
        info = {"index": index, "name": step["name"], "type": step["type"]}
        if step["type"] not in engine.SUPPORTED_STEP_TYPES and step["type"] in engine.STEP_TYPES:
            warnings.append(
                {
                    "code": "SANDBOX_UNSUPPORTED_STEP",
                    "message": f"Step type '{step['type']}' is not supported in the sandbox; this step fails when run here",
                    "path": f"{path}.{index}.type",
                    "step": info,
                }
            )
        if step["type"] == "prompt" and not config.get("model"):
            recommendations.append(
                {
                    "code": "MODEL_NOT_SET",
                    "message": "Set config.model explicitly on prompt steps",
                    "path": f"{path}.{index}.config.model",
                    "step": info,
                }
            )
        for name in sorted(
            set(_TEMPLATE_VAR.findall(repr(config))) - defined - set(body.get("inputs") or ())
        ):
            if not name.startswith("_") and not name.startswith("secret"):
                warnings.append(
                    {
                        "code": "UNDEFINED_VARIABLE",
                        "message": f"{{{{{name}}}}} is not set by an earlier step's outputVariable; it must come from dispatch inputs",
                        "path": f"{path}.{index}.config",
                        "step": info,
                    }
                )
        for key in ("outputVariable", "variableName"):
            if isinstance(config.get(key), str):
                defined.add(config[key])
    return {
        "valid": not errors,
        "errors": errors,
        "warnings": warnings,
        "recommendations": recommendations,
        "context": {
            "authenticated": authenticated,
            # Booleans, as the SDK's FlowValidationResultContext types them: the sandbox never checks
            # the account's secrets, models or integrations (`skippedChecks` names them).
            "accountChecksPerformed": False,
            "accountChecksSkipped": True,
            "skippedChecks": ["secrets", "models", "integrations"],
        },
    }


def _issue(detail: dict[str, Any], raw: list[Any]) -> dict[str, Any]:
    """A validator issue; `step` names the step (as sent) that the detail's path points into."""
    issue = dict(detail)
    match = re.match(r"^(?:steps|flowSteps)\.(\d+)", str(detail.get("path", "")))
    index = int(match.group(1)) if match else -1
    if 0 <= index < len(raw) and isinstance(raw[index], dict):
        issue["step"] = {"index": index, "name": raw[index].get("name"), "type": raw[index].get("type")}
    return issue
