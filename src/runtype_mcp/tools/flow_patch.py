"""`update_flow(step_update=...)`: edit, remove or insert one step of the stored list (read-merge-write)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runtype_mcp.errors import ArgumentError, Detail, quote, upstream
from runtype_mcp.models import Flow

if TYPE_CHECKING:
    from runtype_mcp.tools.flows import StepPatch


def patched_steps(
    flow: Flow, patch: StepPatch, whens: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], str]:
    """The full step list after the patch, in run order and renumbered; `whens` restores each stored
    step's `when` (the API does not echo it, and the list is sent whole)."""
    ordered = sorted(flow.flow_steps, key=lambda s: s.order if s.order is not None else 0)
    raw = [s.model_dump(by_alias=True, exclude_none=True) for s in ordered]
    for step in raw:
        if whens and step.get("id") in whens and whens[step["id"]] and "when" not in step:
            step["when"] = whens[step["id"]]
    matches = [s for s in raw if s.get("id") == patch.step] or [s for s in raw if s.get("name") == patch.step]
    if len(matches) != 1:
        known = (
            ", ".join(f"{upstream(s.get('name'), 80)} (id {quote(s.get('id'), 80)})" for s in raw[:20])
            or "none"
        )
        problem = "matches several steps; use the step id" if matches else "matches no step"
        raise ArgumentError([Detail("step_update.step", problem, f"steps are: {known}")])
    step = matches[0]
    label = str(step.get("id") or step.get("name"))
    position = raw.index(step)
    if patch.remove:
        if len(raw) == 1:
            raise ArgumentError(
                [
                    Detail(
                        "step_update.remove",
                        "would leave the flow with no steps",
                        "delete_flow removes a flow",
                    )
                ]
            )
        raw.pop(position)
    else:
        _edit(step, patch)
    if patch.insert is not None:
        if patch.remove:
            raise ArgumentError([Detail("step_update.insert", "cannot be combined with remove", "send one")])
        new = patch.insert.model_dump(exclude_none=True)
        new.pop("order", None)
        raw.insert(position + 1, new)
        label = new["name"]
    for index, item in enumerate(raw):
        item["order"] = index + 1
    return raw, label


def _edit(step: dict[str, Any], patch: StepPatch) -> None:
    config = {**(step.get("config") or {}), **(patch.config or {})}
    for key in patch.remove_config_keys or []:
        config.pop(key, None)
    step["config"] = config
    for field in ("name", "type", "enabled"):
        value = getattr(patch, field)
        if value is not None:
            step[field] = value
    if patch.when is not None:
        if patch.when.strip():
            step["when"] = patch.when
        else:
            step.pop("when", None)
