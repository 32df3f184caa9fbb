"""The execution events of a dispatch (§6.1) in the SDK's `ExecutionStreamEvent` shapes, and dispatch's
SDK-defined request keys beyond what the sandbox runs."""

from __future__ import annotations

from typing import Any

from . import engine, shapes
from .ids import now_iso
from .runs import FlowTarget
from .validation import Checker

# Request keys the SDK defines beyond what the sandbox runs: labels it accepts and echoes, and
# features it refuses with a 400 detail naming the key (never silently ignored).
DISPATCH_LABELS = ("conversationId", "endUser", "tenant")
DISPATCH_UNSUPPORTED = {
    "agent": "the sandbox runs flows only; send flow (an id or an inline definition)",
    "clientTools": "client tools need a paused execution the sandbox cannot resume; drop clientTools",
    "clientToolsPolicy": "client tools are not supported by the sandbox; drop clientToolsPolicy",
    "credentialProxies": "the sandbox makes no outbound calls with credentials; drop credentialProxies",
    "identityProof": "the sandbox has a single built-in user; drop identityProof",
}


def events(
    target: FlowTarget,
    execution_id: str,
    record_id: str | None,
    outcome: engine.RunOutcome,
    started_at: str,
) -> list[dict[str, Any]]:
    """The execution stream of §6.1, built after the run (the sandbox does not stream token by token).

    Every event carries `seq` (1, 2, ...) and `executionId`; execution events carry `kind: "flow"`,
    as the SDK's `ExecutionStreamEvent` types require.
    """
    run = {"executionId": execution_id}
    stream: list[dict[str, Any]] = [
        {
            "type": "execution_start",
            **run,
            "kind": "flow",
            "startedAt": started_at,
            "flowId": target.flow_id,
            "flowName": target.name,
            "recordId": record_id,
            "totalSteps": len(outcome.steps),
        },
    ]
    for index, step in enumerate(outcome.steps):
        base = {**run, "id": step.step_id, "name": step.name, "stepType": step.type, "index": index}
        if step.status == "skipped":
            stream.append({"type": "step_skip", **base, "reason": step.reason})
            continue
        stream.append({"type": "step_start", **base})
        stream.append(
            {
                "type": "step_complete",
                **base,
                "success": step.status == "completed",
                "result": step.output,
                "error": step.error,
                "durationMs": step.duration_ms,
                "cost": 0,
                "tokensUsed": step.prompt_tokens + step.completion_tokens,
                "unresolvedVariables": step.unresolved_variables,
                "modelUsed": step.model_used,
            }
        )
    if outcome.success:
        final = outcome.final_output
        stream.append(
            {
                "type": "execution_complete",
                **run,
                "kind": "flow",
                "completedAt": now_iso(),
                **summary(outcome),
                # The SDK types finalOutput as a string: structured output travels as its JSON text.
                "finalOutput": final if final is None or isinstance(final, str) else shapes.dumps(final),
            }
        )
    else:
        stream.append(
            {
                "type": "execution_error",
                **run,
                "kind": "flow",
                "error": {"code": "FLOW_FAILED", "message": str(outcome.error)},
                "code": "FLOW_FAILED",
            }
        )
    return [{**event, "seq": seq} for seq, event in enumerate(stream, start=1)]


def summary(outcome: engine.RunOutcome) -> dict[str, Any]:
    return {
        "success": bool(outcome.success),
        "totalSteps": len(outcome.steps),
        "successfulSteps": sum(1 for s in outcome.steps if s.status == "completed"),
        "failedSteps": sum(1 for s in outcome.steps if s.status == "failed"),
        "skippedSteps": sum(1 for s in outcome.steps if s.status == "skipped"),
        "durationMs": outcome.duration_ms,
        "totalCost": 0,
        "finalOutput": outcome.final_output,
    }


def dispatch_labels(check: Checker, body: dict[str, Any]) -> dict[str, Any]:
    """Validate the SDK's identity labels (echoed back) and refuse the features the sandbox lacks."""
    check.string(body, "conversationId", min_len=1, max_len=255)
    check.mapping(body, "endUser")
    check.mapping(body, "tenant")
    if body.get("history") not in (None, "inline"):
        check.add(
            "UNSUPPORTED_IN_SANDBOX",
            "history 'stored' needs stored conversations, which the sandbox does not keep",
            "history",
            "Send the conversation in messages (history 'inline', the default)",
        )
    for key, why in DISPATCH_UNSUPPORTED.items():
        if body.get(key) is not None:
            check.add(
                "UNSUPPORTED_IN_SANDBOX",
                f"{key} is not supported by the sandbox",
                key,
                why[0].upper() + why[1:],
            )
    return {key: body[key] for key in DISPATCH_LABELS if body.get(key) is not None}
