"""Whatever a client sends, the sandbox answers with a documented JSON error, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx2
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtype_mcp.sandbox import Sandbox, engine
from runtype_mcp.sandbox.openapi import build_openapi
from tests.sandbox.conftest import serving

DOC = build_openapi(tuple(engine.STEP_TYPES))
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


def properties(schema: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        schema = DOC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return sorted(schema.get("properties", {}))


OPERATIONS = [
    (method.upper(), path, op)
    for path, item in DOC["paths"].items()
    for method, op in item.items()
    if path != "/v1/records/upload-csv"
]


@pytest.fixture(scope="module")
def portal() -> Iterator[tuple[BlockingPortal, httpx2.AsyncClient, dict[str, str]]]:
    with start_blocking_portal(backend="asyncio") as portal:
        sandbox = Sandbox(inline_limit=2)
        with portal.wrap_async_context_manager(serving(sandbox)) as client:
            ids = {
                "id": portal.call(partial(client.get, "/v1/records", params={"limit": 1})).json()["data"][0][
                    "id"
                ],
                "flowId": portal.call(client.get, "/v1/flows").json()["data"][0]["id"],
            }
            yield portal, client, ids


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any], Any]:
    method, path, op = draw(st.sampled_from(OPERATIONS))
    names = [p["name"] for p in op["parameters"] if p["in"] == "query"]
    params = draw(st.dictionaries(st.sampled_from(names), st.text(max_size=40), max_size=4)) if names else {}
    body = None
    if "requestBody" in op:
        keys = properties(op["requestBody"]["content"]["application/json"]["schema"])
        body = draw(st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), JSON, max_size=5) | JSON)
    return method, path, params, body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests())
def test_no_request_causes_a_server_error(
    portal: tuple[BlockingPortal, httpx2.AsyncClient, dict[str, str]],
    request: tuple[str, str, dict[str, Any], Any],
) -> None:
    blocking, client, ids = portal
    method, path, params, body = request
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    kwargs: dict[str, Any] = {"params": params} if params else {}
    if body is not None:
        kwargs["json"] = body
    # Documented status and body shape are checked by the client's OpenAPI hook (see conftest).
    response = blocking.call(partial(client.request, method, path, **kwargs))

    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert isinstance(response.json()["error"], str)
