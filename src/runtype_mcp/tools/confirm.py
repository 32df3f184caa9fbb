"""Confirmation for destructive operations: ask through elicitation when the client can,
otherwise require an explicit `confirm=true` argument.

A destructive tool declares
    approval: Annotated[ElicitationResult[Approval], Resolve(<its resolver>)]
whose resolver returns `ask(ctx, confirm, question)`. When the client supports elicitation the
user is always asked, even if the model passed confirm=true: a model cannot approve for the user.
"""

from __future__ import annotations

from typing import Literal

from mcp.server.mcpserver import AcceptedElicitation, Elicit, ElicitationResult
from pydantic import BaseModel, Field

from runtype_mcp.client.keys import current_secrets
from runtype_mcp.scrub import scrub_text
from runtype_mcp.tools.registry import Ctx

Decision = Literal["approved", "needs_confirmation", "declined"]


class Approval(BaseModel):
    approve: bool = Field(description="Tick to approve this change.")


def can_elicit(ctx: Ctx) -> bool:
    caps = ctx.client_capabilities
    return caps is not None and caps.elicitation is not None


def ask(ctx: Ctx, confirm: bool, question: str) -> Approval | Elicit[Approval]:
    if can_elicit(ctx):
        # The question quotes record names; a legacy `elicitation/create` is a request the server
        # sends itself, outside the door's middleware, so it is scrubbed here.
        secrets = current_secrets(ctx.request_context.lifespan_context.settings)
        return Elicit(scrub_text(question, secrets), Approval)
    return Approval(approve=confirm)


def decide(approval: ElicitationResult[Approval], ctx: Ctx) -> Decision:
    if isinstance(approval, AcceptedElicitation) and approval.data.approve:
        return "approved"
    return "declined" if can_elicit(ctx) else "needs_confirmation"


def not_done_note(decision: Decision, action: str) -> str:
    if decision == "declined":
        return f"Nothing was {action}: the user declined in the confirmation dialog. Do not retry unless they ask."
    return (
        f"Nothing was {action} yet. Show the user exactly what is listed here, and only after they agree "
        "call this tool again with the same arguments and confirm=true."
    )
