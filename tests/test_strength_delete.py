"""Mutation-strength tests (issue 16): what delete_record and bulk_delete_records show and do
(tools/records_delete.py, tools/delete_guard.py).

The question the user is asked, the note that says what to do next, the listing of what would go, and
the exact account of a delete that stopped part-way are what the model acts on.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import ElicitResult

from runtype_mcp.config import Settings
from runtype_mcp.server import build_server
from runtype_mcp.tools.preview_token import sign
from tests.conftest import connect, data, make_settings, text
from tests.fakes import API_KEY, FakeRuntype
from tests.fence import unfenced

pytestmark = pytest.mark.anyio

BULK = "bulk_delete_records"


def _dialog(fake: FakeRuntype, asked: list[str], action: str = "decline") -> Client:
    async def answer(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        if action == "accept":
            return ElicitResult(action="accept", content={"approve": True})
        return ElicitResult(action=action)  # type: ignore[arg-type]

    server = build_server(make_settings(), transport=fake.transport())
    return Client(server, elicitation_callback=answer)  # type: ignore[arg-type]


def _deletes(fake: FakeRuntype) -> list[list[str]]:
    return [json.loads(r.content)["ids"] for r in fake.sent("POST", "/v1/records/bulk-delete")]


def _sandbox() -> Client:
    return Client(build_server(Settings(sandbox=True, sandbox_db=":memory:")))  # type: ignore[arg-type]


# ---------------------------------------------------------------- delete_record


async def test_delete_record_asks_about_the_record_by_name_type_and_id(fake: FakeRuntype) -> None:
    rid = fake.add_record("lead", 'Acme "Q4"', {"n": 1})["id"]
    asked: list[str] = []
    async with _dialog(fake, asked) as client:
        out = data(await client.call_tool("delete_record", {"record_id": rid}))
    assert asked == [f'Delete record "Acme \\"Q4\\"" (type "lead", id "{rid}")? This cannot be undone.']
    assert out["deleted"] is False and rid in fake.records
    assert out["record"] == {
        "id": rid,
        "name": 'Acme "Q4"',
        "type": "lead",
        "updated_at": "2026-11-01T00:00:00Z",
        "metadata": {"n": 1},
    }
    assert out["note"] == (
        "Nothing was deleted: the user declined in the confirmation dialog. Do not retry unless they ask."
    )


async def test_delete_record_without_confirm_shows_the_record_and_deletes_nothing(fake: FakeRuntype) -> None:
    rid = fake.add_record("lead", "A", {"n": 1})["id"]
    async with connect(fake) as client:
        out = data(await client.call_tool("delete_record", {"record_id": rid}))
    assert out["deleted"] is False and rid in fake.records
    assert out["note"].startswith("Nothing was deleted yet.")


async def test_a_deleted_record_is_named_without_its_data(fake: FakeRuntype) -> None:
    rid = fake.add_record("lead", "A", {"n": 1})["id"]
    async with connect(fake) as client:
        out = data(await client.call_tool("delete_record", {"record_id": rid, "confirm": True}))
    assert out == {"deleted": True, "record": {"id": rid, "name": "A", "type": "lead"}}
    assert rid not in fake.records


async def test_a_delete_that_landed_before_its_retry_says_so(fake: FakeRuntype) -> None:
    rid = fake.add_record("lead", "A")["id"]
    fake.fail("DELETE", f"/records/{rid}", 503, land=True)
    async with connect(fake) as client:
        out = data(await client.call_tool("delete_record", {"record_id": rid, "confirm": True}))
    assert out["deleted"] is True and rid not in fake.records
    assert out["note"] == (
        "The first attempt failed mid-way; the retry found the record gone, so it is deleted."
    )


async def test_a_record_gone_at_the_first_attempt_is_an_error_not_a_deletion(fake: FakeRuntype) -> None:
    rid = fake.add_record("lead", "A")["id"]
    fake.fail("DELETE", f"/records/{rid}", 404, body={"error": "Record not found"})
    async with connect(fake) as client:
        res = await client.call_tool("delete_record", {"record_id": rid, "confirm": True})
    assert res.is_error and "no record with record_id=" in text(res)


# ---------------------------------------------------------------- bulk_delete_records: previews


async def test_a_dry_run_by_ids_lists_them_and_says_exactly_how_to_delete(fake: FakeRuntype) -> None:
    a = fake.add_record("lead", "A")["id"]
    b = fake.add_record("deal", "B")["id"]
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"ids": [a, b, a, "rec_gone"], "dry_run": True}))
    token = sign(API_KEY, "delete", [a, b, "rec_gone"])
    assert out == {
        "deleted": False,
        "requested": 3,
        "would_delete": [a, b, "rec_gone"],
        "sample": [{"id": a, "name": "A", "type": "lead"}, {"id": b, "name": "B", "type": "deal"}],
        "warnings": ["Not found: rec_gone."],
        "confirmation": token,
        "note": "Dry run: nothing deleted. Deleting also removes each record's run and step results. To delete, "
        f"call again with dry_run=false, expected_count=3 and confirmation={token}.",
    }
    assert not _deletes(fake)


async def test_confirm_without_the_token_deletes_nothing_and_names_the_token(fake: FakeRuntype) -> None:
    ids = [fake.add_record("lead", f"r{i}")["id"] for i in range(2)]
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"ids": ids, "confirm": True}))
        bare = data(await client.call_tool(BULK, {"ids": ids}))
    token = sign(API_KEY, "delete", ids)
    note = (
        "Nothing was deleted yet. Show the user exactly what is listed here; only after they agree, call "
        f"again with the same arguments, confirm=true and confirmation={token} (this list's token)."
    )
    assert out["deleted"] is False and out["note"] == note and out["confirmation"] == token
    assert bare["deleted"] is False and bare["note"] == note
    assert len(fake.records) == 2 and not _deletes(fake)


async def test_a_bulk_delete_asks_with_the_first_five_names_and_how_many_more(fake: FakeRuntype) -> None:
    ids = [fake.add_record("lead", f"r{i}")["id"] for i in range(7)]
    asked: list[str] = []
    async with _dialog(fake, asked) as client:
        out = data(await client.call_tool(BULK, {"ids": ids, "type": "lead", "dry_run": False}))
    names = ", ".join(f'"r{i} (lead)"' for i in range(5))
    assert asked == [
        f'Delete 7 records of type "lead" ({names} and 2 more), with their run results? This cannot be undone.'
    ]
    assert out["deleted"] is False and out["note"] == (
        "Nothing was deleted: the user declined in the confirmation dialog. Do not retry unless they ask."
    )
    assert len(fake.records) == 7 and not _deletes(fake)


async def test_a_question_about_five_or_fewer_ids_says_no_more(fake: FakeRuntype) -> None:
    ids = [fake.add_record("lead", f"r{i}")["id"] for i in range(5)]
    asked: list[str] = []
    async with _dialog(fake, asked) as client:
        await client.call_tool(BULK, {"ids": [*ids, "rec_unknown"], "dry_run": False})
    names = ", ".join(f'"r{i} (lead)"' for i in range(5))
    assert asked == [f"Delete 6 records ({names} and 1 more), with their run results? This cannot be undone."]
    asked.clear()
    async with _dialog(fake, asked) as client:
        await client.call_tool(BULK, {"ids": ids[:2], "dry_run": False})
    assert asked == [
        'Delete 2 records ("r0 (lead)", "r1 (lead)"), with their run results? This cannot be undone.'
    ]


async def test_an_unnamed_id_is_asked_about_by_its_id(fake: FakeRuntype) -> None:
    rid = fake.add_record("lead", "A")["id"]
    asked: list[str] = []
    async with _dialog(fake, asked) as client:
        await client.call_tool(BULK, {"ids": ["rec_x", rid], "dry_run": False})
    assert asked == ['Delete 2 records ("rec_x", "A (lead)"), with their run results? This cannot be undone.']


async def test_an_approved_dialog_deletes_without_a_token(fake: FakeRuntype) -> None:
    ids = [fake.add_record("lead", f"r{i}")["id"] for i in range(2)]
    asked: list[str] = []
    async with _dialog(fake, asked, "accept") as client:
        out = data(await client.call_tool(BULK, {"ids": ids, "dry_run": False}))
    assert out == {"deleted": True, "requested": 2, "deleted_count": 2, "deleted_ids": ids}
    assert fake.records == {}


async def test_a_type_dry_run_lists_the_first_rows_with_their_data_cut(fake: FakeRuntype) -> None:
    for i in range(7):
        fake.add_record("tmp", f"r{i}", {"note": "y" * 80, **{f"k{j}": j for j in range(9)}})
    fake.add_record("keep", "other")
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"type": "tmp"}))
    ids = [f"rec_{i}" for i in range(1, 8)]
    assert out["requested"] == 7 and out["would_delete"] == ids
    assert [r["name"] for r in out["sample"]] == [f"r{i}" for i in range(5)]
    assert out["sample"][0]["metadata"] == {
        "note": "y" * 59 + "…",
        **{f"k{j}": j for j in range(7)},
        "…": "2 more keys",
    }
    listing = fake.sent("GET", "/v1/records")
    assert [dict(r.url.params) for r in listing] == [{"type": "tmp", "limit": "100", "view": "compact"}]
    assert out["warnings"] == [
        "values ending in … were cut for this view: get_record has them whole; never write them back"
    ]
    assert out["note"].endswith(f"expected_count=7 and confirmation={sign(API_KEY, 'delete', ids)}.")


@pytest.mark.parametrize(
    ("metadata", "shown"),
    [
        ({f"k{j}": j for j in range(9)}, {**{f"k{j}": j for j in range(8)}, "…": "1 more keys"}),
        ({"s": "z" * 61}, {"s": "z" * 59 + "…"}),
    ],
)
async def test_a_row_just_over_the_preview_size_is_cut_and_says_so(
    fake: FakeRuntype, metadata: dict[str, Any], shown: dict[str, Any]
) -> None:
    fake.add_record("tmp", "r0", {"a": 1})
    fake.add_record("tmp", "r1", metadata)
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"type": "tmp"}))
    assert [r["metadata"] for r in out["sample"]] == [{"a": 1}, shown]
    assert out["warnings"] == [
        "values ending in … were cut for this view: get_record has them whole; never write them back"
    ]


async def test_a_row_at_the_preview_size_is_whole(fake: FakeRuntype) -> None:
    whole = {**{f"k{j}": j for j in range(7)}, "s": "z" * 60}
    fake.add_record("tmp", "r0", whole)
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"type": "tmp"}))
    assert out["sample"][0]["metadata"] == whole and "warnings" not in out


async def test_a_filter_is_sent_with_the_type_and_rows_without_an_id_are_skipped(fake: FakeRuntype) -> None:
    body = {
        "data": [{"id": "r1", "name": "a", "type": "tmp"}, {"name": "no id"}, {"id": "r1", "name": "a"}],
        "pagination": {"hasMore": False},
    }
    fake.fail("GET", "/records", 200, body=body)
    where = {"field": "stage", "op": "eq", "value": "lead"}
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"type": "tmp", "filter": where}))
    sent = fake.sent("GET", "/v1/records")[0].url.params
    assert json.loads(sent["recordFilter"]) == {"type": "tmp", "where": where}
    assert out["requested"] == 1 and out["would_delete"] == ["r1"]


async def test_a_type_dry_run_with_small_rows_keeps_them_whole_and_warns_nothing(fake: FakeRuntype) -> None:
    fake.add_record("tmp", "r0", {"a": 1})
    fake.add_record("tmp", "r1")
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"type": "tmp"}))
    assert [(r["name"], r.get("metadata")) for r in out["sample"]] == [("r0", {"a": 1}), ("r1", None)]
    assert "warnings" not in out


async def test_a_filter_delete_names_the_filter_in_the_question() -> None:
    asked: list[str] = []

    async def decline(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="decline")

    server = build_server(Settings(sandbox=True, sandbox_db=":memory:"))
    async with Client(server, elicitation_callback=decline) as client:  # type: ignore[arg-type]
        for name, stage in (("a", "lead"), ("b", "won"), ("c", "lead")):
            await client.call_tool(
                "create_record", {"name": name, "type": "tmp", "metadata": {"stage": stage}}
            )
        where = {"field": "stage", "op": "eq", "value": "lead"}
        out = data(await client.call_tool(BULK, {"type": "tmp", "filter": where, "dry_run": False}))
    assert len(asked) == 1
    assert asked[0].startswith('Delete 2 records of type "tmp" matching the filter (')
    assert out["requested"] == 2 and sorted(r["name"] for r in out["sample"]) == ["a", "c"]


async def test_nothing_matched_says_so(fake: FakeRuntype) -> None:
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"type": "nothing_here", "dry_run": False, "confirm": True}))
    assert out == {
        "deleted": False,
        "requested": 0,
        "would_delete": [],
        "note": "Nothing matched; nothing was deleted.",
    }


async def test_a_dry_run_shows_two_hundred_ids_and_counts_the_rest(fake: FakeRuntype) -> None:
    for i in range(230):
        fake.add_record("tmp", f"r{i}")
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"type": "tmp"}))
    assert out["requested"] == 230 and len(out["would_delete"]) == 200 and out["ids_omitted"] == 30
    assert out["would_delete"][-1] == "rec_200"


async def test_a_thousand_matches_are_listed(fake: FakeRuntype) -> None:
    for i in range(1000):
        fake.add_record("tmp", f"r{i}")
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"type": "tmp"}))
    assert out["requested"] == 1000 and out["ids_omitted"] == 800


async def test_more_than_a_thousand_matches_are_refused(fake: FakeRuntype) -> None:
    for i in range(1001):
        fake.add_record("tmp", f"r{i}")
    async with connect(fake) as client:
        res = await client.call_tool(BULK, {"type": "tmp"})
    assert res.is_error and text(res) == (
        "bulk_delete_records: the filter matches more than 1000 records; nothing was deleted. "
        "Narrow the filter (preview_record_filter counts matches) and delete in parts."
    )


async def test_a_write_whose_count_changed_is_refused_with_both_numbers(fake: FakeRuntype) -> None:
    for i in range(3):
        fake.add_record("tmp", f"r{i}")
    async with connect(fake) as client:
        res = await client.call_tool(
            BULK, {"type": "tmp", "dry_run": False, "expected_count": 2, "confirm": True}
        )
        dry = data(await client.call_tool(BULK, {"type": "tmp", "expected_count": 2}))
    assert res.is_error and text(res) == (
        "bulk_delete_records: nothing was deleted: the filter now matches 3 records, not expected_count=2. "
        "Call again with dry_run=true to see the current set."
    )
    assert dry["requested"] == 3 and len(fake.records) == 3


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"filter": {"field": "a", "op": "eq", "value": 1}},
        {"ids": ["a"], "type": "t", "filter": {"field": "a", "op": "eq", "value": 1}},
    ],
)
async def test_a_call_without_a_clear_target_is_refused(fake: FakeRuntype, args: dict[str, Any]) -> None:
    async with connect(fake) as client:
        res = await client.call_tool(BULK, args)
    assert res.is_error and text(res).splitlines() == [
        "bulk_delete_records: invalid arguments (nothing was sent to Runtype).",
        "- (arguments): needs ids (+ type to guard them), or type (+ filter) → pass ids, or type with an "
        "optional filter",
        "Fix these arguments and call bulk_delete_records again.",
    ]
    assert not fake.requests


# ---------------------------------------------------------------- bulk_delete_records: the write


async def test_a_confirmed_delete_goes_in_chunks_of_a_hundred_and_reports_each_id(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(250)]
    token = sign(API_KEY, "delete", [*ids, "rec_gone"])
    async with connect(fake) as client:
        out = data(
            await client.call_tool(BULK, {"ids": [*ids, "rec_gone"], "confirm": True, "confirmation": token})
        )
    assert [len(c) for c in _deletes(fake)] == [100, 100, 51]
    assert out["deleted"] is True and out["requested"] == 251 and out["deleted_count"] == 250
    assert out["deleted_ids"] == ids[:200] and out["not_found_ids"] == ["rec_gone"]
    assert out["ids_omitted"] == 50
    assert out["note"] == "not_found_ids were already gone or are not visible to this key."
    assert fake.records == {}


def _answer_bulk_delete(fake: FakeRuntype, answers: list[Any]) -> None:
    """The next bulk-delete requests get these answers in turn (a dict: 200 with it; an int: that status)."""
    real = fake._bulk_delete

    def handler(request: httpx2.Request) -> httpx2.Response:
        if not answers:
            return real(request)
        answer = answers.pop(0)
        if isinstance(answer, int):
            return httpx2.Response(answer, json={"error": "Database unavailable"})
        if answer == "real":
            return real(request)
        return httpx2.Response(200, json=answer)

    fake._bulk_delete = handler  # type: ignore[method-assign]


async def test_a_failure_after_the_first_chunk_says_exactly_what_was_deleted(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(150)]
    _answer_bulk_delete(fake, ["real", 500])
    async with connect(fake) as client:
        res = await client.call_tool(
            BULK, {"ids": ids, "confirm": True, "confirmation": sign(API_KEY, "delete", ids)}
        )
    assert res.is_error
    assert unfenced(text(res)) == (
        f"bulk_delete_records stopped part-way. Done for 100 ids: {', '.join(ids[:100])}.\n"
        "Not done: the last 50 of the ids you gave (in order, duplicates removed); the request that failed may or "
        "may not have taken effect.\n"
        'Cause: bulk_delete_records: Runtype had a server error (500). Runtype said: "Database unavailable". '
        "The change may or may not have happened. Do not repeat bulk_delete_records blindly: first check with "
        "list_records which of the ids still exist.\n"
        "To finish, call bulk_delete_records again with the ids not done; ids already gone are reported as not "
        "found, which is harmless."
    )
    assert len(fake.records) == 50


async def test_a_failure_of_the_first_chunk_is_the_plain_error(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(150)]
    _answer_bulk_delete(fake, [500])
    async with connect(fake) as client:
        res = await client.call_tool(
            BULK, {"ids": ids, "confirm": True, "confirmation": sign(API_KEY, "delete", ids)}
        )
    assert res.is_error
    assert unfenced(text(res)) == (
        'bulk_delete_records: Runtype had a server error (500). Runtype said: "Database unavailable". '
        "The change may or may not have happened. Do not repeat bulk_delete_records blindly: first check with "
        "list_records which of the ids still exist."
    )
    assert len(_deletes(fake)) == 1 and len(fake.records) == 150


async def test_an_answer_with_only_a_count_means_the_whole_chunk_went(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(3)]
    _answer_bulk_delete(fake, [{"success": True, "deleted": 3}])
    async with connect(fake) as client:
        out = data(
            await client.call_tool(
                BULK, {"ids": ids, "confirm": True, "confirmation": sign(API_KEY, "delete", ids)}
            )
        )
    assert out == {"deleted": True, "requested": 3, "deleted_count": 3, "deleted_ids": ids}


async def test_an_answer_with_a_short_count_and_no_ids_claims_no_id(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(3)]
    _answer_bulk_delete(fake, [{"success": True, "deleted": 2}])
    async with connect(fake) as client:
        out = data(
            await client.call_tool(
                BULK, {"ids": ids, "confirm": True, "confirmation": sign(API_KEY, "delete", ids)}
            )
        )
    assert out == {"deleted": True, "requested": 3, "deleted_count": 2, "deleted_ids": []}


async def test_ids_in_the_answer_that_are_not_text_are_ignored_and_counted_from_the_list(
    fake: FakeRuntype,
) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(3)]
    body = {"deletedIds": [ids[0], 7, ids[1]], "notFoundIds": [None, ids[2]]}
    _answer_bulk_delete(fake, [body])
    async with connect(fake) as client:
        out = data(
            await client.call_tool(
                BULK, {"ids": ids, "confirm": True, "confirmation": sign(API_KEY, "delete", ids)}
            )
        )
    assert out["deleted_count"] == 2 and out["deleted_ids"] == ids[:2] and out["not_found_ids"] == [ids[2]]
    assert "ids_omitted" not in out


async def test_many_not_found_ids_are_cut_and_counted(fake: FakeRuntype) -> None:
    ids = [f"rec_none_{i}" for i in range(230)]
    async with connect(fake) as client:
        out = data(
            await client.call_tool(
                BULK, {"ids": ids, "confirm": True, "confirmation": sign(API_KEY, "delete", ids)}
            )
        )
    assert out["deleted_count"] == 0 and out["deleted_ids"] == []
    assert out["not_found_ids"] == ids[:200] and out["ids_omitted"] == 30


# ---------------------------------------------------------------- delete_guard


async def test_a_typed_delete_lists_at_most_twenty_foreign_records_and_counts_the_rest(
    fake: FakeRuntype,
) -> None:
    mine = fake.add_record("tmp", "mine")["id"]
    foreign = [fake.add_record("customer", f"c{i}")["id"] for i in range(22)]
    async with connect(fake) as client:
        res = await client.call_tool(BULK, {"ids": [mine, *foreign], "type": "tmp", "dry_run": True})
    listed = "; ".join(f'"{f}" ("c{i}", type "customer")' for i, f in enumerate(foreign[:20]))
    assert res.is_error and unfenced(text(res)) == (
        f'bulk_delete_records: nothing was deleted: 22 of the ids are not of type "tmp": {listed} and 2 more. '
        "Remove them from ids, or check the type."
    )
    assert len(fake.records) == 23


async def test_a_typed_delete_of_twenty_foreign_records_names_them_all(fake: FakeRuntype) -> None:
    foreign = [fake.add_record("customer", f"c{i}")["id"] for i in range(20)]
    async with connect(fake) as client:
        res = await client.call_tool(BULK, {"ids": foreign, "type": "tmp", "dry_run": True})
    assert res.is_error and unfenced(text(res)).endswith(
        'type "customer"). Remove them from ids, or check the type.'
    )


async def test_a_typed_delete_reads_its_ids_a_hundred_at_a_time_and_keeps_their_order(
    fake: FakeRuntype,
) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(150)]
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"ids": ids[::-1], "type": "tmp", "dry_run": True}))
    listings = fake.sent("GET", "/v1/records")
    assert len(listings) >= 2
    wheres = [json.loads(r.url.params["recordFilter"]) for r in listings]
    assert [len(w["where"]["value"]) for w in wheres] == [100, 50]
    assert wheres[0] == {"type": "tmp", "where": {"field": "id", "op": "in", "value": ids[::-1][:100]}}
    assert all(r.url.params["type"] == "tmp" and r.url.params["view"] == "compact" for r in listings)
    assert [r["id"] for r in out["sample"]] == ids[::-1][:20]
    assert out["requested"] == 150 and "warnings" not in out


async def test_a_typed_delete_looks_up_an_id_the_listing_did_not_return(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(2)]
    other = fake.add_record("customer", "C")["id"]
    async with connect(fake) as client:
        res = await client.call_tool(
            BULK, {"ids": [*ids, other, "rec_missing"], "type": "tmp", "dry_run": True}
        )
    assert res.is_error and f'"{other}" ("C", type "customer")' in unfenced(text(res))
    assert 'nothing was deleted: 1 of the ids are not of type "tmp"' in unfenced(text(res))
    looked = sorted(r.url.path for r in fake.sent("GET", "/v1/records/.+"))
    assert looked == [f"/v1/records/{other}", "/v1/records/rec_missing"]


async def test_a_guard_that_cannot_look_refuses_instead_of_deleting(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(2)]
    fake.fail("GET", "/records/rec_elsewhere", 500, times=5)
    async with connect(fake) as client:
        res = await client.call_tool(
            BULK, {"ids": [*ids, "rec_elsewhere"], "type": "tmp", "confirm": True, "confirmation": "x"}
        )
    assert res.is_error and "server error (500)" in text(res)
    assert len(fake.records) == 2 and not _deletes(fake)


async def test_an_untyped_preview_of_an_id_it_cannot_read_still_shows_the_rest(fake: FakeRuntype) -> None:
    rid = fake.add_record("tmp", "A")["id"]
    fake.fail("GET", "/records/rec_elsewhere", 500, times=5)
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"ids": [rid, "rec_elsewhere", "bad id/x"], "dry_run": True}))
    assert out["sample"] == [{"id": rid, "name": "A", "type": "tmp"}]
    assert out["warnings"] == ["Not found: bad id/x."]


async def test_an_untyped_write_looks_up_only_five_ids_for_the_question(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(8)]
    async with connect(fake) as client:
        await client.call_tool(BULK, {"ids": ids, "confirm": True})
        looked_write = len(fake.sent("GET", "/v1/records/.+"))
        out = data(await client.call_tool(BULK, {"ids": ids, "dry_run": True}))
    assert looked_write == 5
    assert len(out["sample"]) == 8 and len(fake.sent("GET", "/v1/records/.+")) == 5 + 8


async def test_an_untyped_preview_looks_up_at_most_twenty_ids(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(25)]
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"ids": ids, "dry_run": True}))
    assert [r["id"] for r in out["sample"]] == ids[:20] and "warnings" not in out


# ---------------------------------------------------------------- second round: what the first run missed


async def test_a_dry_run_never_asks_the_user_and_neither_does_an_empty_match(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(2)]
    asked: list[str] = []
    async with _dialog(fake, asked, "accept") as client:
        dry = data(await client.call_tool(BULK, {"ids": ids, "dry_run": True}))
        none = data(await client.call_tool(BULK, {"type": "nothing_here", "dry_run": False}))
    assert asked == []
    assert dry["deleted"] is False and dry["note"].startswith("Dry run: nothing deleted.")
    assert none["note"] == "Nothing matched; nothing was deleted."
    assert len(fake.records) == 2


async def test_a_question_about_exactly_five_ids_names_them_all(fake: FakeRuntype) -> None:
    ids = [fake.add_record("lead", f"r{i}")["id"] for i in range(5)]
    asked: list[str] = []
    async with _dialog(fake, asked) as client:
        await client.call_tool(BULK, {"ids": ids, "dry_run": False})
    names = ", ".join(f'"r{i} (lead)"' for i in range(5))
    assert asked == [f"Delete 5 records ({names}), with their run results? This cannot be undone."]


async def test_long_names_types_and_ids_are_cut_in_the_questions(fake: FakeRuntype) -> None:
    name, kind, rid = "n" * 150, "t" * 150, "r" * 130
    made = fake.add_record(kind, name)
    fake.records[rid] = {**fake.records.pop(made["id"]), "id": rid}
    asked: list[str] = []
    async with _dialog(fake, asked) as client:
        await client.call_tool("delete_record", {"record_id": rid})
        await client.call_tool(BULK, {"ids": [rid], "type": kind, "dry_run": False})
        await client.call_tool(BULK, {"type": kind, "dry_run": False})
    cut_name, cut_kind, cut_id = "n" * 99 + "…", "t" * 99 + "…", "r" * 119 + "…"
    row = f"{name} ({kind})"[:119] + "…"
    listed = f"{name[:100]}… ({kind})"[:119] + "…"  # the type listing's compact view cuts the name first
    assert asked == [
        f'Delete record "{cut_name}" (type "{cut_kind}", id "{cut_id}")? This cannot be undone.',
        f'Delete 1 records of type "{cut_kind}" ("{row}"), with their run results? This cannot be undone.',
        f'Delete 1 records of type "{cut_kind}" ("{listed}"), with their run results? This cannot be undone.',
    ]


async def test_a_record_without_name_or_type_is_asked_about_with_question_marks(fake: FakeRuntype) -> None:
    rec = fake.add_record("lead", "x")
    rec["name"], rec["type"] = None, None
    asked: list[str] = []
    async with _dialog(fake, asked) as client:
        await client.call_tool("delete_record", {"record_id": rec["id"]})
    assert asked == [f'Delete record "?" (type "?", id "{rec["id"]}")? This cannot be undone.']


async def test_a_wrong_token_is_refused_in_the_delete_tools_own_words(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(2)]
    async with connect(fake) as client:
        res = await client.call_tool(BULK, {"ids": ids, "confirm": True, "confirmation": "0" * 16})
    assert res.is_error and text(res) == (
        "bulk_delete_records: nothing was deleted: confirmation does not match what this call would change now "
        "(the records or the change differ from the dry run it came from, or it was made for another API key). "
        "Call again with dry_run=true, show the result, and pass its new confirmation."
    )
    assert len(fake.records) == 2


async def test_a_typed_dry_run_by_ids_is_a_dry_run(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(2)]
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"ids": ids, "type": "tmp", "dry_run": True}))
    token = sign(API_KEY, "delete", ids)
    assert out["note"] == (
        "Dry run: nothing deleted. Deleting also removes each record's run and step results. To delete, "
        f"call again with dry_run=false, expected_count=2 and confirmation={token}."
    )


async def test_every_id_not_found_is_listed(fake: FakeRuntype) -> None:
    async with connect(fake) as client:
        out = data(await client.call_tool(BULK, {"ids": ["rec_a", "rec_b"], "dry_run": True}))
    assert out["warnings"] == ["Not found: rec_a, rec_b."]


async def test_an_answer_without_any_count_is_not_taken_for_zero_deletions(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(2)]
    _answer_bulk_delete(fake, [{"success": True}])
    async with connect(fake) as client:
        res = await client.call_tool(
            BULK, {"ids": ids, "confirm": True, "confirmation": sign(API_KEY, "delete", ids)}
        )
    assert res.is_error and text(res).startswith(
        "bulk_delete_records: Runtype answered 200 but sent JSON without deletedIds or deleted instead of the "
        "expected JSON (bulk delete)."
    )


async def test_listed_ids_win_over_a_count_that_covers_the_chunk(fake: FakeRuntype) -> None:
    ids = [fake.add_record("tmp", f"r{i}")["id"] for i in range(2)]
    _answer_bulk_delete(fake, [{"deletedIds": [ids[0]], "deleted": 2}])
    async with connect(fake) as client:
        out = data(
            await client.call_tool(
                BULK, {"ids": ids, "confirm": True, "confirmation": sign(API_KEY, "delete", ids)}
            )
        )
    assert out["deleted_ids"] == [ids[0]] and out["deleted_count"] == 2


async def test_the_guard_trusts_a_listed_row_only_when_it_is_of_the_type(fake: FakeRuntype) -> None:
    # A listing that returns a requested id with another type (a filter Runtype did not apply) must not
    # pass that record off as one of the type: it is looked up and refused.
    mine = fake.add_record("tmp", "mine")["id"]
    other = fake.add_record("customer", "C")["id"]
    listing = {
        "data": [{"id": mine, "type": "tmp", "name": "mine"}, {"id": other, "type": "customer", "name": "C"}],
        "pagination": {"hasMore": False},
    }
    fake.fail("GET", "/records", 200, body=listing)
    async with connect(fake) as client:
        res = await client.call_tool(BULK, {"ids": [mine, other], "type": "tmp", "dry_run": True})
    assert (
        res.is_error
        and f'1 of the ids are not of type "tmp": "{other}" ("C", type "customer")' in unfenced(text(res))
    )


async def test_long_or_missing_parts_of_a_foreign_record_are_cut_or_marked(fake: FakeRuntype) -> None:
    rid, name, kind, wanted = "r" * 130, "n" * 90, "k" * 90, "w" * 120
    made = fake.add_record(kind, name)
    fake.records[rid] = {**fake.records.pop(made["id"]), "id": rid}
    bare = fake.add_record("x", "y")
    bare["name"], bare["type"] = None, None
    async with connect(fake) as client:
        res = await client.call_tool(BULK, {"ids": [rid, bare["id"]], "type": wanted, "dry_run": True})
    listed = f'"{"r" * 119}…" ("{"n" * 79}…", type "{"k" * 79}…"); "{bare["id"]}" ("?", type "?")'
    assert res.is_error and unfenced(text(res)) == (
        f'bulk_delete_records: nothing was deleted: 2 of the ids are not of type "{"w" * 99}…": {listed}. '
        "Remove them from ids, or check the type."
    )
