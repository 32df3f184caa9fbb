"""A destructive write that presents its dry run's confirmation changes exactly what was previewed, or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.types import ElicitResult

from runtype_mcp.config import Settings
from runtype_mcp.server import build_server
from runtype_mcp.tools.preview_token import sign
from tests.conftest import connect, data, text
from tests.fakes import API_KEY

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


async def test_confirm_true_without_the_token_deletes_nothing_and_hands_over_this_lists_token() -> None:
    async with Client(_server()) as client:
        a, b = await _make(client, "a"), await _make(client, "b")
        bare = data(await client.call_tool("bulk_delete_records", {"ids": [a, b], "confirm": True}))
        kept = await _names(client)
        done = data(
            await client.call_tool(
                "bulk_delete_records", {"ids": [a, b], "confirm": True, "confirmation": bare["confirmation"]}
            )
        )
        left = await _names(client)
    assert bare["deleted"] is False and kept == {"a", "b"}
    assert [(r["name"], r["type"]) for r in bare["sample"]] == [("a", "tmp"), ("b", "tmp")]
    assert bare["note"].endswith(f"confirm=true and confirmation={bare['confirmation']} (this list's token).")
    assert done["deleted"] is True and done["deleted_count"] == 2 and left == set()


async def test_an_edit_write_without_the_token_is_its_dry_run_and_writes_nothing() -> None:
    async with Client(_server()) as client:
        ids = [await _make(client, f"r{i}", {"n": i}) for i in range(2)]
        args = {"record_ids": ids, "updates": {"n": 7}, "dry_run": False}
        bare = data(await client.call_tool("bulk_edit_records", args))
        untouched = data(await client.call_tool("list_records", {"type": "tmp", "fields": ["n"]}))
        written = data(
            await client.call_tool("bulk_edit_records", {**args, "confirmation": bare["confirmation"]})
        )
        after = data(await client.call_tool("list_records", {"type": "tmp", "fields": ["n"]}))
    assert bare["written"] is False and bare["dry_run"] is True and bare["changed"] == 2
    assert bare["next"].startswith("Nothing was written: dry_run=false needs this dry run's confirmation.")
    assert bare["next"].endswith(f"dry_run=false, expected_count=2 and confirmation={bare['confirmation']}.")
    assert sorted(r["metadata"]["n"] for r in untouched["records"]) == [0, 1]
    assert written["written"] is True and sorted(r["metadata"]["n"] for r in after["records"]) == [7, 7]


async def test_a_user_who_approved_the_dialog_needs_no_token() -> None:
    asked: list[str] = []

    async def approve(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"approve": True})

    async with Client(_server(), elicitation_callback=approve) as client:  # type: ignore[arg-type]
        a = await _make(client, "a")
        done = data(await client.call_tool("bulk_delete_records", {"ids": [a]}))
    assert done["deleted"] is True and len(asked) == 1 and '"a (tmp)"' in asked[0]


async def test_a_token_works_on_every_instance_with_the_same_key_and_on_none_with_another(fake: Any) -> None:
    ids = [fake.add_record("t", f"r{i}")["id"] for i in range(2)]
    async with connect(fake) as first:
        shown = data(await first.call_tool("bulk_delete_records", {"ids": ids}))
    async with connect(fake, api_key="rt_another_key_0123456789abcdef") as other:
        refused = await other.call_tool(
            "bulk_delete_records", {"ids": ids, "confirm": True, "confirmation": shown["confirmation"]}
        )
    assert refused.is_error and "nothing was deleted: confirmation does not match" in text(refused)
    assert len(fake.records) == 2
    async with connect(fake) as second:  # another process of the same deployment
        done = data(
            await second.call_tool(
                "bulk_delete_records", {"ids": ids, "confirm": True, "confirmation": shown["confirmation"]}
            )
        )
    assert done["deleted_count"] == 2 and fake.records == {}
    assert sign(API_KEY, "delete", ids) == shown["confirmation"] != sign(None, "delete", ids)
