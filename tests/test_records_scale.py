"""Record work at scale through a real MCP client: upserts, atomic merges, aggregates, guarded deletes."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client

from tests.conftest import connect, data, sandbox, text
from tests.fakes import FakeRuntype
from tests.fence import shown as shown_text

pytestmark = pytest.mark.anyio


async def call(client: Client, tool: str, args: dict[str, Any]) -> Any:
    res = await client.call_tool(tool, args)
    assert not res.is_error, text(res)
    return res.structured_content


async def named(client: Client, type_: str, name: str) -> list[dict[str, Any]]:
    return (await call(client, "list_records", {"type": type_, "name": name}))["records"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- upsert


async def test_upsert_record_creates_then_updates_then_reports_unchanged_without_duplicates() -> None:
    async with sandbox() as client:
        args = {"type": "lead", "name": "Ada", "metadata": {"tier": "gold"}}
        first = await call(client, "upsert_record", args)
        assert first["outcome"] == "created"
        second = await call(client, "upsert_record", {**args, "metadata": {"score": 9}})
        assert second["outcome"] == "updated"
        assert second["record"]["metadata"] == {"tier": "gold", "score": 9}, "merge keeps other keys"
        third = await call(client, "upsert_record", {**args, "metadata": {"score": 9}})
        assert third["outcome"] == "unchanged"
        replaced = await call(client, "upsert_record", {**args, "metadata_mode": "replace"})
        assert replaced["outcome"] == "updated" and replaced["record"]["metadata"] == {"tier": "gold"}
        assert {first["record"]["id"], second["record"]["id"], third["record"]["id"]} == {
            replaced["record"]["id"]
        }
        assert len(await named(client, "lead", "Ada")) == 1


async def test_upsert_records_reports_each_row_and_lists_name_to_id() -> None:
    async with sandbox() as client:
        await call(client, "upsert_record", {"type": "lead", "name": "b", "metadata": {"tier": "silver"}})
        await call(client, "upsert_record", {"type": "lead", "name": "c", "metadata": {"tier": "gold"}})
        rows = [
            {"name": "a", "metadata": {"tier": "gold"}},
            {"name": "b", "metadata": {"tier": "gold"}},
            {"name": "c", "metadata": {"tier": "gold"}},
        ]
        res = await client.call_tool("upsert_records", {"type": "lead", "records": rows})
        out = res.structured_content
        assert out is not None and not res.is_error, text(res)
        assert (out["created"], out["updated"], out["unchanged"], out["failed"]) == (1, 1, 1, 0)
        assert [r["outcome"] for r in out["rows"]] == ["created", "updated", "unchanged"]
        shown = text(res)
        assert '"created_ids":{"a":"' in shown and '"updated_ids":{"b":"' in shown
        again = await call(client, "upsert_records", {"type": "lead", "records": rows})
        assert again["unchanged"] == 3
        for n in "abc":
            assert len(await named(client, "lead", n)) == 1


async def test_upsert_records_refuses_a_name_repeated_in_the_input() -> None:
    async with sandbox() as client:
        res = await client.call_tool(
            "upsert_records", {"type": "lead", "records": [{"name": "x"}, {"name": "y"}, {"name": "x"}]}
        )
        assert res.is_error and "records[2].name" in text(res) and "records[0]" in text(res)
        assert await named(client, "lead", "x") == []


async def test_upsert_that_meets_a_conflict_updates_the_record_created_meanwhile(fake: FakeRuntype) -> None:
    fake.fail("POST", "/records", 409, land=True, body={"error": "exists", "code": "RECORD_CONFLICT"})
    async with connect(fake) as client:
        res = await client.call_tool(
            "upsert_record", {"type": "lead", "name": "Ada", "metadata": {"tier": "gold"}}
        )
    out = data(res)
    assert out["outcome"] in {"updated", "unchanged"} and "updated instead" in out["note"]
    assert [r["name"] for r in fake.records.values()] == ["Ada"]


async def test_upsert_whose_create_fails_after_landing_is_not_sent_twice(fake: FakeRuntype) -> None:
    fake.fail("POST", "/records", 502, land=True)
    async with connect(fake) as client:
        res = await client.call_tool("upsert_record", {"type": "lead", "name": "Ada", "metadata": {"k": 1}})
    out = data(res)
    assert out["outcome"] == "created" and "not sent again" in out["note"]
    assert len(fake.records) == 1 and len(fake.sent("POST", "/v1/records")) == 1


# ---------------------------------------------------------------- atomic merges


async def test_fifty_concurrent_merges_into_one_record_keep_all_fifty_keys() -> None:
    async with sandbox() as client:
        rec = (await call(client, "create_record", {"type": "counter", "name": "shared"}))["record"]
        failures: list[str] = []

        async def merge(i: int) -> None:
            res = await client.call_tool("update_record", {"record_id": rec["id"], "metadata": {f"k{i}": i}})
            if res.is_error:
                failures.append(text(res))

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for i in range(50):
                    tg.start_soon(merge, i)
        assert failures == []
        got = await call(client, "get_record", {"record_id": rec["id"]})
        assert got["metadata"] == {f"k{i}": i for i in range(50)}


async def test_update_record_merge_is_one_server_side_edit_not_a_read_then_write(fake: FakeRuntype) -> None:
    rec = fake.add_record("customer", "Acme", {"tier": "gold", "old": 1})
    async with connect(fake) as client:
        out = data(
            await client.call_tool(
                "update_record",
                {"record_id": rec["id"], "metadata": {"score": 2}, "remove_metadata_keys": ["old"]},
            )
        )
    assert out["record"]["metadata"] == {"tier": "gold", "score": 2}
    assert fake.sent("PUT", "/v1/records/.*") == []
    (edit,) = fake.sent("POST", "/v1/records/bulk-edit")
    assert b'"recordIds":["rec_1"]' in edit.content.replace(b" ", b"")


# ---------------------------------------------------------------- aggregates


ORDERS = [
    {"name": "o1", "metadata": {"region": "eu", "amount": 10, "status": "refunded", "customer": "a"}},
    {"name": "o2", "metadata": {"region": "eu", "amount": 5.5, "status": "refunded", "customer": "b"}},
    {"name": "o3", "metadata": {"region": "us", "amount": 7, "status": "refunded", "customer": "a"}},
    {"name": "o4", "metadata": {"region": "us", "amount": "n/a", "status": "refunded", "customer": "a"}},
    {"name": "o5", "metadata": {"region": "us", "amount": 100, "status": "paid", "customer": "c"}},
    {"name": "o6", "metadata": {"amount": 1, "status": "refunded"}},
]


async def test_aggregate_records_totals_per_group_and_counts_non_numeric_values() -> None:
    async with sandbox() as client:
        await call(client, "upsert_records", {"type": "order", "records": ORDERS})
        progress: list[float] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append(value)

        res = await client.call_tool(
            "aggregate_records",
            {
                "type": "order",
                "filter": {"field": "status", "op": "eq", "value": "refunded"},
                "group_by": ["region"],
                "metrics": ["count", "sum:amount", "avg:amount", "max:amount", "count_distinct:customer"],
            },
            progress_callback=on_progress,
        )
        assert not res.is_error, text(res)
        out = res.structured_content
        assert out is not None and shown_text(text(res)) == out
        assert out["scanned"] == 5 and out["groups"] == 3
        assert out["columns"] == [
            "region",
            "count",
            "sum:amount",
            "avg:amount",
            "max:amount",
            "count_distinct:customer",
        ]
        by_region = {row[0]: row[1:] for row in out["rows"]}
        assert by_region == {"eu": [2, 15.5, 7.75, 10, 2], "us": [2, 7, 7, 7, 1], None: [1, 1, 1, 1, 0]}
        assert out["skipped_non_numeric"] == {"amount": 1}
        assert progress and progress[-1] == 5, (
            "a client that sent a progress token hears how far the scan got"
        )
        assert "o1" not in text(res), "no record reaches the model"


async def test_aggregate_records_without_groups_and_with_a_mistyped_metric() -> None:
    async with sandbox() as client:
        await call(client, "upsert_records", {"type": "order", "records": ORDERS})
        out = await call(client, "aggregate_records", {"type": "order", "metrics": ["count", "min:amount"]})
        assert out["rows"] == [[6, 1]]
        bad = await client.call_tool(
            "aggregate_records", {"type": "order", "metrics": ["total:amount", "sum"]}
        )
        assert bad.is_error and "metrics[0]" in text(bad) and "metrics[1]" in text(bad)


async def test_list_record_types_counts_every_type_and_says_how() -> None:
    async with sandbox() as client:
        await call(client, "upsert_records", {"type": "order", "records": ORDERS})
        out = await call(client, "list_record_types", {})
        counts = {t["type"]: t["count"] for t in out["types"]}
        assert counts["order"] == 6 and counts["customer"] >= 3
        assert "export" in out["source"]


# ---------------------------------------------------------------- guarded deletes and edits

CLOSED = {"field": "status", "op": "eq", "value": "closed"}


async def tickets(client: Client, closed: int, open_: int, start: int = 0) -> None:
    rows = [{"name": f"t{start + i}", "metadata": {"status": "closed"}} for i in range(closed)]
    rows += [{"name": f"o{start + i}", "metadata": {"status": "open"}} for i in range(open_)]
    await call(client, "upsert_records", {"type": "ticket", "records": rows})


async def test_bulk_delete_by_filter_dry_runs_first_and_refuses_when_the_set_changed() -> None:
    async with sandbox() as client:
        await tickets(client, 5, 2)
        dry = await call(client, "bulk_delete_records", {"type": "ticket", "filter": CLOSED})
        assert dry["deleted"] is False and dry["requested"] == 5 and len(dry["sample"]) == 5
        assert "expected_count=5" in dry["note"] and "run and step results" in dry["note"]
        await tickets(client, 1, 0, start=100)  # the set changes between the dry run and the write
        refused = await client.call_tool(
            "bulk_delete_records",
            {
                "type": "ticket",
                "filter": CLOSED,
                "dry_run": False,
                "expected_count": 5,
                "confirm": True,
                "confirmation": dry["confirmation"],
            },
        )
        assert refused.is_error and "now matches 6 records, not expected_count=5" in text(refused)
        assert (await call(client, "preview_record_filter", {"type": "ticket", "filter": CLOSED}))[
            "matched_count"
        ] == 6
        fresh = await call(client, "bulk_delete_records", {"type": "ticket", "filter": CLOSED})
        done = await call(
            client,
            "bulk_delete_records",
            {
                "type": "ticket",
                "filter": CLOSED,
                "dry_run": False,
                "expected_count": 6,
                "confirm": True,
                "confirmation": fresh["confirmation"],
            },
        )
        assert done["deleted"] is True and done["deleted_count"] == 6
        left = await call(client, "preview_record_filter", {"type": "ticket"})
        assert left["matched_count"] == 2


async def test_bulk_delete_by_ids_keeps_its_contract() -> None:
    async with sandbox() as client:
        await tickets(client, 2, 0)
        ids = [r["id"] for r in await named(client, "ticket", "t0")] + [
            r["id"] for r in await named(client, "ticket", "t1")
        ]
        asked = await call(client, "bulk_delete_records", {"ids": ids})
        assert asked["deleted"] is False and "confirm=true" in asked["note"]
        assert f"confirmation={asked['confirmation']}" in asked["note"]
        done = await call(
            client,
            "bulk_delete_records",
            {"ids": ids, "confirm": True, "confirmation": asked["confirmation"]},
        )
        assert done["deleted_count"] == 2


async def test_bulk_edit_refuses_a_write_whose_target_count_changed() -> None:
    async with sandbox() as client:
        await tickets(client, 3, 1)
        args = {"type": "ticket", "filter": CLOSED, "updates": {"archived": True}}
        dry = await call(client, "bulk_edit_records", args)
        assert dry["matched"] == 3 and "expected_count=3" in dry["next"]
        refused = await client.call_tool("bulk_edit_records", {**args, "dry_run": False, "expected_count": 2})
        assert refused.is_error and "nothing was changed" in text(refused)
        again = await call(client, "bulk_edit_records", args)
        assert again["changed"] == 3, "the refused write changed nothing"
        done = await call(
            client,
            "bulk_edit_records",
            {**args, "dry_run": False, "expected_count": 3, "confirmation": again["confirmation"]},
        )
        assert done["written"] is True and done["changed"] == 3


async def test_edit_diffs_name_removed_keys() -> None:
    async with sandbox() as client:
        await tickets(client, 1, 0)
        out = await call(client, "bulk_edit_records", {"type": "ticket", "delete_fields": ["status"]})
        assert out["diffs"][0]["removed"] == ["status"] and out["diffs"][0]["after"] == {}


# ---------------------------------------------------------------- type-safe filters


async def test_a_number_compared_with_text_scores_warns_in_every_filter_tool() -> None:
    async with sandbox() as client:
        rows = [{"name": f"lead{i}", "metadata": {"score": str(60 + i * 5)}} for i in range(5)]
        await call(client, "upsert_records", {"type": "lead", "records": rows})
        gt70 = {"field": "score", "op": "gt", "value": 70}
        preview = await call(client, "preview_record_filter", {"type": "lead", "filter": gt70})
        assert preview["matched_count"] == 0
        (warning,) = preview["warnings"]
        assert (
            'field "score" holds strings' in warning and "never matches" in warning and "convert" in warning
        )
        for tool, extra in (
            ("bulk_edit_records", {"updates": {"hot": True}}),
            ("bulk_delete_records", {}),
            ("aggregate_records", {"metrics": ["count"]}),
        ):
            out = await call(client, tool, {"type": "lead", "filter": gt70, **extra})
            assert any("holds strings" in w for w in out["warnings"]), tool
        flow_id = (await call(client, "list_flows", {}))["flows"][0]["id"]
        run = await call(client, "run_flow_on_records", {"flow_id": flow_id, "type": "lead", "filter": gt70})
        assert run["started"] is False and run["record_count"] == 0
        assert any("holds strings" in w for w in run["warnings"]), run
        text_cmp = await call(
            client,
            "preview_record_filter",
            {"type": "lead", "filter": {"field": "score", "op": "gt", "value": "70"}},
        )
        assert "character by character" in text_cmp["warnings"][0]
        fine = await call(
            client,
            "preview_record_filter",
            {"type": "lead", "filter": {"field": "score", "op": "eq", "value": "70"}},
        )
        assert fine["matched_count"] == 1 and "warnings" not in fine


# ---------------------------------------------------------------- the small ones


async def test_schema_counts_how_many_sampled_records_have_each_field() -> None:
    async with sandbox() as client:
        await call(client, "upsert_records", {"type": "order", "records": ORDERS})
        out = await call(client, "discover_record_schema", {"type": "order"})
        fields = {f["name"]: f for f in out["fields"]}
        assert fields["region"]["present_in"] == 5 and fields["amount"]["present_in"] == 6
        assert "required" not in fields["region"]


async def test_preview_samples_say_when_values_were_cut() -> None:
    async with sandbox() as client:
        await call(client, "upsert_record", {"type": "note", "name": "long", "metadata": {"body": "x" * 500}})
        out = await call(client, "preview_record_filter", {"type": "note"})
        assert out["samples"][0]["metadata"]["body"].endswith("…") and "never write them back" in out["note"]


# ---------------------------------------------------------------- CSV import with a policy

LEADS_CSV = """name,score,ratio,active,city,note
ada,71,0.5,true,Paris,
 bob ,80,1,false,,x
