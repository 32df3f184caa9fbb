"""One typed model of the record filter language (runtype-api.md §4), used by every tool that filters.

Invalid filters are rejected locally, before any request, in the same error format as API 400s.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, WithJsonSchema, model_validator

Op = Literal[
    "eq", "neq", "gt", "gte", "lt", "lte", "between", "contains", "startsWith", "endsWith",
    "in", "notIn", "isSet", "isNotSet", "isTrue", "isFalse", "withinLastDays", "olderThanDays",
]  # fmt: skip
_NO_VALUE = frozenset({"isSet", "isNotSet", "isTrue", "isFalse"})
_TEXT = frozenset({"contains", "startsWith", "endsWith"})
_LIST = frozenset({"in", "notIn"})
_DAYS = frozenset({"withinLastDays", "olderThanDays"})
Scalar = str | int | float | bool


class Condition(BaseModel):
    """{field, op, value}. field: id, name, createdAt, updatedAt, or a metadata key named bare ("tier")."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    field: str = Field(min_length=1, max_length=200)
    op: Op
    value: Scalar | list[Scalar] | None = Field(
        default=None,
        description="Scalar for eq..lte; [low, high] for between; list for in/notIn; string for text ops; "
        "days for withinLastDays/olderThanDays; omit for isSet/isNotSet/isTrue/isFalse.",
    )

    @model_validator(mode="before")
    @classmethod
    def _not_a_group(cls, data: Any) -> Any:
        if isinstance(data, dict) and "conditions" in data:
            raise ValueError("groups nest at most two levels: an inner group may contain only conditions")
        return data

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        op, value = self.op, self.value
        if self.field.startswith("metadata."):
            raise ValueError(f"name metadata keys bare: field {self.field[9:]!r}, not {self.field!r}")
        if op in _NO_VALUE and value is not None:
            raise ValueError(f"{op} takes no value; drop value")
        if op not in _NO_VALUE and value is None:
            raise ValueError(f"{op} needs a value")
        if op == "between" and not (isinstance(value, list) and len(value) == 2):
            raise ValueError("between needs value [low, high], e.g. [1, 10]")
        if op in _LIST and not (isinstance(value, list) and value):
            raise ValueError(f"{op} needs a non-empty list, e.g. ['gold', 'platinum']")
        if op in _TEXT and not isinstance(value, str):
            raise ValueError(f"{op} needs a string value")
        if op in _DAYS and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
            raise ValueError(f"{op} needs a number of days >= 0")
        if op in {"eq", "neq", "gt", "gte", "lt", "lte"} and isinstance(value, list):
            raise ValueError(f"{op} compares one value; use in/notIn for lists")
        return self


class InnerGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    op: Literal["and", "or"]
    conditions: list[Condition] = Field(min_length=1, max_length=50)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "where-group" if "conditions" in value else "where-condition"
    return "where-group" if isinstance(value, InnerGroup | Group) else "where-condition"


class Group(BaseModel):
    """{op: and|or, conditions: [...]}; an inner group may hold only conditions (two levels at most)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    op: Literal["and", "or"]
    conditions: list[
        Annotated[
            Annotated[Condition, Tag("where-condition")] | Annotated[InnerGroup, Tag("where-group")],
            Discriminator(_kind),
        ]
    ] = Field(min_length=1, max_length=50)


Where = Annotated[
    Annotated[Condition, Tag("where-condition")] | Annotated[Group, Tag("where-group")],
    Discriminator(_kind),
]
# Advertised compactly (the grammar in words costs far fewer tokens than the nested JSON Schema);
# arguments are still validated against the full typed model above.
FILTER_SCHEMA = {
    "type": "object",
    "description": (
        "Condition {field,op,value} or group {op:and|or,conditions:[...]}; inner groups hold only conditions. "
        "field: id, name, createdAt, updatedAt or a bare metadata key (tier, not metadata.tier). "
        "op: eq neq gt gte lt lte (scalar), between ([lo,hi]), in notIn (list), contains startsWith endsWith "
        "(string), isSet isNotSet isTrue isFalse (no value), withinLastDays olderThanDays (days). "
        "A missing or null field matches only neq, notIn and isNotSet."
    ),
}
WhereArg = Annotated[Where | None, WithJsonSchema(FILTER_SCHEMA)]


def where_json(where: Condition | Group | None) -> dict[str, Any] | None:
    return None if where is None else where.model_dump(mode="json", exclude_none=True)
