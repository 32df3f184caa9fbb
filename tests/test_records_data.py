"""CSV export and upload, field values, filter preview and schema discovery, through the MCP client."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx2
import pytest

from tests.conftest import MODES, connect, data, text
from tests.fakes import FakeRuntype
from tests.fence import unfenced

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("mode", MODES)]


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _seed(fake: FakeRuntype, n: int = 8) -> None:
    for i in range(n):
        fake.add_record("customer", f"c{i}", {"tier": "gold" if i % 2 else "silver", "score": i})
    fake.add_record("other", "o", {"x": 1})


# ---------------------------------------------------------------- export_records_csv


async def test_export_writes_the_whole_csv_to_the_file_and_returns_a_bounded_preview(
    fake: FakeRuntype, mode: str, tmp_path: Path
) -> None:
    _seed(fake)
    dest = tmp_path / "customers.csv"
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "export_records_csv", {"path": str(dest), "type": "customer", "preview_rows": 2}
            )
        )
    rows = list(csv.reader(io.StringIO(dest.read_text())))
    assert rows[0] == ["id", "type", "name", "score", "tier"] and len(rows) == 9
    assert out["written"] is True and out["path"] == str(dest) and out["bytes"] == dest.stat().st_size
    assert out["row_count"] == 8 and out["columns"] == rows[0] and out["preview_rows"] == rows[1:3]
    assert _files(tmp_path) == ["customers.csv"], "no temp file is left behind"
    assert fake.requests[0].url.params["type"] == "customer"


async def test_export_refuses_to_overwrite_an_existing_file_unless_asked(
    fake: FakeRuntype, mode: str, tmp_path: Path
) -> None:
    _seed(fake)
    dest = tmp_path / "out.csv"
    dest.write_text("keep me")
    async with connect(fake, mode) as client:
        res = await client.call_tool("export_records_csv", {"path": str(dest)})
        assert res.is_error and "file already exists → pass overwrite=true" in text(res)
        assert fake.requests == [] and dest.read_text() == "keep me"
        out = data(await client.call_tool("export_records_csv", {"path": str(dest), "overwrite": True}))
    assert out["row_count"] == 9 and dest.read_text().startswith("id,type,name")


async def test_export_with_no_matching_records_writes_nothing(
    fake: FakeRuntype, mode: str, tmp_path: Path
) -> None:
    dest = tmp_path / "none.csv"
    async with connect(fake, mode) as client:
        out = data(await client.call_tool("export_records_csv", {"path": str(dest), "type": "ghost"}))
    assert out == {
        "written": False,
        "path": str(dest),
        "bytes": 0,
        "columns": [],
        "preview_rows": [],
        "note": "No records matched; no file was written.",
    }
    assert _files(tmp_path) == []


async def test_export_filter_is_sent_as_json_record_filter(
    fake: FakeRuntype, mode: str, tmp_path: Path
) -> None:
    _seed(fake)
    where = {"field": "tier", "op": "eq", "value": "gold"}
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "export_records_csv", {"path": str(tmp_path / "g.csv"), "type": "customer", "filter": where}
            )
        )
    sent = json.loads(fake.requests[0].url.params["recordFilter"])
    assert sent == {"type": "customer", "where": where}
    assert out["row_count"] == 4


@pytest.mark.parametrize(
    ("path", "extra", "expected"),
    [
        (
            "../relative.csv",
            {},
            "- path: is outside the files folder → use a file name inside the files folder",
        ),
        ("{tmp}/missing/dir/x.csv", {}, "- path: folder 'missing' does not exist in the files folder"),
        ("{tmp}", {}, "- path: names the files folder itself"),
        ("notes.txt", {}, "- path: must be a .csv file name"),
        ("{tmp}/x.csv", {"filter": {"field": "a", "op": "isSet"}}, "- filter: needs type"),
    ],
)
async def test_export_bad_paths_and_filters_are_rejected_before_any_request(
    fake: FakeRuntype, mode: str, tmp_path: Path, path: str, extra: dict[str, object], expected: str
) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("export_records_csv", {"path": path.format(tmp=tmp_path), **extra})
    assert res.is_error and expected in text(res)
    assert fake.requests == []
    assert not (tmp_path / "missing").exists()


async def test_export_api_error_leaves_no_file_and_explains(
    fake: FakeRuntype, mode: str, tmp_path: Path
) -> None:
    fake.fail("GET", "/records/export", 403, body={"error": "Forbidden"})
    async with connect(fake, mode) as client:
        res = await client.call_tool("export_records_csv", {"path": str(tmp_path / "x.csv")})
    assert res.is_error and "(403)" in text(res) and "RECORDS:READ" in text(res)
    assert _files(tmp_path) == []


async def test_export_preview_of_a_wide_long_file_stays_small(
    fake: FakeRuntype, mode: str, tmp_path: Path
) -> None:
    for i in range(50):
        fake.add_record("wide", f"w{i}", {f"col{c:02d}": "v" * 500 for c in range(60)})
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "export_records_csv", {"path": str(tmp_path / "w.csv"), "type": "wide", "preview_rows": 20}
        )
    out = data(res)
    assert out["row_count"] == 50 and out["bytes"] > 1_500_000
    assert len(out["columns"]) == 40 and out["columns_omitted"] == 23
    assert len(out["preview_rows"]) == 20 and all(len(r) == 40 for r in out["preview_rows"])
    assert len(text(res)) < 20000


# ---------------------------------------------------------------- upload_records_csv


async def test_upload_sends_a_real_multipart_file_part_and_reports_the_outcome(
    fake: FakeRuntype, mode: str, tmp_path: Path
) -> None:
    src = tmp_path / "people.csv"
    src.write_text("name,First Name,city\nAda,Ada,London\n,Nobody,Paris\nGrace,Grace,NYC\n")
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "upload_records_csv", {"path": str(src), "name_column": "name", "type_value": "person"}
            )
        )
    (parts,) = fake.uploads
    assert parts["file"] == ("people.csv", "text/csv", src.read_bytes())
    assert parts["nameColumn"][2] == b"name" and parts["typeValue"][2] == b"person"
    assert "typeColumn" not in parts
    assert out["created"] == 2 and out["errors"] == 1
    assert out["error_details"] == ["Row 3: Missing required field name"]
    assert [r["name"] for r in out["records"]] == ["Ada", "Grace"]
    assert any('renamed by Runtype to "first_name"' in w for w in out["warnings"])
    assert "list_records with type='person'" in out["next"]


async def test_upload_csv_text_with_a_type_column(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool(
                "upload_records_csv",
                {"csv_text": "n,kind\na,cat\nb,dog\n", "name_column": "n", "type_column": "kind"},
            )
        )
    (parts,) = fake.uploads
    assert parts["file"][0] == "upload.csv" and parts["typeColumn"][2] == b"kind"
    assert out["created"] == 2 and sorted(r["type"] for r in fake.records.values()) == ["cat", "dog"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            {"csv_text": "a,b\n1,2\n", "name_column": "name", "type_value": "t"},
            "- name_column: column 'name' is not in the header → columns are: 'a', 'b'",
        ),
        (
            {"csv_text": "a,b\n1,2\n", "name_column": "a", "type_column": "kind"},
            "- type_column: column 'kind' is not in the header",
        ),
        ({"name_column": "a", "type_value": "t"}, "- path: give exactly one of path or csv_text"),
        (
            {"csv_text": "a\n", "path": "/tmp/x.csv", "name_column": "a", "type_value": "t"},
            "exactly one of path or csv_text",
        ),
        (
            {"csv_text": "a\n1\n", "name_column": "a"},
            "- type_value: give exactly one of type_value or type_column",
        ),
        ({"csv_text": "", "name_column": "a", "type_value": "t"}, "- csv_text: has no header row"),
        (
            {"path": "/nonexistent/x.csv", "name_column": "a", "type_value": "t"},
            "- path: is outside the files",
        ),
        ({"path": "missing.csv", "name_column": "a", "type_value": "t"}, "- path: no such file in the files"),
    ],
)
async def test_upload_bad_arguments_are_rejected_before_sending(
    fake: FakeRuntype, mode: str, args: dict[str, str], expected: str
) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool("upload_records_csv", args)
    assert res.is_error and expected in text(res)
    assert fake.requests == []


async def test_upload_over_20_mb_is_refused_locally(fake: FakeRuntype, mode: str, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(b"name\n" + b"x" * (20 * 1024 * 1024))
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "upload_records_csv", {"path": str(big), "name_column": "name", "type_value": "t"}
        )
    assert res.is_error and "- path: file is over 20 MB → split it into smaller files" in text(res)
    assert fake.requests == []


async def test_upload_is_never_resent_after_a_server_error(fake: FakeRuntype, mode: str) -> None:
    fake.fail("POST", "/records/upload-csv", 502, times=3)
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "upload_records_csv", {"csv_text": "name\na\n", "name_column": "name", "type_value": "t"}
        )
    assert res.is_error and "may or may not have happened" in text(res)
    assert "list_records with the type" in text(res)
    assert len(fake.sent("POST", "/v1/records/upload-csv")) == 1


# ---------------------------------------------------------------- field values, preview, schema


async def test_field_values_sends_type_field_limit_and_returns_counts(fake: FakeRuntype, mode: str) -> None:
    _seed(fake)
    async with connect(fake, mode) as client:
        out = data(
            await client.call_tool("get_field_values", {"type": "customer", "field": "tier", "limit": 1})
        )
    params = fake.requests[0].url.params
    assert (params["type"], params["field"], params["limit"]) == ("customer", "tier", "1")
    assert out["values"] == [{"value": "silver", "count": 4}] and out["truncated"] is True
    assert "raise limit" in out["note"]


async def test_preview_filter_posts_type_and_where_and_shrinks_sample_metadata(
    fake: FakeRuntype, mode: str
) -> None:
    fake.add_record("customer", "a", {"tier": "gold", "notes": "n" * 1000})
    fake.add_record("customer", "b", {"tier": "silver"})
    where = {"op": "and", "conditions": [{"field": "tier", "op": "in", "value": ["gold", "platinum"]}]}
    async with connect(fake, mode) as client:
        out = data(await client.call_tool("preview_record_filter", {"type": "customer", "filter": where}))
    (req,) = fake.sent("POST", "/v1/records/preview-filter")
    assert json.loads(req.content) == {"type": "customer", "where": where}
    assert out["matched_count"] == 1 and out["samples"][0]["name"] == "a"
    assert len(out["samples"][0]["metadata"]["notes"]) == 60
    assert "bulk_edit_records" in out["next"]


async def test_preview_filter_rejects_a_metadata_prefixed_field_locally(fake: FakeRuntype, mode: str) -> None:
    async with connect(fake, mode) as client:
        res = await client.call_tool(
            "preview_record_filter",
            {"type": "t", "filter": {"field": "metadata.tier", "op": "eq", "value": "x"}},
        )
    assert res.is_error and "name metadata keys bare" in text(res)
    assert fake.requests == []


async def test_preview_filter_api_400_points_at_the_filter_argument(fake: FakeRuntype, mode: str) -> None:
    fake.fail(
        "POST",
        "/records/preview-filter",
        400,
        body={
            "error": "Validation error",
            "details": [{"code": "INVALID_ENUM", "message": "bad op", "path": "where.op"}],
        },
    )
    async with connect(fake, mode) as client:
        res = await client.call_tool("preview_record_filter", {"type": "t"})
    assert res.is_error and '- filter.op: "bad op"' in unfenced(text(res))


async def test_discover_schema_lists_fields_with_short_examples(fake: FakeRuntype, mode: str) -> None:
    _seed(fake)
    async with connect(fake, mode) as client:
        out = data(await client.call_tool("discover_record_schema", {"type": "customer", "sample": 50}))
    assert fake.requests[0].url.params["sample"] == "50"
    assert [f["name"] for f in out["fields"]] == ["score", "tier"]
    assert "required" not in out["fields"][0], "a sample cannot tell what is required"
    assert out["fields"][0]["all_sampled"] is True and len(out["fields"][0]["example"]) == 60
    assert out["total_records"] == 8


async def test_export_timeout_leaves_no_partial_file(fake: FakeRuntype, mode: str, tmp_path: Path) -> None:
    _seed(fake)
    fake.fail("GET", "/records/export", exc=httpx2.ReadTimeout, times=3)  # every attempt
    async with connect(fake, mode, max_retry_wait=0.5) as client:
        res = await client.call_tool("export_records_csv", {"path": str(tmp_path / "x.csv")})
    assert res.is_error and "did not answer in time" in text(res) and "safe to repeat" in text(res)
    assert _files(tmp_path) == []


async def test_export_without_an_api_key_sends_nothing_and_writes_nothing(
    fake: FakeRuntype, mode: str, tmp_path: Path
) -> None:
    async with connect(fake, mode, api_key=None) as client:
        res = await client.call_tool("export_records_csv", {"path": str(tmp_path / "x.csv")})
    assert res.is_error and "RUNTYPE_API_KEY" in text(res)
    assert fake.requests == [] and _files(tmp_path) == []
