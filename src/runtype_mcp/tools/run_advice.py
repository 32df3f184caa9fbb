"""What to do about `{{variables}}` a run could not resolve: fix the flow, or accept the data.

A `_record.metadata.<key>` that no record of the type has is a wrong name (fix the flow); one that
other records have is missing on this record (the data: running again changes nothing). Any other
name is set by no earlier step: a typo or a missing outputVariable."""

from __future__ import annotations

from runtype_mcp.client import RuntypeClient
from runtype_mcp.errors import APIError, BadResponse, TransportFailure, quote, upstream

_FIELD_PREFIX = "_record.metadata."
MAX_CHECKED = 5


async def unresolved_advice(client: RuntypeClient, record_id: str | None, names: list[str]) -> str:
    wrong: list[str] = []
    missing: list[str] = []
    unknown: list[str] = []
    record_type = None
    if record_id is not None and any(n.startswith(_FIELD_PREFIX) for n in names):
        try:
            record_type = (await client.get_record(record_id)).type
        except (APIError, BadResponse, TransportFailure):
            record_type = None
    for name in names[:MAX_CHECKED]:
        if not name.startswith(_FIELD_PREFIX):
            (unknown if name.startswith("_record") or "secret:" in name else wrong).append(name)
            continue
        field = name[len(_FIELD_PREFIX) :].split(".")[0]
        if record_type is None:
            unknown.append(name)
            continue
        try:
            body = await client.preview_record_filter(
                {"type": record_type, "where": {"field": field, "op": "isSet"}}
            )
        except (APIError, BadResponse, TransportFailure):
            unknown.append(name)
            continue
        matched = body.get("matchedCount")
        (missing if isinstance(matched, int) and matched > 0 else wrong).append(name)
    parts = []
    if wrong:
        parts.append(
            f"Fix the flow: {', '.join(upstream(n, 80) for n in wrong)} "
            + (
                f"is set on no {quote(record_type, 60)} record and no earlier step"
                if record_type
                else "is set by no earlier step"
            )
            + " (check the name with get_step_types / discover_record_schema)."
        )
    if missing:
        parts.append(
            f"{', '.join(upstream(n, 80) for n in missing)}: other records have it, this one does not: the data, "
            "not the flow. Running again changes nothing; fill the field or skip such records with a filter."
        )
    if unknown:
        parts.append(f"Check {', '.join(upstream(n, 80) for n in unknown)}: not resolved in this run.")
    return "Some {{variables}} did not resolve (unresolved_variables). " + " ".join(parts)
