"""Fault injection: canned 429/503/HTML answers and delays, counted, and managed over the admin route."""

from __future__ import annotations

import time

import httpx2
import pytest

from runtype_mcp.sandbox import Fault, Sandbox
from tests.sandbox.conftest import serving

pytestmark = pytest.mark.anyio


async def test_rate_limit_fault_sends_retry_after_then_stops_after_its_count(anyio_backend: str) -> None:
    fault = Fault(method="GET", path=r"^/v1/records$", status=429, retry_after="2", times=2)
    async with serving(Sandbox(faults=[fault])) as client:
        first = await client.get("/v1/records")
        other_path = await client.get("/v1/flows")
        other_method = await client.post("/v1/records", json={})
        second = await client.get("/v1/records")
        third = await client.get("/v1/records")

    assert first.status_code == second.status_code == 429
    assert first.headers["retry-after"] == "2"
    assert first.json()["error"]
    assert other_path.status_code == 200
    assert other_method.status_code == 400
    assert third.status_code == 200


async def test_default_fault_is_one_json_503(anyio_backend: str) -> None:
    async with serving(Sandbox(faults=[Fault()])) as client:
        failed = await client.get("/v1/flows")
        recovered = await client.get("/v1/flows")

    assert failed.status_code == 503
    assert failed.json() == {"error": "Injected fault: HTTP 503", "code": "SANDBOX_FAULT"}
    assert "retry-after" not in failed.headers
    assert recovered.status_code == 200


async def test_fault_can_answer_with_a_non_json_body(anyio_backend: str) -> None:
    fault = Fault(status=502, body="<html><body>Bad gateway</body></html>")
    async with serving(Sandbox(faults=[fault])) as client:
        response = await client.get("/v1/records")

    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<html>")


async def test_status_zero_fault_delays_then_handles_normally(anyio_backend: str) -> None:
    async with serving(Sandbox(faults=[Fault(status=0, delay_s=0.05)])) as client:
        started = time.perf_counter()
        response = await client.get("/v1/records")
        elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert elapsed >= 0.05


async def test_fault_with_times_none_applies_forever(anyio_backend: str) -> None:
    async with serving(Sandbox(faults=[Fault(path="/v1/flows", times=None)])) as client:
        statuses = [(await client.get("/v1/flows")).status_code for _ in range(4)]

    assert statuses == [503] * 4


async def test_admin_routes_add_list_and_clear_faults(anyio_backend: str) -> None:
    async with serving(Sandbox(admin=True)) as client:
        added = await client.post(
            "/_sandbox/faults",
            json=[{"path": "^/v1/flows$", "status": 429, "retry_after": "1", "times": None}],
        )
        limited = await client.get("/v1/flows")
        listed = await client.get("/_sandbox/faults")
        cleared = await client.delete("/_sandbox/faults")
        after = await client.get("/v1/flows")

    assert added.status_code == 200
    assert limited.status_code == 429
    assert listed.json()["faults"][0]["path"] == "^/v1/flows$"
    assert cleared.json() == {"success": True, "faults": []}
    assert after.status_code == 200


async def test_admin_routes_validate_faults(anyio_backend: str) -> None:
    async with serving(Sandbox(admin=True)) as client:
        unknown = await client.post("/_sandbox/faults", json=[{"statuss": 500}])
        bad_status = await client.post("/_sandbox/faults", json={"status": 42})
        bad_json = await client.post(
            "/_sandbox/faults", content=b"[", headers={"Content-Type": "application/json"}
        )

    assert unknown.json()["details"][0]["code"] == "UNRECOGNIZED_KEYS"
    assert bad_status.json()["details"][0]["code"] == "VALIDATION_ERROR"
    assert bad_json.status_code == 400


async def test_faults_never_block_the_admin_routes(anyio_backend: str) -> None:
    async with serving(Sandbox(admin=True, faults=[Fault(times=None)])) as client:
        assert (await client.delete("/_sandbox/faults")).status_code == 200
        assert (await client.get("/v1/records")).status_code == 200


async def test_admin_routes_do_not_exist_without_admin(sb: tuple[Sandbox, httpx2.AsyncClient]) -> None:
    _, client = sb

    response = await client.post("/_sandbox/faults", json=[{"status": 500}])

    assert response.status_code == 404
