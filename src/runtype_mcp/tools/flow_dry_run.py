"""`run_flow(dry_run=true)`: what each write step would have changed, from a run that stored nothing."""

from __future__ import annotations

from typing import Any

from runtype_mcp.errors import upstream
from runtype_mcp.models.outputs_flows import FlowRunOut, WouldWrite
from runtype_mcp.tools.preview import preview

WRITE_STEPS = frozenset({"update-record", "upsert-record"})
# Step types that act outside the record: a virtual record does not stop them on Runtype.
OUTSIDE_STEPS = frozenset(
    {"send-email", "send-event", "send-stream", "api-call", "tool-call", "execute-agent", "store-asset",
     "store-vector", "save-memory", "generate-pdf"}
)  # fmt: skip
MAX_CHANGES = 50


def dry_run_options() -> dict[str, Any]:
    """Dispatch options of a side-effect-free test: a virtual copy of the record, nothing stored."""
    return {"recordMode": "virtual", "storeResults": False}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    keys = [k for k in {**before, **after} if before.get(k, ...) != after.get(k, ...)]
    return {
        k: {"before": before.get(k), "after": after.get(k) if k in after else "(removed)"}
        for k in keys[:MAX_CHANGES]
    }


def would_writes(events: list[Any], record_id: str | None, before: dict[str, Any]) -> list[WouldWrite]:
    """Each completed write step's would-be change; the run's record is diffed against `before`."""
    found: list[WouldWrite] = []
    current = dict(before)
    for event in events:
        if not isinstance(event, dict) or event.get("type") != "step_complete":
            continue
        kind = event.get("stepType")
        output = event.get("result")
        if kind not in WRITE_STEPS and kind not in OUTSIDE_STEPS:
            continue
        if kind in OUTSIDE_STEPS:
            found.append(WouldWrite(step=event.get("name"), type=kind, output="acts outside the record"))
            continue
        if not event.get("success"):
            continue
        target = output.get("id") if isinstance(output, dict) else None
        metadata = output.get("metadata") if isinstance(output, dict) else None
        if target is not None and target == record_id and isinstance(metadata, dict):
            found.append(
                WouldWrite(
                    step=event.get("name"), type=kind, record_id=target, changes=diff(current, metadata)
                )
            )
            current = dict(metadata)
        else:
            shown, _ = preview(output, 600)
            found.append(WouldWrite(step=event.get("name"), type=kind, record_id=target, output=shown))
    return found


def nothing_ran(out: FlowRunOut) -> str | None:
    """A plain statement when no step ran, instead of a bare `success: true, steps: []`."""
    if any(s.status in ("completed", "failed") for s in out.steps):
        return None
    if out.steps:
        return "No step ran: every step was skipped (see each step's status for why)."
    return "No step ran: the run reported no steps."


def label(out: FlowRunOut, events: list[Any], record_id: str | None, before: dict[str, Any]) -> FlowRunOut:
    out.dry_run = True
    out.would_write = would_writes(events, record_id, before)
    outside = [w.step or w.type for w in out.would_write if w.output == "acts outside the record"]
    out.next = (
        (f"{nothing_ran(out)} " if nothing_ran(out) else "")
        + "Dry run on a virtual copy: NOTHING was written or stored; would_write shows each write step's change. "
        + (
            f"On Runtype, steps acting outside the record still ran: {', '.join(upstream(n, 80) for n in outside)}. "
            if outside
            else ""
        )
        + "Run without dry_run to apply."
    )
    return out
