"""Shared projections of run results for a context window: step-result rows and size fitting.

Used by get_record_step_results and list_flow_step_results (and the results tools), so a step
result reads the same wherever it appears. No tools are registered here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from runtype_mcp.errors import clean
from runtype_mcp.models.outputs import Out
from runtype_mcp.models.outputs_records import RecordStepList, RecordStepRow
from runtype_mcp.tools.paging import next_offset

PREVIEW = 300
MAX_TEXT = 18000  # a whole result stays under this many characters
M = TypeVar("M", bound=Out)


def fit(build: Callable[[int], M], width: int) -> M:
    """The output built with the widest previews (halving from `width`) that keeps it under MAX_TEXT."""
    while True:
        out = build(width)
        size = len(
            json.dumps(
                out.model_dump(mode="json", exclude_none=True), ensure_ascii=False, separators=(",", ":")
            )
        )
        if size <= MAX_TEXT or width <= 40:
            return out
        width //= 2


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def int_of(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def num_of(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def str_of(value: Any, limit: int = 120) -> str | None:
    return clean(value, limit) if value not in (None, "") else None


def step_row(r: dict[str, Any], width: int) -> RecordStepRow:
    text = text_of(r.get("outputPreview"))
    return RecordStepRow(
        id=str_of(r.get("id"), 200),
        step=str_of(r.get("stepName")),
        type=str_of(r.get("stepType"), 40),
        status=_status(r),
        flow_id=str_of(r.get("flowId"), 200),
        version_id=str_of(r.get("flowVersionId"), 200),
        record_id=str_of(r.get("recordId"), 200),
        record_name=str_of(r.get("recordName")),
        batch_id=str_of(r.get("batchExecutionId"), 200),
        created_at=str_of(r.get("createdAt"), 40),
        duration_ms=num_of(r.get("durationMs")),
        model=str_of(r.get("modelUsed"), 80),
        total_tokens=int_of(r.get("totalTokens")),
        output=clean(text, width) if text is not None else None,
        output_chars=len(text) if text is not None and len(text) > width else None,
        error=str_of(r.get("errorMessage"), max(width, 120)),
    )


def _status(r: dict[str, Any]) -> str | None:
    """The step's status, with why when it was skipped: "skipped: when was false (...)"."""
    status = str_of(r.get("status"), 40)
    if status == "skipped":
        return f"skipped: {str_of(r.get('skipReason'), 300) or 'no reason reported'}"
    return status


def step_results_page(body: dict[str, Any], offset: int, limit: int) -> RecordStepList:
    """One page of step results (offset paging), previews fitted under MAX_TEXT."""
    raw = [r for r in body.get("data") or [] if isinstance(r, dict)][:limit]
    paging = body.get("pagination") if isinstance(body.get("pagination"), dict) else {}
    more = bool(paging.get("hasMore")) if paging else len(raw) >= limit

    def build(width: int) -> RecordStepList:
        rows = [step_row(r, width) for r in raw]
        cut = any(r.output_chars for r in rows)
        return RecordStepList(
            step_results=rows,
            count=len(rows),
            has_more=more,
            next_cursor=next_offset(offset, len(raw), more),
            note=f"Outputs and errors are previews cut at {width} chars." if cut else None,
        )

    return fit(build, PREVIEW)