,90,2,true,Rome,
ada,75,1.5,TRUE,Oslo,
cy,7,3,false,Lyon,
"""


async def test_checked_csv_import_dry_run_reports_policy_types_duplicates_and_blanks_by_line() -> None:
    async with sandbox() as client:
        await call(client, "upsert_record", {"type": "lead", "name": "bob", "metadata": {"city": "Berlin"}})
        args = {"csv_text": LEADS_CSV, "name_column": "name", "type_value": "lead", "on_conflict": "skip"}
        dry = await call(client, "upload_records_csv", {**args, "dry_run": True})
        assert dry["dry_run"] is True
        assert dry["column_types"] == {
            "score": "integer", "ratio": "number", "active": "boolean", "city": "string", "note": "string"
        }  # fmt: skip
        assert sorted(dry["created_ids"]) == ["ada", "cy"] and dry["updated"] == 0
        assert any("'bob' exists" in s for s in dry["skipped"])
        assert any(s.startswith("line 5: 'ada' repeats line 2") for s in dry["skipped"])
        assert dry["error_details"] == ["line 4: blank name"]
        assert (await call(client, "preview_record_filter", {"type": "lead"}))["matched_count"] == 1


async def test_checked_csv_import_updates_existing_and_stores_typed_values() -> None:
    async with sandbox() as client:
        bob = await call(
            client, "upsert_record", {"type": "lead", "name": "bob", "metadata": {"city": "Berlin"}}
        )
        args = {"csv_text": LEADS_CSV, "name_column": "name", "type_value": "lead", "on_conflict": "update"}
        out = await call(client, "upload_records_csv", args)
        assert out["updated_ids"] == {"bob": bob["record"]["id"]} and sorted(out["created_ids"]) == [
            "ada",
            "cy",
        ]
        ada = await call(client, "get_record", {"record_id": out["created_ids"]["ada"]})
        assert ada["metadata"] == {"score": 75, "ratio": 1.5, "active": True, "city": "Oslo"}, (
            "later line wins"
        )
        got_bob = await call(client, "get_record", {"record_id": bob["record"]["id"]})
        assert got_bob["metadata"] == {
            "city": "Berlin",
            "score": 80,
            "ratio": 1,
            "active": False,
            "note": "x",
        }
        hot = await call(
            client,
            "preview_record_filter",
            {"type": "lead", "filter": {"field": "score", "op": "gt", "value": 70}},
        )
        assert hot["matched_count"] == 2 and "warnings" not in hot
        again = await call(client, "upload_records_csv", {**args, "on_conflict": "error"})
        assert again["created"] == 0 and any("'bob' exists" in e for e in again["error_details"])
        assert (await call(client, "preview_record_filter", {"type": "lead"}))["matched_count"] == 3


async def test_checked_import_options_need_on_conflict() -> None:
    async with sandbox() as client:
        res = await client.call_tool(
            "upload_records_csv",
            {"csv_text": LEADS_CSV, "name_column": "name", "type_value": "lead", "dry_run": True},
        )
        assert res.is_error and "on_conflict" in text(res)


async def test_list_tables_tell_a_missing_key_from_a_null_and_get_record_shows_the_owner() -> None:
    async with sandbox() as client:
        await call(client, "create_record", {"type": "pet", "name": "a", "metadata": {"age": None}})
        b = await call(
            client,
            "create_record",
            {"type": "pet", "name": "b", "metadata": {"kind": "cat"}, "owner_id": "u1"},
        )
        res = await client.call_tool("list_records", {"type": "pet"})
        shown = shown_text(text(res))
        rows = {row[shown["columns"].index("name")]: row for row in shown["rows"]}
        age, kind = shown["columns"].index("age"), shown["columns"].index("kind")
        assert rows["a"][age] is None and rows["a"][kind] == "(no key)" and rows["b"][age] == "(no key)"
        assert "(no key): the record has no such key" in shown["note"]
        got = await call(client, "get_record", {"record_id": b["record"]["id"]})
        assert got["owner_id"] == "u1"


async def test_an_aggregate_over_a_type_with_no_records_points_to_list_record_types() -> None:
    async with sandbox() as client:
        out = await call(
            client, "aggregate_records", {"type": "tickets", "group_by": ["status"], "metrics": ["count"]}
        )
        assert out["scanned"] == 0 and out["rows"] == []
        assert out["note"] == "no record matched: check the type with list_record_types"


async def test_the_empty_group_legend_appears_only_when_a_group_is_empty() -> None:
    async with sandbox() as client:
        rows = [{"name": "a", "metadata": {"region": "eu"}}, {"name": "b", "metadata": {"region": "us"}}]
        await call(client, "upsert_records", {"type": "order", "records": rows})
        args = {"type": "order", "group_by": ["region"], "metrics": ["count"]}
        assert "note" not in await call(client, "aggregate_records", args)
        await call(client, "upsert_records", {"type": "order", "records": [{"name": "c", "metadata": {}}]})
        out = await call(client, "aggregate_records", args)
        assert out["note"] == "empty group value: the field is absent or null"


async def test_checked_import_keeps_zip_codes_and_phone_numbers_as_written() -> None:
    csv_text = "name,zip,phone,qty,big\nada,02134,+15551234567,3,1_000\nbob,10115,+4930123456,12,2_000\n"
    async with sandbox() as client:
        args = {"csv_text": csv_text, "name_column": "name", "type_value": "contact", "on_conflict": "update"}
        out = await call(client, "upload_records_csv", args)
        ada = await call(client, "get_record", {"record_id": out["created_ids"]["ada"]})
    assert out["column_types"]["zip"] == "string" and out["column_types"]["qty"] == "integer"
    assert ada["metadata"] == {"zip": "02134", "phone": "+15551234567", "qty": 3, "big": "1_000"}


async def test_a_checked_import_over_its_row_cap_names_the_file_and_the_way_out() -> None:
    csv_text = "name\n" + "".join(f"r{i}\n" for i in range(5001))
    async with sandbox() as client:
        res = await client.call_tool(
            "upload_records_csv",
            {"csv_text": csv_text, "name_column": "name", "type_value": "big", "on_conflict": "skip"},
        )
        left = await call(client, "preview_record_filter", {"type": "big"})
    assert res.is_error and (
        "- csv_text / path: the checked import (on_conflict, types, dry_run, trim) takes up to 5,000 rows → "
        "split the file, or leave those options out to use Runtype's plain upload"
    ) in text(res)
    assert left["matched_count"] == 0
