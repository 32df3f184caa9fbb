"""CSV export (§2.5) and upload (§2.9): streamed export, multipart upload, per-row errors, round trip."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.sandbox.conftest import Api

pytestmark = pytest.mark.anyio


async def upload(api: Api, text: str, **fields: str) -> tuple[int, dict[str, Any]]:
    response = await api.client.post(
        "/v1/records/upload-csv", files={"file": ("data.csv", text.encode(), "text/csv")}, data=fields
    )
    body = response.json()
    for record in body.get("records", []) if isinstance(body, dict) else []:
        api.created_records.append(record["id"])
    return response.status_code, body


async def test_upload_creates_records_with_string_metadata(api: Api) -> None:
    record_type = api.unique("up")
    status, body = await upload(
        api,
        "name,tier,score,empty\nacme,gold,10,\nglobex,silver,7,x\n",
        nameColumn="name",
        typeValue=record_type,
    )

    assert status in (200, 201)
    assert body["created"] == 2
    assert body["errors"] == 0
    listed = (await api.client.get("/v1/records", params={"type": record_type, "name": "acme"})).json()[
        "data"
    ]
    assert listed[0]["metadata"] == {"tier": "gold", "score": "10"}


async def test_upload_reports_bad_rows_and_duplicates_by_row_number(api: Api) -> None:
    api.sandbox_only("row error wording is undocumented")
    record_type = api.unique("up")
    await api.create_record("taken", record_type)
    text = "name,tier\nok,gold\n,silver\nok,bronze\ntaken,gold\n"

    status, body = await upload(api, text, nameColumn="name", typeValue=record_type)

    assert status == 200
    assert body["created"] == 1
    assert body["errors"] == 3
    details = body["errorDetails"]
    assert details[0].startswith("Row 3: Missing required field 'name'")
    assert details[1].startswith("Row 4: Duplicate of row 2")
    assert details[2].startswith("Row 5: A record of type")


async def test_upload_type_value_wins_over_type_column(api: Api) -> None:
    record_type = api.unique("tv")
    status, body = await upload(
        api, "name,kind\na,ignored\n", nameColumn="name", typeColumn="kind", typeValue=record_type
    )

    assert status in (200, 201)
    assert body["records"][0]["type"] == record_type
    if api.is_sandbox:
        assert body["records"][0]["metadata"] == {}


async def test_upload_type_column_sets_each_rows_type(api: Api) -> None:
    first, second = api.unique("ta"), api.unique("tb")
    status, body = await upload(
        api, f"name,kind\na,{first}\nb,{second}\n", nameColumn="name", typeColumn="kind"
    )

    assert status in (200, 201)
    assert {(r["name"], r["type"]) for r in body["records"]} == {("a", first), ("b", second)}


async def test_upload_without_file_or_columns_is_400_with_details(api: Api) -> None:
    api.sandbox_only()
    no_file = await api.client.post(
        "/v1/records/upload-csv", data={"nameColumn": "name", "typeValue": "t"}, files={"other": ("x", b"")}
    )
    no_type = await api.client.post(
        "/v1/records/upload-csv",
        files={"file": ("d.csv", b"name\na\n", "text/csv")},
        data={"nameColumn": "name"},
    )
    wrong_column = await api.client.post(
        "/v1/records/upload-csv",
        files={"file": ("d.csv", b"title\na\n", "text/csv")},
        data={"nameColumn": "name", "typeValue": "t"},
    )

    assert [(d["code"], d["path"]) for d in no_file.json()["details"]] == [("MISSING_REQUIRED_FIELD", "file")]
    assert [(d["code"], d["path"]) for d in no_type.json()["details"]] == [
        ("MISSING_REQUIRED_FIELD", "typeValue")
    ]
    assert wrong_column.json()["details"][0]["path"] == "nameColumn"
    assert "title" in wrong_column.json()["details"][0]["suggestion"]


async def test_upload_over_20_mb_is_400(api: Api) -> None:
    api.sandbox_only("sandbox limit")
    big = b"name\n" + b"x" * (20 * 1024 * 1024 + 10)

    response = await api.client.post(
        "/v1/records/upload-csv",
        files={"file": ("big.csv", big, "text/csv")},
        data={"nameColumn": "name", "typeValue": "t"},
    )

    assert response.status_code == 400
    assert response.json()["details"][0]["code"] == "OUT_OF_RANGE"


async def test_export_streams_csv_with_metadata_columns(api: Api) -> None:
    record_type = api.unique("ex")
    await api.create_record("a", record_type, {"tier": "gold", "nested": {"x": [1, 2]}, "flag": True})
    await api.create_record("b", record_type, {"zip": "75001"})

    response = await api.client.get("/v1/records/export", params={"type": record_type})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["name"] for row in rows} == {"a", "b"}
    if api.is_sandbox:
        assert list(rows[0]) == [
            "id",
            "type",
            "name",
            "createdAt",
            "updatedAt",
            "flag",
            "nested",
            "tier",
            "zip",
        ]
        first = next(row for row in rows if row["name"] == "a")
        assert first["nested"] == '{"x":[1,2]}'
        assert first["flag"] == "true"
        assert first["zip"] == ""


async def test_export_with_no_match_is_204(api: Api) -> None:
    response = await api.client.get("/v1/records/export", params={"type": api.unique("none")})

    assert response.status_code == 204
    assert response.content == b""


async def test_export_then_upload_round_trips_names_types_and_metadata(api: Api) -> None:
    api.sandbox_only("depends on the sandbox's column layout")
    source, target = api.unique("src"), api.unique("dst")
    for index in range(3):
        await api.create_record(f"n{index}", source, {"tier": f"t{index}", "city": 'Paris, "FR"'})
    exported = (await api.client.get("/v1/records/export", params={"type": source})).text

    status, body = await upload(api, exported.replace(source, target), nameColumn="name", typeColumn="type")

    assert status == 200
    assert body["created"] == 3
    again = (await api.client.get("/v1/records", params={"type": target, "name": "n1"})).json()["data"][0]
    assert again["metadata"] == {"tier": "t1", "city": 'Paris, "FR"'}
