"""The OpenAPI document describes exactly the routes the sandbox serves, with valid schemas."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest
from jsonschema import Draft202012Validator
from starlette.routing import Route

from runtype_mcp.sandbox import Sandbox
from tests.sandbox.openapi_check import OpenApiChecker

pytestmark = pytest.mark.anyio


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


@pytest.fixture
async def spec(sb: tuple[Sandbox, httpx2.AsyncClient]) -> dict[str, Any]:
    _, client = sb
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_every_route_is_documented_and_every_operation_is_served(
    sb: tuple[Sandbox, httpx2.AsyncClient], spec: dict[str, Any]
) -> None:
    sandbox, _ = sb
    served = {
        (route.path, method.lower())
        for route in sandbox.app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD" and not route.path.startswith("/_sandbox/")
    }
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}

    assert served == documented


async def test_operation_ids_are_unique_and_path_parameters_declared(spec: dict[str, Any]) -> None:
    operations = [(path, op) for path, item in spec["paths"].items() for op in item.values()]
    ids = [op["operationId"] for _, op in operations]

    assert spec["openapi"] == "3.1.0"
    assert len(ids) == len(set(ids))
    for path, op in operations:
        declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), path
        assert op["responses"], path


async def test_every_ref_resolves_and_every_schema_is_valid(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]

    for ref in refs(spec):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)


async def test_put_record_documents_that_metadata_replaces(spec: dict[str, Any]) -> None:
    put = spec["paths"]["/v1/records/{id}"]["put"]

    assert "REPLACES" in put["description"]


async def test_the_response_checker_rejects_a_body_that_breaks_the_document(anyio_backend: str) -> None:
    checker = OpenApiChecker()
    request = httpx2.Request("GET", "http://sandbox/v1/records/rec_1")
    record = {"id": "rec_1", "type": "t", "name": "n", "metadata": {}, "createdAt": "x", "updatedAt": "x"}
    without_id = {key: value for key, value in record.items() if key != "id"}

    await checker(httpx2.Response(200, json={**record, "extra": 1}, request=request))
    with pytest.raises(AssertionError, match="'id' is a required property"):
        await checker(httpx2.Response(200, json=without_id, request=request))
    with pytest.raises(AssertionError, match="not documented"):
        await checker(httpx2.Response(409, json={"error": "x"}, request=request))
