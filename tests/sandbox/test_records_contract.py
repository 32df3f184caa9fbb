"""Records contract (runtype-api.md §2): the same expectations hold for the sandbox and the live API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sandbox.conftest import Api

pytestmark = pytest.mark.anyio


def codes(response: Any) -> list[tuple[str, str]]:
    body = response.json()
    assert body["error"] == "Validation error"
    return [(detail["code"], detail.get("path", "")) for detail in body["details"]]


async def test_create_record_returns_the_record_object(api: Api) -> None:
    record = await api.create_record(api.unique("acme"), api.unique("customer"), {"tier": "gold", "n": 1})

    assert record["id"]
    assert record["type"] == api.unique("customer")
    assert record["name"] == api.unique("acme")
    assert record["metadata"] == {"tier": "gold", "n": 1}
    assert record["createdAt"] and record["updatedAt"]


async def test_get_record_returns_what_was_created(api: Api) -> None:
    created = await api.create_record(api.unique("get"), api.unique("customer"), {"a": [1, {"b": None}]})

    response = await api.client.get(f"/v1/records/{created['id']}")

    assert response.status_code == 200
    assert response.json()["metadata"] == {"a": [1, {"b": None}]}


async def test_create_record_conflict_points_to_existing_id(api: Api) -> None:
    first = await api.create_record(api.unique("dup"), api.unique("customer"))

    response = await api.client.post(
        "/v1/records", json={"name": api.unique("dup"), "type": api.unique("customer")}
    )

    assert response.status_code == 409
    assert isinstance(response.json()["error"], str)
    if api.is_sandbox:
        assert response.json() == {
            "error": response.json()["error"],
            "code": "RECORD_CONFLICT",
            "existingRecordId": first["id"],
        }


async def test_create_record_without_name_and_type_lists_both_missing(api: Api) -> None:
    response = await api.client.post("/v1/records", json={"metadata": {}})

    assert response.status_code == 400
    assert set(codes(response)) >= {("MISSING_REQUIRED_FIELD", "name"), ("MISSING_REQUIRED_FIELD", "type")}


async def test_create_record_name_too_long_is_out_of_range_with_the_range(api: Api) -> None:
    response = await api.client.post("/v1/records", json={"name": "x" * 501, "type": api.unique("t")})

    assert response.status_code == 400
    assert codes(response) == [("OUT_OF_RANGE", "name")]
    if api.is_sandbox:
        assert "1-500" in response.json()["details"][0]["suggestion"]


async def test_create_record_type_too_long_is_out_of_range(api: Api) -> None:
    response = await api.client.post("/v1/records", json={"name": "n", "type": "t" * 256})

    assert response.status_code == 400
    assert codes(response) == [("OUT_OF_RANGE", "type")]


async def test_create_record_with_unknown_keys_lists_allowed_keys(api: Api) -> None:
    response = await api.client.post(
        "/v1/records", json={"name": "n", "type": api.unique("t"), "colour": "red", "metdata": {}}
    )

    assert response.status_code == 400
    assert codes(response) == [("UNRECOGNIZED_KEYS", "")]
    if api.is_sandbox:
        detail = response.json()["details"][0]
        assert "'colour'" in detail["message"] and "'metdata'" in detail["message"]
        assert "name, type, metadata, messages, ownerId" in detail["suggestion"]


async def test_create_record_with_wrong_types_reports_each_path(api: Api) -> None:
    response = await api.client.post("/v1/records", json={"name": 5, "type": "t", "metadata": [1]})

    assert response.status_code == 400
    assert set(codes(response)) == {("INVALID_TYPE", "name"), ("INVALID_TYPE", "metadata")}


async def test_message_role_outside_the_enum_is_reported_at_its_path(api: Api) -> None:
    api.sandbox_only()
    body = {
        "name": "n",
        "type": "t",
        "messages": [{"role": "user", "content": "hi"}, {"role": "robot", "content": "x"}],
    }

    response = await api.client.post("/v1/records", json=body)

    assert codes(response) == [("INVALID_ENUM", "messages.1.role")]
    assert "user, assistant" in response.json()["details"][0]["suggestion"]


async def test_malformed_json_body_is_a_400(api: Api) -> None:
    response = await api.client.post(
        "/v1/records", content=b'{"name": "x",', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)


async def test_missing_record_is_404_naming_the_id(api: Api) -> None:
    response = await api.client.get("/v1/records/rec_doesnotexist")

    assert response.status_code == 404
    assert isinstance(response.json()["error"], str)
    if api.is_sandbox:
        assert response.json() == {"error": "Record rec_doesnotexist not found"}


async def test_update_record_replaces_metadata_and_clears_owner(api: Api) -> None:
    created = await api.create_record(api.unique("upd"), api.unique("customer"), {"a": 1, "b": 2})
    await api.client.put(f"/v1/records/{created['id']}", json={"ownerId": "owner-1"})

    response = await api.client.put(
        f"/v1/records/{created['id']}", json={"metadata": {"c": 3}, "ownerId": None}
    )

    assert response.status_code == 200
    assert response.json()["metadata"] == {"c": 3}
    assert response.json()["ownerId"] is None
    assert (await api.client.get(f"/v1/records/{created['id']}")).json()["metadata"] == {"c": 3}


async def test_update_record_leaves_owner_when_omitted(api: Api) -> None:
    created = await api.create_record(api.unique("own"), api.unique("customer"))
    await api.client.put(f"/v1/records/{created['id']}", json={"ownerId": "owner-7"})

    response = await api.client.put(f"/v1/records/{created['id']}", json={"name": api.unique("own2")})

    assert response.json()["ownerId"] == "owner-7"
    assert response.json()["name"] == api.unique("own2")


async def test_rename_onto_an_existing_type_and_name_is_409(api: Api) -> None:
    record_type = api.unique("customer")
    await api.create_record(api.unique("one"), record_type)
    second = await api.create_record(api.unique("two"), record_type)

    response = await api.client.put(f"/v1/records/{second['id']}", json={"name": api.unique("one")})

    assert response.status_code == 409


async def test_update_missing_record_is_404(api: Api) -> None:
    response = await api.client.put("/v1/records/rec_missing", json={"name": "x"})

    assert response.status_code == 404


async def test_delete_record_then_get_is_404(api: Api) -> None:
    created = await api.create_record(api.unique("del"), api.unique("customer"))

    response = await api.client.delete(f"/v1/records/{created['id']}")

    assert 200 <= response.status_code < 300
    if api.is_sandbox:
        assert response.json() == {"success": True, "id": created["id"]}
    assert (await api.client.get(f"/v1/records/{created['id']}")).status_code == 404
    assert (await api.client.delete(f"/v1/records/{created['id']}")).status_code == 404


async def test_list_pages_round_trip_without_duplicates_or_gaps(api: Api) -> None:
    record_type = api.unique("paged")
    made = {(await api.create_record(f"{api.unique('r')}_{i:02d}", record_type))["id"] for i in range(7)}

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"type": record_type, "limit": "3", **({"cursor": cursor} if cursor else {})}
        body = (await api.client.get("/v1/records", params=params)).json()
        seen += [record["id"] for record in body["data"]]
        cursor = body["pagination"].get("nextCursor")
        if not body["pagination"]["hasMore"]:
            break

    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == made


async def test_prev_cursor_returns_the_previous_page(api: Api) -> None:
    api.sandbox_only("direction=prev semantics are undocumented")
    record_type = api.unique("paged")
    for i in range(5):
        await api.create_record(f"r{i}", record_type)
    first = (await api.client.get("/v1/records", params={"type": record_type, "limit": 2})).json()
    second = (
        await api.client.get(
            "/v1/records",
            params={"type": record_type, "limit": 2, "cursor": first["pagination"]["nextCursor"]},
        )
    ).json()

    back = (
        await api.client.get(
            "/v1/records",
            params={
                "type": record_type,
                "limit": 2,
                "cursor": second["pagination"]["prevCursor"],
                "direction": "prev",
            },
        )
    ).json()

    assert [r["id"] for r in back["data"]] == [r["id"] for r in first["data"]]
    assert back["pagination"]["hasPrev"] is False
    assert second["pagination"]["currentOffset"] == 2


async def test_include_count_reports_total(api: Api) -> None:
    record_type = api.unique("counted")
    for i in range(3):
        await api.create_record(f"c{i}", record_type)

    body = (
        await api.client.get("/v1/records", params={"type": record_type, "includeCount": "true", "limit": 2})
    ).json()

    assert body["pagination"]["totalCount"] == 3


@pytest.mark.parametrize("limit", ["0", "101", "-5"])
async def test_limit_out_of_range_is_400_with_the_range(api: Api, limit: str) -> None:
    api.sandbox_only("the API documents no limit range for records")
    response = await api.client.get("/v1/records", params={"limit": limit})

    assert codes(response) == [("OUT_OF_RANGE", "limit")]
    assert "1-100" in response.json()["details"][0]["suggestion"]


async def test_bad_cursor_is_400(api: Api) -> None:
    api.sandbox_only()
    response = await api.client.get("/v1/records", params={"cursor": "!!not-a-cursor"})

    assert codes(response) == [("INVALID_FORMAT", "cursor")]


async def test_compact_view_cuts_long_strings_everywhere(api: Api) -> None:
    record_type = api.unique("compact")
    long = "x" * 150
    await api.create_record(
        api.unique("c"), record_type, {"notes": long, "nested": {"deep": [long, "short"]}}
    )

    full = (await api.client.get("/v1/records", params={"type": record_type})).json()["data"][0]
    compact = (await api.client.get("/v1/records", params={"type": record_type, "view": "compact"})).json()[
        "data"
    ][0]

    assert full["metadata"]["notes"] == long
    assert compact["metadata"]["notes"] == "x" * 100 + "…"
    assert compact["metadata"]["nested"]["deep"] == ["x" * 100 + "…", "short"]


async def test_list_filters_by_search_name_and_metadata_keys(api: Api) -> None:
    record_type = api.unique("filters")
    await api.create_record("alpha", record_type, {"tier": "gold", "city": "Paris"})
    await api.create_record("beta", record_type, {"tier": "silver"})
    await api.create_record("gamma", record_type, {"city": "Lyon", "zip": "69000"})

    async def names(**params: str) -> set[str]:
        body = (await api.client.get("/v1/records", params={"type": record_type, **params})).json()
        return {record["name"] for record in body["data"]}

    assert await names(search="pari") == {"alpha"}
    assert await names(name="beta") == {"beta"}
    assert await names(metadata_keys="zip,tier") == {"alpha", "beta", "gamma"}
    assert await names(metadata_keys_all="city,tier") == {"alpha"}
    if api.is_sandbox:
        assert await names(min_fields="2") == {"alpha", "gamma"}
        assert await names(max_fields="1") == {"beta"}


async def test_list_filters_by_owner(api: Api) -> None:
    record_type = api.unique("owned")
    mine = await api.create_record("mine", record_type)
    await api.create_record("theirs", record_type)
    await api.client.put(f"/v1/records/{mine['id']}", json={"ownerId": api.unique("owner")})

    body = (
        await api.client.get("/v1/records", params={"type": record_type, "ownerId": api.unique("owner")})
    ).json()

    assert [record["name"] for record in body["data"]] == ["mine"]


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: {"type": t, "where": {"field": "tier", "op": "eq", "value": "gold"}},
        lambda t: {"field": "tier", "op": "eq", "value": "gold"},
    ],
    ids=["wrapped", "bare"],
)
async def test_record_filter_query_accepts_wrapped_or_bare_where(api: Api, encode: Any) -> None:
    api.sandbox_only("the recordFilter encoding is undocumented (§10.3)")
    record_type = api.unique("rf")
    await api.create_record("gold", record_type, {"tier": "gold"})
    await api.create_record("silver", record_type, {"tier": "silver"})

    params = {"type": record_type, "recordFilter": json.dumps(encode(record_type))}
    body = (await api.client.get("/v1/records", params=params)).json()

    assert [record["name"] for record in body["data"]] == ["gold"]
    assert "recordFilter" in body["filtersApplied"]


async def test_invalid_record_filter_reports_details(api: Api) -> None:
    api.sandbox_only()
    bad_json = await api.client.get("/v1/records", params={"recordFilter": "{nope"})
    bad_op = await api.client.get(
        "/v1/records",
        params={"recordFilter": json.dumps({"type": "t", "where": {"field": "a", "op": "like"}})},
    )

    assert codes(bad_json) == [("INVALID_FORMAT", "recordFilter")]
    assert bad_op.status_code == 400
    assert bad_op.json()["details"][0]["path"].startswith("recordFilter.where")


async def test_bulk_delete_reports_deleted_and_missing_ids(api: Api) -> None:
    record_type = api.unique("bulk")
    first = await api.create_record("a", record_type)
    second = await api.create_record("b", record_type)

    response = await api.client.post(
        "/v1/records/bulk-delete", json={"ids": [first["id"], second["id"], "rec_missing_x"]}
    )

    body = response.json()
    assert response.status_code == 200
    assert body["success"] is True
    assert body["deleted"] == 2
    assert set(body["deletedIds"]) == {first["id"], second["id"]}
    assert body.get("notFoundIds", ["rec_missing_x"]) == ["rec_missing_x"]


async def test_bulk_delete_over_the_cap_is_400(api: Api) -> None:
    api.sandbox_only("the API's bulk-delete cap is undocumented")
    response = await api.client.post(
        "/v1/records/bulk-delete", json={"ids": [f"rec_{i}" for i in range(1001)]}
    )

    assert codes(response) == [("OUT_OF_RANGE", "ids")]


async def test_bulk_edit_dry_run_shows_diffs_without_writing(api: Api) -> None:
    record_type = api.unique("edit")
    record = await api.create_record("a", record_type, {"tier": "gold", "old": 1})

    response = await api.client.post(
        "/v1/records/bulk-edit",
        json={
            "recordIds": [record["id"]],
            "updates": {"tier": "platinum"},
            "deleteFields": ["old"],
            "dryRun": True,
        },
    )

    assert response.status_code == 200
    diff = response.json()["data"][0]
    assert diff["id"] == record["id"]
    assert diff["before"] == {"tier": "gold", "old": 1}
    assert diff["after"] == {"tier": "platinum"}
    assert (await api.client.get(f"/v1/records/{record['id']}")).json()["metadata"] == {
        "tier": "gold",
        "old": 1,
    }


async def test_bulk_edit_by_filter_writes_only_matching_records(api: Api) -> None:
    record_type = api.unique("edit")
    gold = await api.create_record("g", record_type, {"tier": "gold"})
    silver = await api.create_record("s", record_type, {"tier": "silver"})

    response = await api.client.post(
        "/v1/records/bulk-edit",
        json={
            "recordFilter": {"type": record_type, "where": {"field": "tier", "op": "eq", "value": "gold"}},
            "updates": {"vip": True},
        },
    )

    assert response.status_code == 200
    assert response.json()["recordIds"] == [gold["id"]]
    assert (await api.client.get(f"/v1/records/{gold['id']}")).json()["metadata"] == {
        "tier": "gold",
        "vip": True,
    }
    assert (await api.client.get(f"/v1/records/{silver['id']}")).json()["metadata"] == {"tier": "silver"}


async def test_bulk_edit_by_conditions(api: Api) -> None:
    api.sandbox_only("conditions semantics beyond the operator names are undocumented")
    record_type, key = api.unique("cond"), api.unique("status")
    await api.create_record("a", record_type, {key: "Open"})
    await api.create_record("b", record_type, {key: "closed"})

    response = await api.client.post(
        "/v1/records/bulk-edit",
        json={"conditions": [{"field": key, "operator": "equals_ci", "value": "open"}], "updates": {"x": 1}},
    )

    assert [d["after"] for d in response.json()["data"]] == [{key: "Open", "x": 1}]


@pytest.mark.parametrize(
    ("targets", "code"),
    [
        ({}, "MISSING_REQUIRED_FIELD"),
        ({"recordIds": ["rec_1"], "applyToAll": True}, "CUSTOM_VALIDATION"),
    ],
    ids=["none", "two"],
)
async def test_bulk_edit_needs_exactly_one_targeting_mode(
    api: Api, targets: dict[str, Any], code: str
) -> None:
    api.sandbox_only("targeting precedence is undocumented (§10.10)")
    response = await api.client.post("/v1/records/bulk-edit", json={**targets, "updates": {"a": 1}})

    assert response.status_code == 400
    assert response.json()["details"][0]["code"] == code


async def test_field_values_counts_distinct_values(api: Api) -> None:
    record_type = api.unique("fv")
    for index, tier in enumerate(["gold", "gold", "silver", "gold"]):
        await api.create_record(f"r{index}", record_type, {"tier": tier})

    body = (
        await api.client.get("/v1/records/field-values", params={"type": record_type, "field": "tier"})
    ).json()

    assert body["type"] == record_type
    assert body["field"] == "tier"
    assert body["values"] == [{"value": "gold", "count": 3}, {"value": "silver", "count": 1}]
    assert body["truncated"] is False


async def test_field_values_requires_type_and_field(api: Api) -> None:
    response = await api.client.get("/v1/records/field-values", params={"field": "tier"})

    assert response.status_code == 400
    if api.is_sandbox:
        assert codes(response) == [("MISSING_REQUIRED_FIELD", "type")]


async def test_preview_filter_counts_and_samples(api: Api) -> None:
    record_type = api.unique("pf")
    for index in range(7):
        await api.create_record(f"r{index}", record_type, {"score": index})

    response = await api.client.post(
        "/v1/records/preview-filter",
        json={"type": record_type, "where": {"field": "score", "op": "gte", "value": 1}},
    )

    body = response.json()
    assert response.status_code == 200
    assert body["matchedCount"] == 6
    assert 0 < len(body["samples"]) <= 5
    assert set(body["samples"][0]) >= {"id", "name", "metadata"}


async def test_preview_filter_with_bad_where_reports_the_path(api: Api) -> None:
    response = await api.client.post(
        "/v1/records/preview-filter",
        json={"type": "t", "where": {"field": "score", "op": "bogus", "value": 1}},
    )

    assert response.status_code == 400
    assert response.json()["details"][0]["path"].startswith("where")


async def test_schema_discovers_fields_by_sampling(api: Api) -> None:
    record_type = api.unique("schema")
    await api.create_record("a", record_type, {"email": "a@x.example", "score": 1, "tags": ["x"]})
    await api.create_record("b", record_type, {"email": "b@x.example", "score": 2})

    body = (await api.client.get("/v1/records/schema", params={"type": record_type})).json()

    assert body["type"] == record_type
    assert body["totalRecords"] == 2
    fields = {field["name"]: field for field in body["fields"]}
    assert set(fields) == {"email", "score", "tags"}
    if api.is_sandbox:
        assert fields["email"]["type"] == "string"
        assert fields["email"]["format"] == "email"
        assert fields["email"]["required"] is True
        assert fields["tags"]["required"] is False
        assert fields["score"]["type"] == "integer"


async def test_patch_is_not_update_and_405_lists_the_allowed_methods(api: Api) -> None:
    response = await api.client.patch("/v1/records/rec_missing_x", json={"name": "x"})

    assert response.status_code in (404, 405)
    if api.is_sandbox:
        assert response.status_code == 405
        assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "PUT", "DELETE"}
        assert response.json() == {
            "error": "Method PATCH is not allowed on /v1/records/rec_missing_x; allowed: DELETE, GET, PUT"
        }


async def test_unknown_route_is_json_404(api: Api) -> None:
    response = await api.client.get("/v1/no-such-thing")

    assert response.status_code == 404
    assert isinstance(response.json()["error"], str)
