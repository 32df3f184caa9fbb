"""A 2xx body read into a response model: a body of another shape is a `BadResponse`, never an
argument error. The request was sent by then, so the error says whether repeating it is safe."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from runtype_mcp.client.core import Response, call_stats, expect_object
from runtype_mcp.errors import BadResponse

M = TypeVar("M", bound=BaseModel)


def shape_problem(exc: ValidationError) -> str:
    """What did not fit, in our model's terms (field names are ours; upstream values are not echoed)."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0] if errors else None
    if first is None:
        return "JSON of another shape"
    where = ".".join(str(part) for part in first["loc"]) or "(body)"
    more = f", and {len(errors) - 1} more" if len(errors) > 1 else ""
    return f"JSON of another shape ({where}: {first['msg']}{more})"


def validated(model: type[M], body: Mapping[str, Any], resp: Response, what: str) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise BadResponse(what, resp.status, shape_problem(exc), safe=resp.safe) from None


def parse(model: type[M], resp: Response, what: str) -> M:
    """The body as `model`, or a BadResponse that says the request was sent (and how to check)."""
    return validated(model, expect_object(resp, what), resp, what)


def expect_keys(body: Mapping[str, Any], what: str, *keys: str) -> dict[str, Any]:
    """`body` when it has at least one of `keys` (the counts a write reports); else a BadResponse:
    a write answered without them must not be shown as "0 changed" when the change may have landed."""
    if any(key in body for key in keys):
        return dict(body)
    stats = call_stats.get()
    status = stats.last_status if stats is not None and stats.last_status else 200
    raise BadResponse(what, status, f"JSON without {' or '.join(keys)}")


def expect_fields(
    body: Mapping[str, Any], resp: Response, what: str, fields: Mapping[str, type | tuple[type, ...]]
) -> dict[str, Any]:
    """`body` when at least one of `fields` is present and every present one has its type."""
    wrong = [
        k for k, kind in fields.items() if k in body and body[k] is not None and not isinstance(body[k], kind)
    ]
    if wrong or not any(body.get(k) is not None for k in fields):
        got = (
            f"JSON of another shape ({', '.join(wrong)} of the wrong type)"
            if wrong
            else f"JSON without {' or '.join(fields)}"
        )
        raise BadResponse(what, resp.status, got, safe=resp.safe)
    return dict(body)
