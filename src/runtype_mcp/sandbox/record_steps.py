"""Record steps of the sandbox flow engine: get-record, list-records, update-record, upsert-record.

Config keys follow runtype-api.md §5.3. String config values are rendered as templates; so are the
strings inside ``updates`` and inside a ``where`` object (``{"value": "{{email}}"}``). A failing step
raises ``StepFailed`` whose message names the config key at fault.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from runtype_mcp.sandbox.filters import FilterError, validate_where
from runtype_mcp.sandbox.templating import UNDEFINED, TemplateContext, parse_path

MAX_LIST_LIMIT = 1000
MERGE_STRATEGIES = ("merge", "replace", "deep-merge")

_T = TypeVar("_T")


class RecordOps(Protocol):
    """Record access the engine needs; implemented by the sandbox store. Records are API-shaped dicts."""

    async def get_record(
        self,
        *,
        record_id: str | None = None,
        record_type: str | None = None,
        name: str | None = None,
        where: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None: ...

    async def list_records(
        self, *, record_type: str, where: dict[str, Any] | None = None, limit: int = 50
    ) -> list[dict[str, Any]]: ...

    async def update_record(
        self, record_id: str, updates: dict[str, Any], *, merge_strategy: str = "merge"
    ) -> dict[str, Any]: ...

    async def upsert_record(
        self, *, record_type: str, name: str | None, metadata: dict[str, Any], merge_strategy: str = "merge"
    ) -> dict[str, Any]: ...


class StepFailed(Exception):
    """A step cannot complete; the message is the step's error as the API reports it."""


def config_error(key: str, problem: str) -> StepFailed:
    return StepFailed(f"config.{key} {problem}")


@dataclass
class RecordSteps:
    """The record step types over one run's variables; ``_record`` follows changes to the current record."""

    ops: RecordOps
    variables: dict[str, Any]

    async def get_record(self, config: dict[str, Any], context: TemplateContext) -> Any:
        if "recordId" in config:
            return await _call(self.ops.get_record(record_id=_render(config, "recordId", context)))
        if "recordFilter" in config:
            record_type, where = _record_filter(config, context)
            if record_type is None and "recordType" in config:
                record_type = _render(config, "recordType", context)
            return await _call(self.ops.get_record(record_type=record_type, where=where))
        if "recordType" in config:
            record_type = _render(config, "recordType", context)
            name = _render_optional(config, "recordName", context)
            return await _call(self.ops.get_record(record_type=record_type, name=name))
        raise StepFailed("config needs recordId, recordType (with recordName) or recordFilter")

    async def list_records(self, config: dict[str, Any], context: TemplateContext) -> Any:
        record_type, where = _record_filter(config, context) if "recordFilter" in config else (None, None)
        if "recordType" in config or record_type is None:
            record_type = _render(config, "recordType", context)
        if where is None and "where" in config:
            where = _checked_where(config["where"], "config.where", context)
        limit = config.get("limit", 50)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIST_LIMIT:
            raise config_error("limit", f"must be an integer from 1 to {MAX_LIST_LIMIT}")
        return list(await _call(self.ops.list_records(record_type=record_type, where=where, limit=limit)))

    async def update_record(self, config: dict[str, Any], context: TemplateContext) -> Any:
        updates = config.get("updates")
        if not isinstance(updates, dict):
            raise config_error("updates", "must be an object of the fields to change")
        strategy = _merge_strategy(config)
        if "recordId" in config:
            record_id = _render(config, "recordId", context)
            target = await _call(self.ops.get_record(record_id=record_id))
            if target is None:
                raise config_error("recordId", f"names no existing record: {record_id!r}")
        elif "recordFilter" in config:
            record_type, where = _record_filter(config, context)
            target = await _call(self.ops.get_record(record_type=record_type, where=where))
            if target is None:
                raise config_error("recordFilter", "matches no record")
        else:
            target = self.variables.get("_record")
            if not isinstance(target, dict) or not target.get("id"):
                raise config_error(
                    "recordId", "or config.recordFilter is required when the run has no record"
                )
        updated = await _call(
            self.ops.update_record(str(target["id"]), context.render_deep(updates), merge_strategy=strategy)
        )
        return self._refresh_current(updated)

    async def upsert_record(self, config: dict[str, Any], context: TemplateContext) -> Any:
        record_type = _render(config, "recordType", context)
        name = _render_optional(config, "recordName", context)
        strategy = _merge_strategy(config)
        source = config.get("sourceVariable")
        if not isinstance(source, str):
            raise config_error("sourceVariable", "must name a variable that holds an object of metadata")
        text = source.strip().removeprefix("{{").removesuffix("}}").strip()
        parsed = parse_path(text)
        if parsed is None or parsed[1] != len(text):
            raise config_error("sourceVariable", f"is not a variable path: {source!r}")
        metadata = context.lookup(parsed[0])
        if not isinstance(metadata, dict):
            found = "undefined" if metadata is UNDEFINED else type(metadata).__name__
            raise config_error("sourceVariable", f"{source!r} must resolve to an object, but it is {found}")
        upserted = await _call(
            self.ops.upsert_record(
                record_type=record_type, name=name, metadata=metadata, merge_strategy=strategy
            )
        )
        return self._refresh_current(upserted)

    def _refresh_current(self, record: Any) -> Any:
        current = self.variables.get("_record")
        if isinstance(current, dict) and isinstance(record, dict) and record.get("id") == current.get("id"):
            self.variables["_record"] = record
        return record


async def _call(call: Awaitable[_T]) -> _T:
    try:
        return await call
    except Exception as exc:  # a store failure is this step's failure, not the engine's
        raise StepFailed(f"record store error: {exc}") from exc


def _render(config: dict[str, Any], key: str, context: TemplateContext) -> str:
    """A required string config value, rendered; failing names the key."""
    value = config.get(key)
    if not isinstance(value, str):
        raise config_error(key, "must be a string")
    rendered = context.render(value)
    if not rendered.strip():
        raise config_error(key, f"is empty after rendering {value!r}")
    return rendered


def _render_optional(config: dict[str, Any], key: str, context: TemplateContext) -> str | None:
    return None if config.get(key) is None else _render(config, key, context)


def _merge_strategy(config: dict[str, Any]) -> str:
    strategy = config.get("mergeStrategy", "merge")
    if strategy not in MERGE_STRATEGIES:
        raise config_error("mergeStrategy", f"must be one of: {', '.join(MERGE_STRATEGIES)}")
    return str(strategy)


def _record_filter(
    config: dict[str, Any], context: TemplateContext
) -> tuple[str | None, dict[str, Any] | None]:
    record_filter = config.get("recordFilter")
    if not isinstance(record_filter, dict):
        raise config_error("recordFilter", "must be an object {type?, where}")
    record_type = record_filter.get("type")
    if record_type is not None and not isinstance(record_type, str):
        raise config_error("recordFilter.type", "must be a string")
    where = record_filter.get("where")
    checked = None if where is None else _checked_where(where, "config.recordFilter.where", context)
    return (context.render(record_type) if record_type else None), checked


def _checked_where(where: Any, path: str, context: TemplateContext) -> dict[str, Any]:
    """Render placeholders inside a where object, then validate it with the filter language."""
    rendered = context.render_deep(where)
    try:
        validate_where(rendered, path=path)
    except FilterError as exc:
        problems = (
            f"{detail['path']}: {detail['message']} ({detail['suggestion']})" for detail in exc.details
        )
        raise StepFailed("; ".join(problems)) from None
    return dict(rendered)
