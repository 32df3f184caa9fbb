"""bulk_delete_records works in chunks of 100: a failure part-way says exactly which ids were done."""

from __future__ import annotations

import re

import anyio
import httpx2
import pytest

from runtype_mcp.sandbox import Fault
from runtype_mcp.tools.preview_token import sign
from tests.conftest import data, text
from tests.fakes import API_KEY
from tests.reliability.conftest import Collector
from tests.reliability.harness import Backend, fake_backend, mcp_client, sandbox_backend

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("fast_retries")]
AREA = "Bulk delete failing part-way (250 ids, chunks of 100)"
HELD = "the text lists exactly the ids deleted; the rest still exist; a second call finishes the job"


class FailNth(httpx2.AsyncBaseTransport):
    """Lets the first n-1 bulk-delete requests through, then times out the n-th (after it landed, if asked)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, n: int, *, land: bool) -> None:
        self.inner, self.n, self.land, self.seen = inner, n, land, 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method == "POST" and request.url.path.endswith("/records/bulk-delete"):
            self.seen += 1
            if self.seen == self.n:
                if self.land:
                    await self.inner.handle_async_request(request)
                raise httpx2.ReadTimeout("injected", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _make_records(be: Backend, count: int) -> list[str]:
    csv = "name\n" + "".join(f"bulk-{i:03d}\n" for i in range(count))
    resp = await be.direct.post(
        "/v1/records/upload-csv",
        files={"file": ("b.csv", csv.encode(), "text/csv")},
        data={"nameColumn": "name", "typeValue": "bulk"},
    )
    assert resp.status_code == 200, resp.text
    if be.fake is not None:
        return [r["id"] for r in be.fake.records.values() if r["type"] == "bulk"]
    ids: list[str] = []
    cursor = None
    while True:
        params = {"type": "bulk", "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = (await be.direct.get("/v1/records", params=params)).json()
        ids += [r["id"] for r in page["data"]]
        cursor = page["pagination"].get("nextCursor")
        if not cursor:
            return sorted(ids)


def _done_ids(message: str) -> list[str]:
    match = re.search(r"Done for (\d+) ids: (.*?)\.\n", message)
    assert match, message
    listed = [] if match.group(2) == "none" else match.group(2).split(", ")
    assert int(match.group(1)) == len(listed)
    return listed


@pytest.mark.parametrize("failing_chunk", [2, 3])
@pytest.mark.parametrize("backend", ["sandbox 503", "fake timeout after landing"])
async def test_bulk_delete_failing_midway_reports_exactly_which_ids_were_done(
    backend: str, failing_chunk: int, report: Collector
) -> None:
    with report.case(AREA, f"{backend}, chunk {failing_chunk} of 3 fails", HELD):
        factory = sandbox_backend() if backend.startswith("sandbox") else fake_backend()
        async with factory as be:
            ids = await _make_records(be, 250)
            assert len(ids) == 250
            if be.sandbox is not None:
                path = r"^/v1/records/bulk-delete$"
                be.sandbox.faults.add(
                    [
                        Fault(method="POST", path=path, status=0, times=failing_chunk - 1),
                        Fault(method="POST", path=path, status=503, times=1),
                    ]
                )
            else:
                be.counter.inner = FailNth(be.counter.inner, failing_chunk, land=True)
            async with mcp_client(be) as client:
                with anyio.fail_after(20):
                    first = await client.call_tool(
                        "bulk_delete_records",
                        {"ids": ids, "confirm": True, "confirmation": sign(API_KEY, "delete", ids)},
                    )
                done = _done_ids(text(first))
                remaining = ids[len(done) :]
                exists = {i: await be.record_exists(i) for i in ids}
                with anyio.fail_after(20):
                    second = data(
                        await client.call_tool(
                            "bulk_delete_records",
                            {
                                "ids": remaining,
                                "confirm": True,
                                "confirmation": sign(API_KEY, "delete", remaining),
                            },
                        )
                    )
            left = [i for i in ids if await be.record_exists(i)]
        assert first.is_error
        assert done == ids[: 100 * (failing_chunk - 1)], "done = exactly the chunks that succeeded, in order"
        assert f"Not done: the last {len(remaining)} of the ids" in text(first)
        assert not any(exists[i] for i in done), "every id reported done is really gone"
        if backend.startswith("sandbox"):
            assert all(exists[i] for i in remaining), "nothing else was deleted"
        else:
            assert "may or may not have taken effect" in text(first)
        assert second["deleted"] is True
        assert second["deleted_count"] + len(second.get("not_found_ids") or []) == len(remaining)
        assert left == []
