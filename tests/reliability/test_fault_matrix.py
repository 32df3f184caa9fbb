"""Every tool, every injected failure: success or an actionable error, nothing duplicated or re-run.

Two tables, one parametrized test each:
- the sandbox over its real HTTP path, with faults from `Sandbox(faults=...)` (HTTP answers and delays);
- `FakeRuntype` over `MockTransport` for what only a transport can do (timeouts, resets, failures after
  the change landed).
Backoff is zero (stamina's test mode), attempt counts and Retry-After decisions are the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp.types import CallToolResult

from tests.reliability.catalog import TOOLS
from tests.reliability.conftest import Collector
from tests.reliability.harness import (
    Backend,
    Injected,
    assert_actionable,
    fake_backend,
    mcp_client,
    prepare,
    sandbox_backend,
)

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("fast_retries")]

NOW = datetime.now(UTC)
DEADLINE = 0.4
SANDBOX_FAULTS = [
    Injected("429 once, no Retry-After", 429, recoverable=True),
    Injected("429 once, Retry-After: 0", 429, retry_after="0", recoverable=True),
    Injected(
        "429 once, Retry-After as an HTTP-date (now)",
        429,
        retry_after=format_datetime(NOW - timedelta(seconds=30), usegmt=True),
        recoverable=True,
    ),
    Injected("429, Retry-After: 3600 (past the bound)", 429, retry_after="3600", times=None, persistent=True),
    Injected(
        "429, Retry-After as an HTTP-date 1 h ahead",
        429,
        retry_after=format_datetime(NOW + timedelta(hours=1), usegmt=True),
        times=None,
        persistent=True,
    ),
    Injected("500 once", 500, recoverable=True),
    Injected(
        "502 once with an HTML body", 502, body="<html><body>Bad gateway</body></html>", recoverable=True
    ),
    Injected("503 once", 503, recoverable=True),
    Injected("503 on every attempt", 503, times=None, persistent=True),
    Injected("200 with an HTML body", 200, body="<html><body>Down for maintenance</body></html>"),
    Injected("200 with truncated JSON", 200, body='{"data": [{"id": "rec_'),
    Injected("204 where JSON was expected", 204, body=""),
    Injected(f"answer slower than RUNTYPE_TOOL_TIMEOUT ({DEADLINE} s)", 0, delay_s=30, persistent=True),
]
FAKE_FAULTS = [
    Injected("read timeout once", exc=httpx2.ReadTimeout, recoverable=True),
    Injected("connection refused once", exc=httpx2.ConnectError, recoverable=True),
    Injected("connection reset once", exc=httpx2.ReadError, recoverable=True),
    Injected(
        "connection dropped on every attempt", exc=httpx2.RemoteProtocolError, times=None, persistent=True
    ),
    Injected("500 after the change landed", 500, land=True, recoverable=True),
    Injected("read timeout after the change landed", exc=httpx2.ReadTimeout, land=True, recoverable=True),
]


def _held(fault: Injected) -> str:
    common = "no duplicate creates; flow runs sent once; every error actionable"
    if fault.persistent:
        return f"every call failed, after at most 3 sends; {common}"
    if fault.recoverable:
        return f"idempotent calls recovered with exactly one resend; other writes sent once; {common}"
    return f"success or an error; {common}"


@dataclass
class Seen:
    """What one call did, gathered while the backend is up and asserted after it is closed."""

    result: CallToolResult
    sent: int
    records: list[tuple[str, int]] = field(default_factory=list)
    flows: int | None = None


async def _observe(be: Backend, tool: str, fault: Injected, tmp: Path) -> Seen:
    world = await prepare(be, tmp)
    case = TOOLS[tool]
    deadline = DEADLINE if fault.delay_s else 15.0
    async with mcp_client(be, tool_timeout=deadline) as client:
        be.inject(fault, *case.main)
        be.mark = len(be.counter.log)
        with anyio.fail_after(20):
            res = await client.call_tool(tool, case.args(world))
    be.clear_faults()
    seen = Seen(res, be.sent(*case.main))
    for record_type, name in case.creates(world) if case.creates else []:
        seen.records.append((name, await be.records_named(record_type, name)))
    if case.creates_flow:
        seen.flows = await be.flows_named(case.creates_flow(world))
    return seen


def _check(tool: str, fault: Injected, seen: Seen) -> None:
    case, res, sent = TOOLS[tool], seen.result, seen.sent
    body = assert_actionable(res, tool)
    assert 1 <= sent <= 3, f"{tool}: main request sent {sent} times"
    if case.run:
        assert sent == 1, f"{tool}: a flow run was sent {sent} times"
    elif not case.retried and not case.checked_create:
        assert sent == 1, f"{tool}: a non-idempotent request was sent {sent} times"
    if fault.persistent and not case.fallback:
        assert res.is_error, f"{tool}: succeeded although every attempt failed: {body}"
    if fault.persistent and case.fallback and not res.is_error:
        assert "did not answer" in body, f"{tool}: a fallback answer that hides the failure: {body}"
    if fault.persistent and case.retried and fault.exc is not None and not case.fallback:
        assert sent == 3 and "after 3 attempts" in body, body
    if fault.recoverable and case.retried:
        assert not res.is_error, f"{tool} did not recover from {fault.label}: {body}"
        assert sent == 2, f"{tool}: expected one retry, sent {sent}"
    if fault.recoverable and case.checked_create and fault.status != 429:
        assert not res.is_error, f"{tool} did not recover from {fault.label}: {body}"
    for name, count in seen.records:
        assert count <= 1, f"{tool}: {count} records named {name!r}"
        if not res.is_error:
            assert count == 1, f"{tool}: reported success but {name!r} exists {count} times"
        if fault.land and case.checked_create:
            assert count == 1 and sent == 1, "a create that landed must be found, not sent again"
    if seen.flows is not None:
        assert seen.flows <= 1, f"{tool}: {seen.flows} flows created"
        assert seen.flows == (1 if fault.land or not res.is_error else 0)
        if res.is_error and (fault.status >= 500 or fault.exc is not None):
            assert "list_flows" in body, "an unsure create says how to check"


@pytest.mark.parametrize("fault", SANDBOX_FAULTS, ids=[f.label for f in SANDBOX_FAULTS])
@pytest.mark.parametrize("tool", list(TOOLS))
async def test_every_tool_under_sandbox_faults_succeeds_or_says_what_to_do(
    tool: str, fault: Injected, tmp_path: Path, report: Collector
) -> None:
    with report.case(f"Faults: sandbox over HTTP, {len(TOOLS)} tools", fault.label, _held(fault)):
        async with sandbox_backend() as be:
            seen = await _observe(be, tool, fault, tmp_path)
        _check(tool, fault, seen)


@pytest.mark.parametrize("fault", FAKE_FAULTS, ids=[f.label for f in FAKE_FAULTS])
@pytest.mark.parametrize("tool", list(TOOLS))
async def test_every_tool_under_transport_failures_succeeds_or_says_what_to_do(
    tool: str, fault: Injected, tmp_path: Path, report: Collector
) -> None:
    with report.case(f"Faults: MockTransport, {len(TOOLS)} tools", fault.label, _held(fault)):
        async with fake_backend() as be:
            seen = await _observe(be, tool, fault, tmp_path)
        _check(tool, fault, seen)
