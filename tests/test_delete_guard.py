"""bulk_delete_records with ids and a type deletes only records of that type, and previews names and types."""

from __future__ import annotations

import pytest
from mcp import Client

from runtype_mcp.config import Settings
from runtype_mcp.server import build_server
from tests.conftest import data, text
from tests.fence import unfenced

pytestmark = pytest.mark.anyio


async def _make(client: Client, name: str, record_type: str) -> str:
    made = data(await client.call_tool("create_record", {"name": name, "type": record_type}))
    return str(made["record"]["id"])


async def test_a_delete_with_a_foreign_type_id_is_refused_and_changes_nothing() -> None:
    async with Client(build_server(Settings(sandbox=True, sandbox_db=":memory:"))) as client:
        temps = [await _make(client, f"row {i}", "temp_import") for i in range(2)]
        keeper = await _make(client, "Keep Me Ltd", "customer")
        res = await client.call_tool(
            "bulk_delete_records", {"ids": [*temps, keeper], "type": "temp_import", "confirm": True}
        )
        left = data(await client.call_tool("list_records", {"type": "temp_import"}))
        still = await client.call_tool("get_record", {"record_id": keeper})
    assert res.is_error
    assert 'nothing was deleted: 1 of the ids are not of type "temp_import"' in text(res)
    assert f'"{keeper}" ("Keep Me Ltd", type "customer")' in unfenced(text(res)), (
        "names fenced as record text"
    )
    assert left["count"] == 2 and not still.is_error


async def test_a_typed_delete_of_matching_ids_previews_names_then_deletes_them() -> None:
    async with Client(build_server(Settings(sandbox=True, sandbox_db=":memory:"))) as client:
        temps = [await _make(client, f"row {i}", "temp_import") for i in range(3)]
        keeper = await _make(client, "Keep Me Ltd", "customer")
        preview = data(
            await client.call_tool(
                "bulk_delete_records", {"ids": temps, "type": "temp_import", "dry_run": True}
            )
        )
        done = data(
            await client.call_tool(
                "bulk_delete_records",
                {
                    "ids": temps,
                    "type": "temp_import",
                    "confirm": True,
                    "confirmation": preview["confirmation"],
                },
            )
        )
        left = data(await client.call_tool("list_records", {"type": "temp_import"}))
        still = await client.call_tool("get_record", {"record_id": keeper})
    assert preview["deleted"] is False
    assert [(r["name"], r["type"]) for r in preview["sample"]] == [
        (f"row {i}", "temp_import") for i in range(3)
    ]
    assert done["deleted"] is True and done["deleted_count"] == 3
    assert left["count"] == 0 and not still.is_error


async def test_an_untyped_dry_run_by_ids_shows_each_record_name_and_type() -> None:
    async with Client(build_server(Settings(sandbox=True, sandbox_db=":memory:"))) as client:
        one = await _make(client, "row 1", "temp_import")
        other = await _make(client, "Keep Me Ltd", "customer")
        preview = data(
            await client.call_tool("bulk_delete_records", {"ids": [one, other, "rec_gone"], "dry_run": True})
        )
    assert [(r["name"], r["type"]) for r in preview["sample"]] == [
        ("row 1", "temp_import"),
        ("Keep Me Ltd", "customer"),
    ]
    assert preview["warnings"] == ["Not found: rec_gone."]
