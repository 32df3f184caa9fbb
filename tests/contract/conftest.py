"""Fixtures of the contract suite: the sandbox on a loopback port, the official SDK's clients, the ledger.

Every 2xx JSON body the SDK's generated client receives is validated against the type the SDK
declares for that endpoint (`sdk_catalog`) by a response hook, and the outcome lands in `LEDGER`;
tests that cannot go through the generated client call `ledger.validate` themselves. With
CONTRACT_REPORT=1 the table endpoint x {served, parsed, used} is written to docs/contract.md at the
end of the session (normal runs leave the tree alone).

Nothing here imports `runtype` at import time: without the SDK each test module skips with a reason.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from runtype_mcp.sandbox import Sandbox
from tests.contract import sdk_catalog

API_KEY = "rt_test_contract_0123456789abcdef"
REPORT_PATH = Path(__file__).resolve().parents[2] / "docs" / "contract.md"
SKIP_REASON = f"runtype-sdk=={sdk_catalog.SDK_VERSION} is not installed (pip install -e '.[dev]')"


@dataclass
class Outcome:
    parsed: int = 0
    failed: list[str] = field(default_factory=list)
    via_sdk_client: bool = False


@dataclass
class Ledger:
    """What each endpoint's responses did against the SDK's declared types, and what our client sent."""

    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    client_uses: set[tuple[str, str]] = field(default_factory=set)

    def validate(self, method: str, path: str, body: Any, *, via_sdk_client: bool = False) -> Any:
        """`body` parsed with the SDK's declared 2xx type for the endpoint; an AssertionError if it does not."""
        from runtype._generated.core.pydantic_utilities import parse_obj_as

        endpoint = sdk_catalog.find(method, path)
        outcome = self.outcomes.setdefault(endpoint.key, Outcome())
        outcome.via_sdk_client |= via_sdk_client
        model = endpoint.response_model()
        if model is None:  # the SDK declares `Any`: any JSON body parses
            outcome.parsed += 1
            return body
        try:
            parsed = parse_obj_as(model, body)
        except Exception as exc:
            outcome.failed.append(str(exc).splitlines()[0])
            raise AssertionError(
                f"{method} {path}: the SDK's {endpoint.response_type} does not parse the sandbox's body: {exc}"
            ) from None
        outcome.parsed += 1
        return parsed


LEDGER = Ledger()


@pytest.fixture(scope="session")
def ledger() -> Iterator[Ledger]:
    yield LEDGER
    if os.environ.get("CONTRACT_REPORT") == "1":
        from tests.contract.report import markdown

        REPORT_PATH.write_text(markdown(LEDGER), encoding="utf-8")


@pytest.fixture(scope="session")
def served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sandbox as `runtype-mcp sandbox serve` runs it (uvicorn, lifespan on, a key) on a free loopback port."""
    import uvicorn

    sandbox = Sandbox(tmp_path_factory.mktemp("contract") / "sandbox.sqlite3", api_key=API_KEY)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(sandbox.app, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the sandbox server thread died while starting"
        assert time.monotonic() < deadline, "the sandbox did not start within 20 s"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


@pytest.fixture(scope="session")
def generated(served_url: str, ledger: Ledger) -> Iterator[Any]:
    """The SDK's generated client (`RuntypeApi`); every 2xx JSON body it receives is validated into the ledger."""
    httpx = pytest.importorskip("httpx", reason=SKIP_REASON)
    runtype_generated = pytest.importorskip("runtype._generated.client", reason=SKIP_REASON)

    def check(response: Any) -> None:
        kind = response.headers.get("content-type", "")
        if 200 <= response.status_code < 300 and "json" in kind:
            response.read()
            request = response.request
            ledger.validate(request.method, request.url.path, response.json(), via_sdk_client=True)

    http = httpx.Client(event_hooks={"response": [check]}, timeout=30)
    try:
        yield runtype_generated.RuntypeApi(
            base_url=served_url,
            authorization=f"Bearer {API_KEY}",
            api_key=f"Bearer {API_KEY}",
            httpx_client=http,
        )
    finally:
        http.close()


@pytest.fixture(scope="session")
def handwritten(served_url: str) -> Iterator[Any]:
    """The SDK's hand-written overlay client (`runtype.RuntypeClient`)."""
    runtype = pytest.importorskip("runtype", reason=SKIP_REASON)
    client = runtype.RuntypeClient(api_key=API_KEY, base_url=served_url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def raw(served_url: str) -> Iterator[Any]:
    """A plain httpx client on the served sandbox, for bodies the SDK's clients cannot send or read."""
    httpx = pytest.importorskip("httpx", reason=SKIP_REASON)
    with httpx.Client(
        base_url=served_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The report's totals line after a run of the contract suite."""
    if LEDGER.outcomes:
        from tests.contract.report import markdown

        totals = next(line for line in markdown(LEDGER).splitlines() if line.startswith("**SDK endpoints"))
        terminalreporter.write_line(f"contract: {totals.strip('*')}")
