"""Starting, seeding, persisting and stopping the sandbox; auth; errors that never leak internals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from runtype_mcp.sandbox import Sandbox, shapes
from tests.sandbox.conftest import client_for, serving

pytestmark = pytest.mark.anyio


async def count(client: httpx2.AsyncClient, path: str, **params: str) -> int:
    body = (await client.get(path, params={"includeCount": "true", **params})).json()
    return int(body["pagination"]["totalCount"])


async def test_first_start_seeds_demo_records_and_flow(sb: tuple[Sandbox, httpx2.AsyncClient]) -> None:
    _, client = sb

    customers = (await client.get("/v1/records", params={"type": "customer"})).json()["data"]
    flows = (await client.get("/v1/flows")).json()["data"]

    assert len(customers) == 3
    assert set(customers[0]["metadata"]) == {"company", "tier", "email", "notes"}
    assert await count(client, "/v1/records", type="support_ticket") == 3
    assert [flow["name"] for flow in flows] == ["Summarize customer"]


async def test_demo_flow_runs_and_writes_a_summary(sb: tuple[Sandbox, httpx2.AsyncClient]) -> None:
    _, client = sb
    flow_id = (await client.get("/v1/flows")).json()["data"][0]["id"]

    response = await client.post(f"/v1/flows/{flow_id}/run-on-record-type", json={"recordType": "customer"})

    assert response.json()["successCount"] == 3
    for customer in (await client.get("/v1/records", params={"type": "customer"})).json()["data"]:
        assert customer["metadata"]["company"] in customer["metadata"]["summary"]


async def test_seeding_happens_once_and_data_persists_across_restarts(
    anyio_backend: str, tmp_path: Path
) -> None:
    db = tmp_path / "nested" / "sandbox.sqlite3"
    async with serving(Sandbox(db)) as client:
        first = (await client.get("/v1/records", params={"type": "customer", "limit": 1})).json()["data"][0]
        await client.delete(f"/v1/records/{first['id']}")
        created = (
            await client.post("/v1/records", json={"name": "kept", "type": "note", "metadata": {"a": 1}})
        ).json()

    async with serving(Sandbox(db)) as client:
        assert await count(client, "/v1/records", type="customer") == 2
        assert await count(client, "/v1/flows") == 1
        assert (await client.get(f"/v1/records/{created['id']}")).json()["metadata"] == {"a": 1}


async def test_seed_false_starts_empty(anyio_backend: str) -> None:
    async with serving(Sandbox(seed=False)) as client:
        assert await count(client, "/v1/records") == 0
        assert await count(client, "/v1/flows") == 0


async def test_requests_outside_running_answer_503(anyio_backend: str) -> None:
    sandbox = Sandbox()
    async with client_for(sandbox) as client:
        response = await client.get("/v1/records")

    assert response.status_code == 503
    assert response.json()["code"] == "SANDBOX_NOT_RUNNING"


async def test_running_is_reentrant(anyio_backend: str) -> None:
    sandbox = Sandbox()
    async with sandbox.running(), client_for(sandbox) as client:
        async with sandbox.running():
            assert (await client.get("/v1/records")).status_code == 200
        assert (await client.get("/v1/records")).status_code == 200


async def test_asgi_lifespan_starts_and_stops_the_sandbox(anyio_backend: str) -> None:
    sandbox = Sandbox()
    to_app, from_server = anyio.create_memory_object_stream[dict[str, Any]](4)
    to_server, from_app = anyio.create_memory_object_stream[dict[str, Any]](4)

    async def send(message: dict[str, Any]) -> None:
        await to_server.send(message)

    async with to_app, from_server, to_server, from_app, anyio.create_task_group() as tg:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        tg.start_soon(sandbox.app, scope, from_server.receive, send)
        await to_app.send({"type": "lifespan.startup"})
        assert (await from_app.receive())["type"] == "lifespan.startup.complete"
        async with client_for(sandbox) as client:
            assert (await client.get("/v1/records")).status_code == 200
        await to_app.send({"type": "lifespan.shutdown"})
        assert (await from_app.receive())["type"] == "lifespan.shutdown.complete"

    async with client_for(sandbox) as client:
        assert (await client.get("/v1/records")).status_code == 503


async def test_api_key_is_required_when_configured(anyio_backend: str) -> None:
    async with serving(Sandbox(api_key="rt_test_secret")) as client:
        missing = await client.get("/v1/records")
        wrong = await client.get("/v1/records", headers={"Authorization": "Bearer rt_test_nope"})
        right = await client.get("/v1/records", headers={"Authorization": "Bearer rt_test_secret"})
        unknown = await client.get("/v1/nothing")
        spec = await client.get("/openapi.json")
        validate = await client.post("/v1/public/flows/validate", json={"name": "x", "steps": []})

    assert missing.status_code == wrong.status_code == unknown.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["code"] == "MISSING_API_KEY"
    assert wrong.json() == {"error": "Invalid API key", "code": "INVALID_API_KEY"}
    assert "rt_test" not in wrong.text
    assert right.status_code == 200
    assert spec.status_code == 200
    assert validate.status_code == 200
    assert validate.json()["context"]["authenticated"] is False


async def test_any_bearer_is_accepted_without_a_configured_key(
    sb: tuple[Sandbox, httpx2.AsyncClient],
) -> None:
    _, client = sb

    response = await client.get("/v1/records", headers={"Authorization": "Bearer whatever"})

    assert response.status_code == 200


async def test_unexpected_errors_are_500_without_internals(
    sb: tuple[Sandbox, httpx2.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, client = sb
    record_id = (await client.get("/v1/records", params={"limit": 1})).json()["data"][0]["id"]

    def broken(row: Any) -> dict[str, Any]:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(shapes, "record", broken)
    response = await client.get(f"/v1/records/{record_id}")

    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert response.json()["error"].startswith("Internal server error (err_")
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


async def test_body_that_is_not_an_object_is_invalid_type(sb: tuple[Sandbox, httpx2.AsyncClient]) -> None:
    _, client = sb

    response = await client.post("/v1/records", json=[1, 2])
    empty = await client.post("/v1/records")

    assert response.json()["details"][0]["code"] == "INVALID_TYPE"
    assert empty.status_code == 400
