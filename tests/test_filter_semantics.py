"""What the filter docs say about missing and null fields is what the sandbox does, operator by operator."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from runtype_mcp.config import Settings
from runtype_mcp.filter_reference import FILTER_SEMANTICS, FILTERS_URI
from runtype_mcp.server import build_server
from tests.conftest import data

pytestmark = pytest.mark.anyio

RECORDS = {
    "has": {"status": "open", "flag": False, "seen": "2026-01-01"},
    "null": {"status": None, "flag": None, "seen": None},
    "missing": {},
}
# Each operator with a value that the record "has" may or may not match; what matters is the two unset ones.
CASES: list[tuple[str, str, Any, set[str]]] = [
    ("status", "eq", "open", {"has"}),
    ("status", "neq", "open", {"null", "missing"}),
    ("status", "neq", "closed", {"has", "null", "missing"}),
    ("status", "gt", "a", {"has"}),
    ("status", "lte", "zzz", {"has"}),
    ("status", "between", ["a", "z"], {"has"}),
    ("status", "in", ["open"], {"has"}),
    ("status", "notIn", ["open"], {"null", "missing"}),
    ("status", "contains", "pe", {"has"}),
    ("status", "startsWith", "o", {"has"}),
    ("status", "endsWith", "n", {"has"}),
    ("status", "isSet", None, {"has"}),
    ("status", "isNotSet", None, {"null", "missing"}),
    ("flag", "isFalse", None, {"has"}),
    ("flag", "isTrue", None, set()),
    ("seen", "olderThanDays", 1, {"has"}),
    ("seen", "withinLastDays", 100000, {"has"}),
]


async def test_a_missing_or_null_field_matches_only_neq_notin_and_isnotset() -> None:
    async with Client(build_server(Settings(sandbox=True, sandbox_db=":memory:"))) as client:
        for name, metadata in RECORDS.items():
            data(
                await client.call_tool(
                    "create_record", {"name": name, "type": "semantics", "metadata": metadata}
                )
            )
        matched: dict[tuple[str, str], set[str]] = {}
        for field, op, value, _ in CASES:
            condition: dict[str, Any] = {"field": field, "op": op}
            if value is not None:
                condition["value"] = value
            out = data(
                await client.call_tool("preview_record_filter", {"type": "semantics", "filter": condition})
            )
            matched[(field, op + repr(value))] = {r["name"] for r in out["samples"]}
        reference = await client.read_resource(FILTERS_URI)
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert matched == {(f, op + repr(v)): want for f, op, v, want in CASES}
    assert reference.contents[0].text == FILTER_SEMANTICS  # type: ignore[union-attr]
    described = tools["preview_record_filter"].input_schema["properties"]["filter"]["description"]
    assert described.endswith("A missing or null field matches only neq, notIn and isNotSet.")
