"""Checks of a flow's steps before anything is saved (`create_flow`, `update_flow`, `validate_flow`).

Errors (refused, nothing sent): an unknown step type, an unknown config key of a documented type (with a
did-you-mean), a missing required key, a `when`/`condition` outside the expression language, a nested
step that is not a step. Warnings (saved anyway): a `{{variable}}` no earlier step or `_record` provides
(it may come from run inputs), a `_record` field that is not a record field, an empty conditional, a
model the catalogue does not list. Expressions are parsed by the engine's own parser.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from runtype_mcp.errors import Detail, quote
from runtype_mcp.sandbox.expressions import SUPPORTED, ExpressionError, parse, variable_paths
from runtype_mcp.step_reference import STEP_TYPES, known_keys, required_keys

RECORD_FIELDS = frozenset({"id", "name", "type", "metadata", "createdAt", "updatedAt", "ownerId", "messages"})
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_ROOT = re.compile(r"\s*([A-Za-z_$][\w$]*)((?:\s*(?:\.|\?\.)\s*[\w$]+)*)")
_BRANCHES = ("trueSteps", "falseSteps")
REFERENCE = "see get_step_types"


@dataclass
class Findings:
    errors: list[Detail] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, path: str, message: str) -> None:
        text = f"{path}: {message}"
        if text not in self.warnings:
            self.warnings.append(text)


def check_steps(
    steps: list[dict[str, Any]], *, models: set[str] | None = None, path: str = "steps"
) -> Findings:
    """Check a step list in run order (`order`, else list order)."""
    found = Findings()
    _Checker(found, models).steps(steps, path, {"_record"})
    return found


def did_you_mean(word: str, choices: Any) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {str(c).lower(): str(c) for c in choices}
        return lowered.get(word.lower())
    return str(close[0])


@dataclass
class _Checker:
    found: Findings
    models: set[str] | None

    def steps(self, steps: list[Any], path: str, defined: set[str]) -> set[str]:
        order = sorted(enumerate(steps), key=lambda p: (_order(p[1], p[0]), p[0]))
        for index, step in order:
            where = f"{path}[{index}]"
            if not isinstance(step, dict) or not isinstance(step.get("type"), str) or not step.get("name"):
                self.found.errors.append(Detail(where, "must be a step {name, type, config}", REFERENCE))
                continue
            defined |= self.step(step, where, defined)
        return defined

    def step(self, step: dict[str, Any], where: str, defined: set[str]) -> set[str]:
        step_type = step["type"]
        config = step.get("config") or {}
        if step_type not in STEP_TYPES:
            guess = did_you_mean(step_type, STEP_TYPES)
            hint = f"did you mean {quote(guess, 40)}? " if guess else ""
            self.found.errors.append(
                Detail(
                    f"{where}.type",
                    f"unknown step type {quote(step_type, 60)}",
                    hint + "one of: " + ", ".join(f"'{t}'" for t in STEP_TYPES),
                )
            )
            return set()
        if not isinstance(config, dict):
            self.found.errors.append(Detail(f"{where}.config", "must be an object", REFERENCE))
            return set()
        self.keys(step_type, config, f"{where}.config")
        self.expression(step.get("when"), f"{where}.when", defined)
        for text in _strings(config, skip=(*_BRANCHES, "condition")):
            self.template(text, f"{where}.config", defined)
        if step_type == "prompt" and self.models is not None:
            model = config.get("model")
            if isinstance(model, str) and "{{" not in model and model not in self.models:
                self.found.warn(f"{where}.config.model", f"{quote(model, 80)} is not in list_models")
        made = set(_outputs([step]))
        if step_type == "conditional":
            self.expression(config.get("condition"), f"{where}.config.condition", defined)
            branches = [config.get(key) for key in _BRANCHES]
            for key, branch in zip(_BRANCHES, branches, strict=True):
                if branch is not None and not isinstance(branch, list):
                    self.found.errors.append(
                        Detail(f"{where}.config.{key}", "must be an array of steps", REFERENCE)
                    )
                elif branch:
                    made |= self.steps(branch, f"{where}.config.{key}", set(defined)) - defined
            if not any(isinstance(b, list) and b for b in branches):
                self.found.warn(f"{where}.config", "the conditional has no steps in trueSteps or falseSteps")
        return made

    def keys(self, step_type: str, config: dict[str, Any], where: str) -> None:
        allowed, closed = known_keys(step_type) or (set(), False)
        guessed: set[str] = set()
        if closed:
            for key in config:
                if key not in allowed:
                    guess = did_you_mean(key, allowed)
                    guessed.add(guess or "")
                    hint = (
                        f"did you mean {quote(guess, 60)}?"
                        if guess
                        else f"{step_type} keys: {', '.join(sorted(allowed))}"
                    )
                    self.found.errors.append(
                        Detail(f"{where}.{key}", "is not a config key of " + step_type, hint)
                    )
        required, one_of = required_keys(step_type)
        for key in required:
            if key not in config and key not in guessed:
                self.found.errors.append(Detail(f"{where}.{key}", f"is required for {step_type}", REFERENCE))
        if one_of and not any(key in config for key in one_of):
            self.found.errors.append(Detail(where, f"needs one of {', '.join(one_of)}", REFERENCE))

    def expression(self, text: Any, where: str, defined: set[str]) -> None:
        if text is None or isinstance(text, bool):
            if where.endswith("condition") and text is None:
                self.found.errors.append(Detail(where, "is required for conditional", REFERENCE))
            return
        if not isinstance(text, str):
            self.found.errors.append(Detail(where, "must be an expression string", REFERENCE))
            return
        try:
            node = parse(text)
        except ExpressionError as exc:
            self.found.errors.append(Detail(where, f"does not parse: {exc}", f"supported: {SUPPORTED}"))
            return
        for segments in variable_paths(node):
            self.variable(segments, where, defined)

    def template(self, text: str, where: str, defined: set[str]) -> None:
        for body in _PLACEHOLDER.findall(text):
            match = _ROOT.match(body)
            if match is None or body.strip().startswith("secret:"):
                continue
            rest = re.findall(r"[\w$]+", match[2])
            self.variable((match[1], *rest), where, defined)

    def variable(self, segments: tuple[str, ...], where: str, defined: set[str]) -> None:
        root = segments[0]
        if root == "_record":
            if len(segments) > 1 and segments[1] not in RECORD_FIELDS:
                self.found.warn(
                    where,
                    f"_record.{segments[1]} is not a record field; record data is _record.metadata.{segments[1]}",
                )
        elif root not in defined and not root.startswith("_"):
            self.found.warn(
                where,
                f"{{{{{root}}}}} is set by no earlier step (outputVariable): it must come from run inputs",
            )


def _order(step: Any, index: int) -> int:
    order = step.get("order") if isinstance(step, dict) else None
    return order if isinstance(order, int) and not isinstance(order, bool) else index


def _outputs(steps: list[Any]) -> Iterator[str]:
    for step in steps:
        config = step.get("config") if isinstance(step, dict) else None
        if isinstance(config, dict):
            for key in ("outputVariable", "variableName"):
                if isinstance(config.get(key), str):
                    yield config[key]


def _strings(value: Any, *, skip: tuple[str, ...] = ()) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
