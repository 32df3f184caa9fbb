"""Deleting and bulk-editing records: confirmation both ways, chunking, partial failures, dry runs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
import stamina
from mcp import Client
from mcp.types import ElicitResult

from runtype_mcp.server import build_server
from runtype_mcp.tools.preview_token import sign
from tests.conftest import MODES, connect, data, make_settings, text
from tests.fakes import API_KEY, FakeRuntype
from tests.fence import unfenced

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("mode", MODES)]


@asynccontextmanager
async def connect_asking(
    fake: FakeRuntype, mode: str, approve: bool
) -> AsyncIterator[tuple[Client, list[str]]]:
    """A client whose user answers every confirmation dialog (accept+approve, or decline)."""
    asked: list[str] = []

    async def answer(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        if approve:
            return ElicitResult(action="accept", content={"approve": True})
        return ElicitResult(action="decline")

    server = build_server(make_settings(), transport=fake.transport())
    async with Client(server, mode=mode, elicitation_callback=answer) as client:  # type: ignore[arg-type]
        yield client, asked


def _writes(fake: FakeRuntype, method: str, path: str) -> list[Any]:
    return [json.loads(r.content) if r.content else None for r in fake.sent(method, path)]


# ---------------------------------------------------------------- delete_record


async def test_delete_record_without_confirm_changes_nothing_and_shows_the_record(
    fake: FakeRuntype, mode: str
) -> None:
    rec = fake.add_record("customer", "Acme", {"tier": "gold"})
    async with connect(fake, mode) as client:
        out = data(await client.call_tool("delete_record", {"record_id": rec["id"]}))
    assert out["deleted"] is False
    assert out["record"] == {
        "id": rec["id"],
        "name": "Acme",
        "type": "customer",
        "updated_at": rec["updatedAt"],
        "metadata": {"tier": "gold"},
    }
    assert "confirm=true" in out["note"]
    assert rec["id"] in fake.records and fake.sent("DELETE", ".*") == []


async def test_delete_record_with_confirm_deletes_it(fake: FakeRuntype, mode: str) -> None:
    rec = fake.add_record("customer", "Acme")
    async with connect(fake, mode) as client:
        out = data(await client.call_tool("delete_record", {"record_id": rec["id"], "confirm": True}))
    assert out == {"deleted": True, "record": {"id": rec["id"], "name": "Acme", "type": "customer"}}
    assert fake.records == {}
    assert len(fake.sent("DELETE", f"/v1/records/{rec['id']}")) == 1


async def test_delete_record_asks_the_user_even_with_confirm_and_decline_keeps_it(
    fake: FakeRuntype, mode: str
) -> None:
    rec = fake.add_record("customer", "Acme")
    async with connect_asking(fake, mode, approve=False) as (client, asked):
        out = data(await client.call_tool("delete_record", {"record_id": rec["id"], "confirm": True}))
    assert asked == [f'Delete record "Acme" (type "customer", id "{rec["id"]}")? This cannot be undone.']
    assert out["deleted"] is False and "user declined" in out["note"]
    assert rec["id"] in fake.records


async def test_delete_record_approved_in_the_dialog_deletes_it(fake: FakeRuntype, mode: str) -> None:
    rec = fake.add_record("customer", "Acme")
    async with connect_asking(fake, mode, approve=True) as (client, asked):
        out = data(await client.call_tool("delete_record", {"record_id": rec["id"]}))
    assert len(asked) == 1 and out["deleted"] is True
    assert fake.records == {}


async def test_delete_unknown_record_names_the_id_and_where_ids_come_from(
    fake: FakeRuntype, mode: str
) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("delete_record", {"record_id": "rec_gone", "confirm": True})
    assert res.is_error
    assert 'no record with record_id="rec_gone"' in text(res) and "list_records" in text(res)
    assert fake.sent("DELETE", ".*") == []


async def test_delete_record_404_on_a_retried_delete_counts_as_done(fake: FakeRuntype, mode: str) -> None:
    rec = fake.add_record("customer", "Acme")
    fake.fail("DELETE", f"/records/{rec['id']}", 503, land=True)
    with stamina.set_testing(True, attempts=3):
        async with connect(fake, mode) as client:
            out = data(await client.call_tool("delete_record", {"record_id": rec["id"], "confirm": True}))
    assert out["deleted"] is True and "retry found the record gone" in out["note"]
    assert len(fake.sent("DELETE", f"/v1/records/{rec['id']}")) == 2


# ---------------------------------------------------------------- bulk_delete_records


async def test_bulk_delete_without_confirm_lists_the_ids_and_deletes_nothing(
    fake: FakeRuntype, mode: str
) -> None:
    ids = [fake.add_record("t", f"r{i}")["id"] for i in range(3)]
    async with connect(fake, mode) as client:
        out = data(await client.call_tool("bulk_delete_records", {"ids": [*ids, ids[0]]}))
    assert out["deleted"] is False and out["requested"] == 3 and out["would_delete"] == ids
    token = sign(API_KEY, "delete", ids)
    assert out["confirmation"] == token and out["note"] == (
        "Nothing was deleted yet. Show the user exactly what is listed here; only after they agree, call "
        f"again with the same arguments, confirm=true and confirmation={token} (this list's token)."
    )
    assert len(fake.records) == 3 and fake.sent("POST", "/v1/records/bulk-delete") == []


async def test_bulk_delete_sends_100_ids_per_request_and_aggregates(fake: FakeRuntype, mode: str) -> None:
    ids = [fake.add_record("t", f"r{i}")["id"] for i in range(250)]
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "bulk_delete_records",
                {
                    "ids": [*ids, "rec_nope"],
                    "confirm": True,
                    "confirmation": sign(API_KEY, "delete", [*ids, "rec_nope"]),
                },
            )
        )
    assert [len(b["ids"]) for b in _writes(fake, "POST", "/v1/records/bulk-delete")] == [100, 100, 51]
    assert out["deleted"] is True and out["deleted_count"] == 250 and out["requested"] == 251
    assert out["deleted_ids"] == ids[:200] and out["ids_omitted"] == 50
    assert out["not_found_ids"] == ["rec_nope"]
    assert fake.records == {}


async def test_bulk_delete_dialog_states_the_count_and_decline_deletes_nothing(
    fake: FakeRuntype, mode: str
) -> None:
    ids = [fake.add_record("t", f"r{i}")["id"] for i in range(7)]
    async with connect_asking(fake, mode, approve=False) as (client, asked):
        out = data(await client.call_tool("bulk_delete_records", {"ids": ids, "confirm": True}))
    shown = ", ".join(f'"r{i} (t)"' for i in range(5))
    assert asked == [f"Delete 7 records ({shown} and 2 more), with their run results? This cannot be undone."]
    assert out["deleted"] is False and len(fake.records) == 7


class FailsOnSecondChunk(FakeRuntype):
    chunks = 0

    def _bulk_delete(self, request: httpx2.Request) -> httpx2.Response:
        self.chunks += 1
        if self.chunks == 2:
            return httpx2.Response(500, json={"error": "database unavailable"})
        return super()._bulk_delete(request)


async def test_bulk_delete_failing_part_way_says_exactly_which_ids_were_deleted(mode: str) -> None:
    fake = FailsOnSecondChunk()
    ids = [fake.add_record("t", f"r{i}")["id"] for i in range(250)]
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "bulk_delete_records", {"ids": ids, "confirm": True, "confirmation": sign(API_KEY, "delete", ids)}
        )
    msg = unfenced(text(res))
    assert res.is_error and "stopped part-way. Done for 100 ids: " + ", ".join(ids[:100]) + "." in msg
    assert ids[100] not in msg
    assert "Not done: the last 150 of the ids you gave" in msg
    assert 'server error (500). Runtype said: "database unavailable"' in msg
    assert len(fake.records) == 150


async def test_bulk_delete_first_chunk_failure_is_the_plain_api_error(fake: FakeRuntype, mode: str) -> None:
    fake.fail("POST", "/records/bulk-delete", 400, body={"error": "ids must be strings"})
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "bulk_delete_records",
            {"ids": ["a"], "confirm": True, "confirmation": sign(API_KEY, "delete", ["a"])},
        )
    # Nothing was deleted, so it is the API's own error, not a "stopped part-way" report.
    assert res.is_error and unfenced(text(res)) == (
        'bulk_delete_records: Runtype rejected the request (400). Runtype said: "ids must be strings". '
        "Nothing was changed; fix the arguments and call bulk_delete_records again."
    )


async def test_bulk_delete_rejects_an_empty_id_list_locally(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("bulk_delete_records", {"ids": [], "confirm": True})
    assert res.is_error and "- ids:" in text(res) and "nothing was sent" in text(res)
    assert fake.requests == []


# ---------------------------------------------------------------- bulk_edit_records


async def test_bulk_edit_is_a_dry_run_by_default_with_a_diff_of_changed_keys(
    fake: FakeRuntype, mode: str
) -> None:
    a = fake.add_record("customer", "A", {"tier": "gold", "score": 1, "old": "x"})
    b = fake.add_record("customer", "B", {"tier": "gold", "score": 2})
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "bulk_edit_records",
                {"record_ids": [a["id"], b["id"]], "updates": {"score": 2}, "delete_fields": ["old"]},
            )
        )
    assert _writes(fake, "POST", "/v1/records/bulk-edit") == [
        {"dryRun": True, "recordIds": [a["id"], b["id"]], "updates": {"score": 2}, "deleteFields": ["old"]}
    ]
    assert out["dry_run"] is True and out["written"] is False
    assert out["matched"] == 2 and out["changed"] == 1
    assert out["diffs"] == [
        {"id": a["id"], "before": {"score": 1, "old": "x"}, "after": {"score": 2}, "removed": ["old"]}
    ]
    assert "dry_run=false" in out["next"]
    assert a["metadata"]["score"] == 1


async def test_bulk_edit_by_type_and_filter_writes_when_dry_run_is_false(
    fake: FakeRuntype, mode: str
) -> None:
    gold = fake.add_record("customer", "A", {"tier": "gold"})
    fake.add_record("customer", "B", {"tier": "silver"})
    where = {"field": "tier", "op": "eq", "value": "gold"}
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "bulk_edit_records",
                {
                    "type": "customer",
                    "filter": where,
                    "updates": {"vip": True},
                    "dry_run": False,
                    "confirmation": sign(
                        API_KEY, "edit", [gold["id"]], {"updates": {"vip": True}, "deleteFields": []}
                    ),
                },
            )
        )
    preview, body = _writes(fake, "POST", "/v1/records/bulk-edit")
    assert preview["recordFilter"] == {"type": "customer", "where": where} and preview["dryRun"] is True
    # The write changes exactly the records the confirmation was made for.
    assert body["recordIds"] == [gold["id"]] and body["dryRun"] is False
    assert out["written"] is True and out["changed"] == 1
    assert gold["metadata"] == {"tier": "gold", "vip": True}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            {"record_ids": ["r1"], "type": "t", "updates": {"a": 1}},
            "exactly one target is needed, got record_ids, type",
        ),
        ({"updates": {"a": 1}}, "exactly one target is needed, got none"),
        ({"record_ids": ["r1"]}, "- updates: nothing to change"),
        (
            {"filter": {"field": "a", "op": "isSet"}, "apply_to_all": True, "updates": {"a": 1}},
            "- filter: needs type",
        ),
        (
            {"type": "t", "filter": {"field": "a", "op": "between", "value": 3}, "updates": {"a": 1}},
            "[low, high]",
        ),
    ],
)
async def test_bulk_edit_bad_targeting_is_rejected_before_any_request(
    fake: FakeRuntype, mode: str, args: dict[str, Any], expected: str
) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("bulk_edit_records", args)
    assert res.is_error and expected in text(res)
    assert fake.requests == []


async def test_bulk_edit_apply_to_all_without_confirm_shows_the_preview_and_writes_nothing(
    fake: FakeRuntype, mode: str
) -> None:
    for i in range(3):
        fake.add_record("t", f"r{i}", {"n": i})
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "bulk_edit_records", {"apply_to_all": True, "updates": {"n": 9}, "dry_run": False}
            )
        )
    assert out["written"] is False and out["matched"] == 3 and len(out["diffs"]) == 3
    assert (
        f"dry_run=false, confirm=true, expected_count=3 and confirmation={out['confirmation']}" in out["next"]
    )
    assert all(b["dryRun"] is True for b in _writes(fake, "POST", "/v1/records/bulk-edit"))
    assert [r["metadata"]["n"] for r in fake.records.values()] == [0, 1, 2]


async def test_bulk_edit_apply_to_all_with_confirm_writes_every_record(fake: FakeRuntype, mode: str) -> None:
    for i in range(3):
        fake.add_record("t", f"r{i}", {"n": i})
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "bulk_edit_records",
                {
                    "apply_to_all": True,
                    "updates": {"n": 9},
                    "dry_run": False,
                    "confirm": True,
                    "confirmation": sign(
                        API_KEY, "edit", list(fake.records), {"updates": {"n": 9}, "deleteFields": []}
                    ),
                },
            )
        )
    assert out["written"] is True
    assert [r["metadata"]["n"] for r in fake.records.values()] == [9, 9, 9]
    assert _writes(fake, "POST", "/v1/records/bulk-edit")[-1]["recordIds"] == list(fake.records)


async def test_bulk_edit_apply_to_all_asks_with_the_count_and_decline_writes_nothing(
    fake: FakeRuntype, mode: str
) -> None:
    for i in range(4):
        fake.add_record("t", f"r{i}", {"n": i})
    async with connect_asking(fake, mode, approve=False) as (client, asked):
        out = data(
            await client.call_tool(
                "bulk_edit_records",
                {"apply_to_all": True, "delete_fields": ["n"], "dry_run": False, "confirm": True},
            )
        )
    assert asked == ["Change metadata keys n on ALL 4 records of every type? This cannot be undone."]
    assert out["written"] is False and "user declined" in out["next"]
    assert all("n" in r["metadata"] for r in fake.records.values())


async def test_bulk_edit_dry_run_does_not_ask_even_for_apply_to_all(fake: FakeRuntype, mode: str) -> None:
    fake.add_record("t", "r", {"n": 1})
    async with connect_asking(fake, mode, approve=False) as (client, asked):
        out = data(await client.call_tool("bulk_edit_records", {"apply_to_all": True, "updates": {"n": 2}}))
    assert asked == [] and out["dry_run"] is True and out["changed"] == 1


async def test_bulk_edit_diff_is_bounded_to_20_records_and_long_values(fake: FakeRuntype, mode: str) -> None:
    ids = [fake.add_record("t", f"r{i}", {"text": "y" * 5000})["id"] for i in range(60)]
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "bulk_edit_records", {"record_ids": ids, "updates": {"text": "z" * 5000}}
        )
    out = data(res)
    assert out["changed"] == 60 and len(out["diffs"]) == 20 and out["diffs_omitted"] == 40
    assert out["diffs"][0]["after"]["text"].endswith("…") and len(out["diffs"][0]["after"]["text"]) == 100
    assert len(text(res)) < 20000


async def test_bulk_edit_api_400_details_name_the_tool_arguments(fake: FakeRuntype, mode: str) -> None:
    fake.fail(
        "POST",
        "/records/bulk-edit",
        400,
        body={
            "error": "Validation error",
            "details": [
                {"code": "INVALID_TYPE", "message": "Expected string", "path": "recordFilter.where.value"}
            ],
        },
    )
    async with connect(fake, mode) as client:
        res = await client.call_tool("bulk_edit_records", {"type": "t", "updates": {"a": 1}})
    assert res.is_error and '- filter.where.value: "Expected string"' in unfenced(text(res))


async def test_bulk_edit_diff_of_many_keys_stays_within_the_size_budget(fake: FakeRuntype, mode: str) -> None:
    wide = {f"k{i:02d}": "y" * 500 for i in range(40)}
    ids = [fake.add_record("t", f"r{i}", dict(wide))["id"] for i in range(30)]
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "bulk_edit_records", {"record_ids": ids, "updates": dict.fromkeys(wide, "z" * 500)}
        )
    out = data(res)
    first = out["diffs"][0]["after"]
    assert len(first) == 11 and first["…"] == "30 more keys"
    assert out["changed"] == 30 and out["diffs_omitted"] == 30 - len(out["diffs"]) > 0
    assert len(text(res)) < 20000
