from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import Client

from runtype_mcp.config import Settings
from runtype_mcp.logs import configure_logging
from runtype_mcp.server import build_server
from tests.fakes import API_KEY, FakeRuntype
from tests.fence import shown as shown_text

MODES = ["auto", "legacy"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Each test's files folder (RUNTYPE_FILES_DIR) is its own tmp_path: no test touches the user's
    documents folder, and a test that exports to `tmp_path / "x.csv"` writes inside the folder."""
    monkeypatch.setenv("RUNTYPE_FILES_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def fake() -> FakeRuntype:
    return FakeRuntype()


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Everything the server logged during the test, as JSON lines."""
    stream = io.StringIO()
    configure_logging("DEBUG", "json", [API_KEY], stream=stream)
    yield stream
    configure_logging("WARNING", "json", [API_KEY], stream=io.StringIO())


def make_settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {
        "api_key": API_KEY,
        "base_url": "https://api.runtype.test",
        "max_retry_wait": 2.0,
        "retry_attempts": 3,
    }
    base.update(kw)
    return Settings(**base)


@asynccontextmanager
async def connect(fake: FakeRuntype, mode: str = "auto", **settings: Any) -> AsyncIterator[Client]:
    server = build_server(make_settings(**settings), transport=fake.transport())
    async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
        yield client


def text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def data(result: Any) -> Any:
    """The structured content, after checking the text the model reads carries the same data."""
    assert not result.is_error, text(result)
    structured = result.structured_content
    assert structured is not None
    shown = shown_text(text(result))
    if "columns" in shown and "rows" in shown:  # list tools render rows as a table for the model
        ids = [row[shown["columns"].index("id")] for row in shown["rows"]]
        assert ids == [r["id"] for r in structured["records"]]
        assert {k: v for k, v in shown.items() if k in structured and k != "records"} == {
            k: v for k, v in structured.items() if k != "records"
        }
    else:
        assert shown == structured
    return structured


@asynccontextmanager
async def sandbox() -> AsyncIterator[Client]:
    """A real MCP client on a fresh in-memory sandbox (demo data seeded)."""
    server = build_server(Settings(sandbox=True, sandbox_db=":memory:"))
    async with Client(server) as client:  # type: ignore[arg-type]
        yield client
