"""Outputs of the records tools that work at scale: upserts, aggregates, record types."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from runtype_mcp.models.outputs import Out, RecordOut

Outcome = Literal["created", "updated", "unchanged", "failed"]


class UpsertOut(Out):
    outcome: Outcome
    record: RecordOut
    warnings: list[str] = Field(default_factory=list)
    note: str | None = None


class UpsertRow(Out):
    name: str
    outcome: Outcome
    id: str | None = None
    error: str | None = None


class UpsertManyOut(Out):
    type: str
    created: int
    updated: int
    unchanged: int
    failed: int
    rows: list[UpsertRow]
    note: str | None = None


class AggregateOut(Out):
    type: str
    scanned: int
    groups: int
    columns: list[str]
    rows: list[list[Any]]
    skipped_non_numeric: dict[str, int] | None = None
    groups_omitted: int | None = None
    capped: bool | None = None
    warnings: list[str] = Field(default_factory=list)
    note: str | None = None


class RecordTypeCount(Out):
    type: str
    count: int


class RecordTypesOut(Out):
    types: list[RecordTypeCount]
    source: str
    note: str | None = None
