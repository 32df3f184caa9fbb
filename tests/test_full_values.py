"""list_records(fields=..., full_values=true): one call reads one field of a whole page uncut, within a bound."""

from __future__ import annotations

import pytest
from mcp import Client

from runtype_mcp.config import Settings
from runtype_mcp.server import build_server
from tests.conftest import data, text
from tests.fence import shown as shown_text

pytestmark = pytest.mark.anyio


def _note(i: int, size: int) -> str:
    return (f"customer {i:03d} notes: " + "renewal risk, asked about pricing tiers; " * 40)[:size]


async def _seed(client: Client, size: int) -> dict[str, str]:
    rows = [
        {"name": f"cust {i:03d}", "metadata": {"notes": _note(i, size), "tier": "gold"}} for i in range(100)
    ]
    made = await client.call_tool("upsert_records", {"type": "client", "records": rows})
    assert not made.is_error, text(made)
    return {r["name"]: r["metadata"]["notes"] for r in rows}


async def test_one_call_returns_100_uncut_notes_and_only_the_named_field() -> None:
    async with Client(build_server(Settings(sandbox=True, sandbox_db=":memory:"))) as client:
        notes = await _seed(client, 450)
        res = await client.call_tool(
            "list_records", {"type": "client", "limit": 100, "fields": ["notes"], "full_values": True}
        )
    shown = shown_text(text(res))
    col = shown["columns"]
    assert col == ["id", "name", "updated_at", "notes"], "only the named field is listed"
    got = {row[col.index("name")]: row[col.index("notes")] for row in shown["rows"]}
    assert got == notes, "every note arrives whole, in one call"
    assert shown["note"] == '"notes": uncut'
    assert {r["name"]: r["metadata"]["notes"] for r in data(res)["records"]} == notes


async def test_past_the_size_bound_later_rows_are_cut_and_the_note_says_how_to_get_them() -> None:
    async with Client(build_server(Settings(sandbox=True, sandbox_db=":memory:"))) as client:
        notes = await _seed(client, 1000)
        res = await client.call_tool(
            "list_records", {"type": "client", "limit": 100, "fields": ["notes"], "full_values": True}
        )
    shown = shown_text(text(res))
    cells = [row[3] for row in shown["rows"]]
    whole = [c for c in cells if c in notes.values()]
    assert len(whole) == 60 and cells[:60] == whole, "the first 60,000 characters of notes arrive whole"
    assert all(c.endswith("…") and len(c) <= 60 for c in cells[60:])
    assert "for the first 60 rows only" in shown["note"] and "limit=60" in shown["note"]
    assert len(text(res)) < 75_000, "values bounded at 60,000 chars, plus ids and names"


async def test_full_values_without_fields_is_refused() -> None:
    async with Client(build_server(Settings(sandbox=True, sandbox_db=":memory:"))) as client:
        res = await client.call_tool("list_records", {"type": "customer", "full_values": True})
    assert res.is_error and "full_values" in text(res) and "needs fields" in text(res)


async def test_the_note_counts_exactly_the_rows_whose_values_are_whole() -> None:
    async with Client(build_server(Settings(sandbox=True, sandbox_db=":memory:"))) as client:
        notes = await _seed(client, 700)  # 85 notes fit in 60,000 characters, the 86th does not
        res = await client.call_tool(
            "list_records", {"type": "client", "limit": 100, "fields": ["notes"], "full_values": True}
        )
    shown = shown_text(text(res))
    cells = [row[3] for row in shown["rows"]]
    assert all(c in notes.values() for c in cells[:85]) and all(c.endswith("…") for c in cells[85:])
    assert "for the first 85 rows only" in shown["note"] and "limit=85" in shown["note"]
    structured = [r["metadata"]["notes"] for r in data(res)["records"]]
    assert structured[:85] == cells[:85] and all(n.endswith("…") for n in structured[85:])
