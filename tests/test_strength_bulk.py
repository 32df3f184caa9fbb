"""Mutation-strength tests (issue 16): what bulk_edit_records shows the model (tools/records_bulk.py).

The diff, its counts, the confirmation and the exact next step are the product: a model decides from
them whether and how to write.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from mcp.types import ElicitResult

from runtype_mcp.tools.preview_token import sign
from tests.conftest import connect, data, text
from tests.fakes import API_KEY, FakeRuntype

pytestmark = pytest.mark.anyio

TOOL = "bulk_edit_records"


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels):
        value = {"k": value}
    return value


def _edits(fake: FakeRuntype) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in fake.sent("POST", "/v1/records/bulk-edit")]


async def test_a_dry_run_by_ids_shows_each_change_and_the_exact_way_to_write_it(fake: FakeRuntype) -> None:
    a = fake.add_record("lead", "A", {"stage": "new", "old": 1, "keep": "x"})["id"]
    b = fake.add_record("lead", "B", {"stage": "new"})["id"]
    async with connect(fake) as client:
        out = data(
            await client.call_tool(
                TOOL, {"record_ids": [b, a, b], "updates": {"stage": "won"}, "delete_fields": ["old", "gone"]}
            )
        )
    change = {"updates": {"stage": "won"}, "deleteFields": ["gone", "old"]}
    token = sign(API_KEY, "edit", [a, b], change)
    assert out == {
        "dry_run": True,
        "written": False,
        "matched": 2,
        "changed": 2,
        "diffs": [
            {"id": b, "before": {"stage": "new"}, "after": {"stage": "won"}},
            {"id": a, "before": {"stage": "new", "old": 1}, "after": {"stage": "won"}, "removed": ["old"]},
        ],
        "warnings": [],
        "confirmation": token,
        "next": f"Dry run: nothing written. To write, call again with dry_run=false, expected_count=2 and "
        f"confirmation={token}.",
    }
    assert _edits(fake) == [
        {"dryRun": True, "recordIds": [b, a], "updates": {"stage": "won"}, "deleteFields": ["old", "gone"]}
    ]
    assert a in fake.records and fake.records[a]["metadata"]["stage"] == "new"


async def test_a_row_that_would_not_change_is_skipped_and_the_rest_still_shown(fake: FakeRuntype) -> None:
    ids = [
        fake.add_record("lead", "same", {"stage": "won"})["id"],
        fake.add_record("lead", "other", {"stage": "new"})["id"],
        fake.add_record("lead", "third", {})["id"],
    ]
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"record_ids": ids, "updates": {"stage": "won"}}))
    assert (out["matched"], out["changed"]) == (3, 2)
    assert [d["id"] for d in out["diffs"]] == ids[1:]
    assert out["diffs"][1] == {"id": ids[2], "before": {}, "after": {"stage": "won"}}


async def test_twenty_diffs_are_shown_and_the_rest_counted(fake: FakeRuntype) -> None:
    for i in range(23):
        fake.add_record("lead", f"r{i}", {"n": i})
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"type": "lead", "updates": {"n": -1}}))
    assert (out["matched"], out["changed"], len(out["diffs"]), out["diffs_omitted"]) == (23, 23, 20, 3)
    assert _edits(fake) == [{"dryRun": True, "recordFilter": {"type": "lead"}, "updates": {"n": -1}}]
    assert out["diffs"][0] == {"id": "rec_1", "before": {"n": 0}, "after": {"n": -1}}


async def test_big_diffs_stop_at_the_size_budget_and_the_rest_are_counted(fake: FakeRuntype) -> None:
    big = {f"k{i}": "x" * 90 for i in range(12)}
    for i in range(15):
        fake.add_record("lead", f"r{i}", dict(big))
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"type": "lead", "delete_fields": list(big)}))
    shown = len(out["diffs"])
    assert 5 < shown < 15 and out["diffs_omitted"] == 15 - shown and out["changed"] == 15
    first = out["diffs"][0]
    assert first["after"] == {} and len(first["removed"]) == 12
    assert len(first["before"]) <= 11  # shrunk: at most 10 keys plus the note of what was cut


async def test_a_filter_dry_run_hands_over_the_token_of_the_records_it_matched(fake: FakeRuntype) -> None:
    leads = [fake.add_record("lead", f"l{i}", {"stage": "lead"})["id"] for i in range(2)]
    fake.add_record("lead", "won", {"stage": "won"})
    where = {"field": "stage", "op": "eq", "value": "lead"}
    async with connect(fake) as client:
        out = data(
            await client.call_tool(TOOL, {"type": "lead", "filter": where, "delete_fields": ["stage"]})
        )
        fake.records[leads[0]]["metadata"]["stage"] = "lead"
        written = data(
            await client.call_tool(
                TOOL,
                {
                    "type": "lead",
                    "filter": where,
                    "delete_fields": ["stage"],
                    "dry_run": False,
                    "confirmation": out["confirmation"],
                },
            )
        )
    assert out["confirmation"] == sign(API_KEY, "edit", leads, {"updates": {}, "deleteFields": ["stage"]})
    assert written["written"] is True and written["dry_run"] is False and written["next"] == "Written."
    assert written["matched"] == 2 and [d["removed"] for d in written["diffs"]] == [["stage"], ["stage"]]
    sent = _edits(fake)
    assert sent[0]["recordFilter"] == {"type": "lead", "where": where} and "recordIds" not in sent[0]
    # the write names exactly the records the preview was made for, not the filter
    assert sent[-1] == {"dryRun": False, "deleteFields": ["stage"], "recordIds": leads}


async def test_a_write_by_ids_with_its_token_sends_one_request_and_says_written(fake: FakeRuntype) -> None:
    ids = [fake.add_record("lead", f"r{i}", {"n": i})["id"] for i in range(2)]
    token = sign(API_KEY, "edit", ids, {"updates": {"n": 9}, "deleteFields": []})
    async with connect(fake) as client:
        out = data(
            await client.call_tool(
                TOOL, {"record_ids": ids, "updates": {"n": 9}, "dry_run": False, "confirmation": token}
            )
        )
    assert out["written"] is True and "confirmation" not in out and out["next"] == "Written."
    assert _edits(fake) == [{"dryRun": False, "recordIds": ids, "updates": {"n": 9}}]
    assert [fake.records[i]["metadata"]["n"] for i in ids] == [9, 9]


async def test_a_write_whose_set_changed_since_the_count_is_refused_with_both_numbers(
    fake: FakeRuntype,
) -> None:
    for i in range(3):
        fake.add_record("lead", f"r{i}", {"n": i})
    args = {"type": "lead", "updates": {"n": 0}}
    async with connect(fake) as client:
        preview = data(await client.call_tool(TOOL, args))
        with_token = await client.call_tool(
            TOOL, {**args, "dry_run": False, "expected_count": 2, "confirmation": preview["confirmation"]}
        )
        without_token = await client.call_tool(TOOL, {**args, "dry_run": False, "expected_count": 5})
    refused = (
        "bulk_edit_records: nothing was changed: the target now matches 3 records, not expected_count={}. "
        "Call again with dry_run=true to see the current set."
    )
    assert with_token.is_error and text(with_token) == refused.format(2)
    assert without_token.is_error and text(without_token) == refused.format(5)
    assert not [b for b in _edits(fake) if b["dryRun"] is False]
    assert sorted(r["metadata"]["n"] for r in fake.records.values()) == [0, 1, 2]


async def test_a_write_with_the_right_count_and_token_writes(fake: FakeRuntype) -> None:
    for i in range(2):
        fake.add_record("lead", f"r{i}", {"n": i})
    args = {"type": "lead", "updates": {"n": 5}}
    async with connect(fake) as client:
        preview = data(await client.call_tool(TOOL, args))
        out = data(
            await client.call_tool(
                TOOL, {**args, "dry_run": False, "expected_count": 2, "confirmation": preview["confirmation"]}
            )
        )
    assert out["written"] is True and out["matched"] == 2
    assert sorted(r["metadata"]["n"] for r in fake.records.values()) == [5, 5]


async def test_a_write_by_ids_without_a_token_is_a_dry_run_that_checks_the_count(fake: FakeRuntype) -> None:
    ids = [fake.add_record("lead", f"r{i}", {"n": i})["id"] for i in range(2)]
    async with connect(fake) as client:
        ok = data(
            await client.call_tool(
                TOOL, {"record_ids": ids, "updates": {"n": 1}, "dry_run": False, "expected_count": 2}
            )
        )
    token = sign(API_KEY, "edit", ids, {"updates": {"n": 1}, "deleteFields": []})
    assert ok["written"] is False and ok["confirmation"] == token
    assert ok["next"] == (
        "Nothing was written: dry_run=false needs this dry run's confirmation. Show the user the diff; only after "
        f"they agree, call again with the same arguments, dry_run=false, expected_count=2 and confirmation={token}."
    )
    assert [b["dryRun"] for b in _edits(fake)] == [True]


async def test_every_record_dry_run_says_the_write_needs_confirm_too(fake: FakeRuntype) -> None:
    a = fake.add_record("lead", "A", {})["id"]
    b = fake.add_record("deal", "B", {})["id"]
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"apply_to_all": True, "updates": {"seen": True}}))
    token = sign(API_KEY, "edit", [a, b], {"updates": {"seen": True}, "deleteFields": []})
    assert out["next"] == (
        "Dry run: nothing written. To write, call again with dry_run=false, confirm=true, expected_count=2 and "
        f"confirmation={token}."
    )
    assert _edits(fake) == [{"dryRun": True, "applyToAll": True, "updates": {"seen": True}}]


async def test_an_every_record_write_asks_the_user_with_the_keys_and_count(fake: FakeRuntype) -> None:
    for i in range(3):
        fake.add_record("lead", f"r{i}", {})
    asked: list[str] = []

    async def decline(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="decline")

    updates = {f"key{i}": i for i in range(8)}  # nine keys with "z": eight named, then "…"
    server_args = {"apply_to_all": True, "updates": updates, "delete_fields": ["z"], "dry_run": False}
    from runtype_mcp.server import build_server
    from tests.conftest import make_settings

    server = build_server(make_settings(), transport=fake.transport())
    async with Client(server, elicitation_callback=decline) as client:  # type: ignore[arg-type]
        out = data(await client.call_tool(TOOL, server_args))
    head = ", ".join(f"key{i}" for i in range(8))
    assert asked == [f"Change metadata keys {head} … on ALL 3 records of every type? This cannot be undone."]
    assert out["written"] is False and out["dry_run"] is True and out["changed"] == 3
    assert out["next"] == (
        "Nothing was changed: the user declined in the confirmation dialog. Do not retry unless they ask."
    )
    assert all(r["metadata"] == {} for r in fake.records.values())


async def test_an_approved_every_record_write_needs_no_token_and_writes(fake: FakeRuntype) -> None:
    for i in range(2):
        fake.add_record("lead", f"r{i}", {})
    asked: list[str] = []

    async def approve(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"approve": True})

    long = "a" * 45
    from runtype_mcp.server import build_server
    from tests.conftest import make_settings

    server = build_server(make_settings(), transport=fake.transport())
    async with Client(server, elicitation_callback=approve) as client:  # type: ignore[arg-type]
        out = data(
            await client.call_tool(
                TOOL, {"apply_to_all": True, "delete_fields": [long, *"bcdefgh"], "dry_run": False}
            )
        )
    keys = ", ".join([long[:39] + "…", *"bcdefgh"])  # eight keys: all named, long ones cut
    assert asked == [f"Change metadata keys {keys} on ALL 2 records of every type? This cannot be undone."]
    assert out["written"] is True and out["next"] == "Written."
    # the approved write changes exactly the records the question counted, by id
    assert _edits(fake)[-1] == {
        "dryRun": False,
        "deleteFields": [long, *"bcdefgh"],
        "recordIds": ["rec_1", "rec_2"],
    }


async def test_schema_and_rename_warnings_of_the_answer_are_all_shown(fake: FakeRuntype) -> None:
    rid = fake.add_record("lead", "A", {"n": 1})["id"]
    items = [
        {"recordId": f"rec_{i}", "errors": [{"field": "n", "message": f"bad {i}.{j}"} for j in range(4)]}
        for i in range(11)
    ]
    body = {
        "data": [
            {"id": "x", "before": {"n": 1}, "after": {"n": 1}},
            "not a row",
            {"id": rid, "before": {"n": 1}, "after": {"n": 2}},
        ],
        "recordIds": ["x", rid],
        "warnings": [{"code": "KEY_RENAMED", "from": "N", "to": "n"}],
        "schemaWarnings": [
            "not an item",
            {"recordId": "rec_z", "errors": ["plain", {"message": "no field"}]},
            *items,
        ],
    }
    fake.fail("POST", "/records/bulk-edit", 200, body=body)
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"record_ids": ["x", rid], "updates": {"n": 2}}))
    assert (out["matched"], out["changed"], [d["id"] for d in out["diffs"]]) == (2, 1, [rid])
    warnings = out["warnings"]
    assert warnings[0] == 'metadata key "N" was renamed by Runtype to "n"; use the new name from now on'
    assert warnings[1:3] == [
        'record "rec_z": schema warning on "?": Runtype said "no field"',
        'record "rec_0": schema warning on "n": Runtype said "bad 0.0"',
    ]
    # ten items at most (the first two count), three errors each at most
    assert len(warnings) == 1 + 1 + 8 * 3
    assert warnings[-1] == 'record "rec_7": schema warning on "n": Runtype said "bad 7.2"'


async def test_a_schema_warning_without_a_message_shows_the_whole_error(fake: FakeRuntype) -> None:
    rid = fake.add_record("lead", "A", {})["id"]
    body = {
        "data": [{"id": rid, "before": {}, "after": {"n": 2}}],
        "recordIds": [rid],
        "schemaWarnings": [{"recordId": rid, "errors": [{"field": "n", "code": "TYPE"}]}],
    }
    fake.fail("POST", "/records/bulk-edit", 200, body=body)
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"record_ids": [rid], "updates": {"n": 2}}))
    expected = json.dumps(str({"field": "n", "code": "TYPE"}))
    assert out["warnings"] == [f'record "{rid}": schema warning on "n": Runtype said {expected}']


async def test_an_answer_with_only_rows_counts_and_signs_the_rows(fake: FakeRuntype) -> None:
    body = {
        "data": [{"id": "r1", "before": {}, "after": {"a": 1}}, {"id": "r2", "before": {}, "after": {"a": 1}}]
    }
    fake.fail("POST", "/records/bulk-edit", 200, body=body)
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"type": "lead", "updates": {"a": 1}}))
    assert out["matched"] == 2 and out["changed"] == 2
    assert out["confirmation"] == sign(
        API_KEY, "edit", ["r1", "r2"], {"updates": {"a": 1}, "deleteFields": []}
    )


async def test_filter_type_warnings_come_before_the_answers_own(fake: FakeRuntype) -> None:
    for i in range(3):
        fake.add_record("lead", f"r{i}", {"n": i})
    body = {
        "data": [{"id": "rec_1", "before": {"n": 0}, "after": {"n": 5}}],
        "recordIds": ["rec_1"],
        "warnings": ["careful"],
    }
    where = {"field": "n", "op": "eq", "value": 1}  # stored as text
    fake.fail("POST", "/records/bulk-edit", 200, body=body)
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"type": "lead", "filter": where, "updates": {"n": 5}}))
    assert len(out["warnings"]) == 2 and out["warnings"][0].startswith('field "n" holds strings')
    assert out["warnings"][1] == 'Runtype warned: "careful"'


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (
            {"record_ids": ["a"], "type": "lead", "updates": {"x": 1}},
            [
                "- (arguments): exactly one target is needed, got record_ids, type → pass record_ids, or type "
                "(+ filter), or apply_to_all=true"
            ],
        ),
        (
            {"record_ids": ["a"], "apply_to_all": True, "updates": {"x": 1}},
            [
                "- (arguments): exactly one target is needed, got record_ids, apply_to_all → pass record_ids, or "
                "type (+ filter), or apply_to_all=true"
            ],
        ),
        (
            {"record_ids": ["a"], "updates": _deep(40)},
            [
                "- updates: is nested more than 32 levels deep → flatten it, or store the deep part as a JSON "
                "string"
            ],
        ),
        (
            {"updates": {"x": 1}},
            [
                "- (arguments): exactly one target is needed, got none → pass record_ids, or type (+ filter), or "
                "apply_to_all=true"
            ],
        ),
        (
            {"filter": {"field": "x", "op": "eq", "value": 1}, "apply_to_all": True},
            [
                "- filter: needs type → add the record type the filter applies to",
                "- updates: nothing to change → pass updates and/or delete_fields",
            ],
        ),
    ],
)
async def test_wrong_targets_are_refused_before_anything_is_sent(
    fake: FakeRuntype, args: dict[str, Any], lines: list[str]
) -> None:
    async with connect(fake) as client:
        res = await client.call_tool(TOOL, args)
    assert res.is_error
    assert text(res).splitlines() == [
        "bulk_edit_records: invalid arguments (nothing was sent to Runtype).",
        *lines,
        "Fix these arguments and call bulk_edit_records again.",
    ]
    assert not _edits(fake)


async def test_an_edit_only_deleting_fields_sends_no_updates(fake: FakeRuntype) -> None:
    rid = fake.add_record("lead", "A", {"a": 1, "b": 2})["id"]
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"record_ids": [rid], "delete_fields": ["a"]}))
    assert _edits(fake) == [{"dryRun": True, "recordIds": [rid], "deleteFields": ["a"]}]
    assert out["diffs"] == [{"id": rid, "before": {"a": 1}, "after": {}, "removed": ["a"]}]


async def test_a_write_by_ids_with_a_count_checks_it_against_a_fresh_dry_run(fake: FakeRuntype) -> None:
    ids = [fake.add_record("lead", f"r{i}", {"n": i})["id"] for i in range(2)]
    token = sign(API_KEY, "edit", [*ids, "rec_gone"], {"updates": {"n": 3}, "deleteFields": []})
    args = {"record_ids": [*ids, "rec_gone"], "updates": {"n": 3}, "dry_run": False, "confirmation": token}
    async with connect(fake) as client:
        refused = await client.call_tool(TOOL, {**args, "expected_count": 3})
        out = data(await client.call_tool(TOOL, {**args, "expected_count": 2}))
    assert refused.is_error and text(refused) == (
        "bulk_edit_records: nothing was changed: the target now matches 2 records, not expected_count=3. "
        "Call again with dry_run=true to see the current set."
    )
    assert [b["dryRun"] for b in _edits(fake)] == [True, True, False]
    assert out["written"] is True and [fake.records[i]["metadata"]["n"] for i in ids] == [3, 3]


async def test_setting_a_new_key_to_null_and_removing_a_null_key_are_changes(fake: FakeRuntype) -> None:
    a = fake.add_record("lead", "A", {})["id"]
    b = fake.add_record("lead", "B", {"gone": None})["id"]
    async with connect(fake) as client:
        set_null = data(await client.call_tool(TOOL, {"record_ids": [a], "updates": {"x": None}}))
        drop_null = data(await client.call_tool(TOOL, {"record_ids": [b], "delete_fields": ["gone"]}))
    assert set_null["changed"] == 1 and set_null["diffs"] == [{"id": a, "before": {}, "after": {"x": None}}]
    assert drop_null["changed"] == 1
    assert drop_null["diffs"] == [{"id": b, "before": {"gone": None}, "after": {}, "removed": ["gone"]}]


async def test_rows_without_a_before_or_after_object_read_as_empty(fake: FakeRuntype) -> None:
    body = {
        "data": [{"id": "r1", "after": {"a": 1}}, {"id": "r2", "before": {"a": 1}, "after": None}],
        "recordIds": ["r1", "r2"],
    }
    fake.fail("POST", "/records/bulk-edit", 200, body=body)
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"record_ids": ["r1", "r2"], "updates": {"a": 1}}))
    assert out["diffs"] == [
        {"id": "r1", "before": {}, "after": {"a": 1}},
        {"id": "r2", "before": {"a": 1}, "after": {}, "removed": ["a"]},
    ]


async def test_a_value_just_over_a_hundred_characters_is_cut_in_the_diff(fake: FakeRuntype) -> None:
    rid = fake.add_record("lead", "A", {"s": "x" * 101})["id"]
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"record_ids": [rid], "updates": {"s": "y" * 101}}))
    assert out["diffs"] == [{"id": rid, "before": {"s": "x" * 99 + "…"}, "after": {"s": "y" * 99 + "…"}}]


async def test_long_schema_warning_parts_are_cut(fake: FakeRuntype) -> None:
    body = {
        "data": [],
        "recordIds": [],
        "schemaWarnings": [{"recordId": "i" * 81, "errors": [{"field": "f" * 81, "message": "m" * 201}]}],
    }
    fake.fail("POST", "/records/bulk-edit", 200, body=body)
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"type": "lead", "updates": {"a": 1}}))
    assert out["warnings"] == [
        f'record "{"i" * 79}…": schema warning on "{"f" * 79}…": Runtype said "{"m" * 199}…"'
    ]


def _row_of_json_size(size: int) -> dict[str, Any]:
    """A changed row whose diff, as the tool sizes it, is exactly `size` characters of JSON."""
    from runtype_mcp.models.outputs_records import EditDiff

    base = len(EditDiff(id="", before={"k": 1}, after={"k": 2}).model_dump_json())
    return {"id": "i" * (size - base), "before": {"k": 1}, "after": {"k": 2}}


@pytest.mark.parametrize(("first", "shown"), [(12000, 1), (11999, 2)])
async def test_diffs_stop_exactly_when_the_size_budget_is_spent(
    fake: FakeRuntype, first: int, shown: int
) -> None:
    rows = [_row_of_json_size(first), {"id": "r2", "before": {}, "after": {"k": 2}}]
    fake.fail("POST", "/records/bulk-edit", 200, body={"data": rows, "recordIds": [r["id"] for r in rows]})
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"type": "lead", "updates": {"k": 2}}))
    assert out["changed"] == 2 and len(out["diffs"]) == shown
    assert out.get("diffs_omitted") == (None if shown == 2 else 1)


async def test_the_token_covers_every_matched_id_even_when_fewer_rows_are_listed(fake: FakeRuntype) -> None:
    body = {"data": [{"id": "r1", "before": {}, "after": {"a": 1}}], "recordIds": ["r1", "r2"]}
    fake.fail("POST", "/records/bulk-edit", 200, body=body)
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"type": "lead", "updates": {"a": 1}}))
    assert out["matched"] == 2 and out["changed"] == 1
    assert out["confirmation"] == sign(
        API_KEY, "edit", ["r1", "r2"], {"updates": {"a": 1}, "deleteFields": []}
    )


async def test_a_dry_run_given_a_count_is_still_just_a_dry_run(fake: FakeRuntype) -> None:
    ids = [fake.add_record("lead", f"r{i}", {})["id"] for i in range(2)]
    async with connect(fake) as client:
        out = data(
            await client.call_tool(TOOL, {"record_ids": ids, "updates": {"a": 1}, "expected_count": 9})
        )
    assert out["dry_run"] is True and out["matched"] == 2 and len(_edits(fake)) == 1


async def test_a_write_without_its_token_keeps_the_filter_warnings(fake: FakeRuntype) -> None:
    for i in range(2):
        fake.add_record("lead", f"r{i}", {"n": str(i)})
    where = {"field": "n", "op": "eq", "value": 1}
    async with connect(fake) as client:
        out = data(
            await client.call_tool(
                TOOL, {"type": "lead", "filter": where, "updates": {"m": 1}, "dry_run": False}
            )
        )
    assert out["written"] is False and len(out["warnings"]) == 1
    assert out["warnings"][0].startswith('field "n" holds strings')


async def test_a_wrong_token_is_refused_in_the_tools_own_words(fake: FakeRuntype) -> None:
    ids = [fake.add_record("lead", f"r{i}", {})["id"] for i in range(2)]
    async with connect(fake) as client:
        res = await client.call_tool(
            TOOL, {"record_ids": ids, "updates": {"a": 1}, "dry_run": False, "confirmation": "0" * 16}
        )
    assert res.is_error and text(res) == (
        "bulk_edit_records: nothing was changed: confirmation does not match what this call would change now "
        "(the records or the change differ from the dry run it came from, or it was made for another API key). "
        "Call again with dry_run=true, show the result, and pass its new confirmation."
    )
    assert not _edits(fake)


@pytest.mark.parametrize("body", [{"recordIds": ["r1"]}, {"matchedCount": 1}])
async def test_an_answer_with_only_ids_or_only_a_count_is_an_answer(
    fake: FakeRuntype, body: dict[str, Any]
) -> None:
    fake.fail("POST", "/records/bulk-edit", 200, body=body)
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"record_ids": ["r1"], "updates": {"a": 1}}))
    assert out["dry_run"] is True and out["diffs"] == [] and out["changed"] == 0


async def test_an_answer_without_any_count_is_not_taken_for_zero_changes(fake: FakeRuntype) -> None:
    fake.fail("POST", "/records/bulk-edit", 200, body={"success": True})
    async with connect(fake) as client:
        res = await client.call_tool(TOOL, {"record_ids": ["r1"], "updates": {"a": 1}})
    assert res.is_error and text(res).startswith(
        "bulk_edit_records: Runtype answered 200 but sent JSON without data or recordIds or matchedCount instead "
        "of the expected JSON (bulk edit)."
    )


async def test_an_answer_with_only_a_count_shows_that_count(fake: FakeRuntype) -> None:
    fake.fail("POST", "/records/bulk-edit", 200, body={"matchedCount": 3})
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"type": "lead", "updates": {"a": 1}}))
    assert out["matched"] == 3


@pytest.mark.parametrize("count", ["3", True, None])
async def test_a_count_that_is_not_a_number_is_not_shown_as_one(fake: FakeRuntype, count: object) -> None:
    fake.fail("POST", "/records/bulk-edit", 200, body={"matchedCount": count})
    async with connect(fake) as client:
        out = data(await client.call_tool(TOOL, {"type": "lead", "updates": {"a": 1}}))
    assert out["matched"] == 0 and out["changed"] == 0


async def test_a_filtered_write_whose_dry_run_lists_only_some_ids_changes_nothing(fake: FakeRuntype) -> None:
    ids = [fake.add_record("lead", f"l{i}", {"a": 0})["id"] for i in range(3)]
    sample = {"data": [{"id": ids[0], "before": {"a": 0}, "after": {"a": 1}}], "matchedCount": 3}
    fake.fail("POST", "/records/bulk-edit", 200, body=sample, times=5)
    change = {"updates": {"a": 1}, "deleteFields": []}
    async with connect(fake) as client:
        res = await client.call_tool(
            TOOL,
            {
                "type": "lead",
                "updates": {"a": 1},
                "dry_run": False,
                "confirmation": sign(API_KEY, "edit", ids[:1], change),
            },
        )
    assert res.is_error and text(res) == (
        "bulk_edit_records: nothing was changed: Runtype's dry run listed 1 of the 3 matched ids, so the write "
        "cannot be pinned to them. Pass record_ids (from list_records with the same type and filter) instead."
    )
    assert [r["metadata"]["a"] for r in fake.records.values()] == [0, 0, 0]
