"""A destructive write that presents its dry run's confirmation changes exactly what was previewed, or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from runtype_mcp.config import Settings
from runtype_mcp.server import build_server
from tests.conftest import data, text

pytestmark = pytest.mark.anyio


def _server() -> Any:
    return build_server(Settings(sandbox=True, sandbox_db=":memory:"))


async def _make(client: Client, name: str, metadata: dict[str, Any] | None = None) -> str:
    made = data(
        await client.call_tool("create_record", {"name": name, "type": "tmp", "metadata": metadata or {}})
    )
    return str(made["record"]["id"])


async def _names(client: Client) -> set[str]:
    return {
        r["name"]
        for r in data(await client.call_tool("list_records", {"type": "tmp", "limit": 100}))["records"]
    }


async def test_a_delete_whose_set_grew_since_the_preview_is_refused_and_deletes_nothing() -> None:
    async with Client(_server()) as client:
        for i in range(3):
            await _make(client, f"old {i}")
        preview = data(await client.call_tool("bulk_delete_records", {"type": "tmp"}))
        await _make(client, "arrived later")
        stale = await client.call_tool(
            "bulk_delete_records",
            {"type": "tmp", "dry_run": False, "confirmation": preview["confirmation"], "confirm": True},
        )
        after_stale = await _names(client)
        fresh = data(await client.call_tool("bulk_delete_records", {"type": "tmp"}))
        done = data(
            await client.call_tool(
                "bulk_delete_records",
                {"type": "tmp", "dry_run": False, "confirmation": fresh["confirmation"], "confirm": True},
            )
        )
        left = await _names(client)
    assert f"confirmation={preview['confirmation']}" in preview["note"]
    assert stale.is_error and "nothing was deleted: confirmation does not match" in text(stale)
    assert after_stale == {"old 0", "old 1", "old 2", "arrived later"}
    assert fresh["confirmation"] != preview["confirmation"]
    assert done["deleted_count"] == 4 and left == set()


async def test_a_token_for_other_ids_or_a_made_up_token_deletes_nothing() -> None:
    async with Client(_server()) as client:
        a, b = await _make(client, "a"), await _make(client, "b")
        shown = data(await client.call_tool("bulk_delete_records", {"ids": [a], "dry_run": True}))
        swapped = await client.call_tool(
            "bulk_delete_records", {"ids": [a, b], "confirmation": shown["confirmation"], "confirm": True}
        )
        forged = await client.call_tool(
            "bulk_delete_records", {"ids": [a], "confirmation": "0123456789abcdef", "confirm": True}
        )
        kept = await _names(client)
        same = data(
            await client.call_tool(
                "bulk_delete_records", {"ids": [a], "confirmation": shown["confirmation"], "confirm": True}
            )
        )
    assert swapped.is_error and forged.is_error and kept == {"a", "b"}
    assert same["deleted_ids"] == [a]


async def test_an_edit_with_another_change_or_more_records_than_previewed_changes_nothing() -> None:
    where = {"field": "stage", "op": "eq", "value": "lead"}
    async with Client(_server()) as client:
        for i in range(2):
            await _make(client, f"lead {i}", {"stage": "lead"})
        await _make(client, "customer", {"stage": "won"})
        args = {"type": "tmp", "filter": where, "updates": {"owner": "ana"}}
        preview = data(await client.call_tool("bulk_edit_records", args))
        token = preview["confirmation"]
        other_change = await client.call_tool(
            "bulk_edit_records",
            {**args, "updates": {"owner": "bob"}, "dry_run": False, "confirmation": token},
        )
        await _make(client, "lead late", {"stage": "lead"})
        grown = await client.call_tool("bulk_edit_records", {**args, "dry_run": False, "confirmation": token})
        untouched = data(await client.call_tool("list_records", {"type": "tmp", "fields": ["owner"]}))
        again = data(await client.call_tool("bulk_edit_records", args))
        written = data(
            await client.call_tool(
                "bulk_edit_records", {**args, "dry_run": False, "confirmation": again["confirmation"]}
            )
        )
    assert f"confirmation={token}" in preview["next"]
    assert other_change.is_error and "nothing was changed: confirmation does not match" in text(other_change)
    assert grown.is_error and "nothing was changed" in text(grown)
    assert all(not r.get("metadata") for r in untouched["records"]), "no record got an owner"
    assert written["written"] is True and written["matched"] == 3 and written["changed"] == 3
