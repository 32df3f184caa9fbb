"""Attacks on the file tools, as a prompt-injected model would make them (issue 10, items 1-3, 5).

Each exploit is judged by its outcome: the file outside the files folder is not written or changed,
the secret file is not read (nothing reaches Runtype, nothing comes back), over streamable HTTP no
file of the server is touched at all, and an export stops at its caps with whole rows.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import EmbeddedResource, TextResourceContents

from runtype_mcp.http_app import build_http_app
from runtype_mcp.server import build_server
from tests.conftest import data, make_settings, text
from tests.fakes import API_KEY, FakeRuntype
from tests.reliability.conftest import Collector

pytestmark = [pytest.mark.anyio, pytest.mark.skipif(os.name == "nt", reason="POSIX symlinks and FIFOs")]
AREA = "Files folder (prompt-injected paths)"
CODE = "x\nimport os; os.system('touch /tmp/X')\n#"  # a record name that runs as a .pth line
BASE = "http://127.0.0.1:8000"


class Disk:
    """A files folder, a home with dotfiles, and a stand-in for site-packages, side by side."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = root / "files"
        self.folder.mkdir()
        self.home = root / "home"
        (self.home / ".ssh").mkdir(parents=True)
        (self.home / ".bashrc").write_text("# bashrc\n", encoding="utf-8")
        (self.home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 AAAA me\n", encoding="utf-8")
        (self.home / ".aws").mkdir()
        (self.home / ".aws" / "credentials").write_text("aws_secret_access_key=SECRET1\n", encoding="utf-8")
        self.site = root / "site-packages"
        self.site.mkdir()
        monkeypatch.setenv("HOME", str(self.home))

    def snapshot(self) -> dict[str, bytes]:
        """Every file outside the files folder, with its content."""
        root = self.folder.parent
        return {
            str(p): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink() and self.folder not in p.parents
        }


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Disk:
    return Disk(tmp_path, monkeypatch)


@pytest.fixture
def poisoned() -> FakeRuntype:
    fake = FakeRuntype()
    fake.add_record("lead", CODE, {"note": "$(touch /tmp/X)"})
    fake.add_record("lead", "ok", {"note": f"key {API_KEY}"})
    return fake


@asynccontextmanager
async def stdio(fake: FakeRuntype, folder: Path | None, **kw: Any) -> AsyncIterator[Client]:
    if folder is not None:
        kw["files_dir"] = str(folder)
    server = build_server(make_settings(**kw), transport=fake.transport())
    async with Client(server) as client:
        yield client


@asynccontextmanager
async def over_http(fake: FakeRuntype, **kw: Any) -> AsyncIterator[Client]:
    cfg = make_settings(transport="streamable-http", **kw)
    server = build_server(cfg, transport=fake.transport())
    app = build_http_app(server, cfg, "127.0.0.1")
    async with (
        server.session_manager.run(),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as http,
        Client(streamable_http_client(f"{BASE}/mcp", http_client=http)) as client,
    ):
        yield client


EXPORT_TARGETS = {
    "../../x.pth (relative escape)": lambda d: "../../x.pth",
    "../site-packages/zz.pth": lambda d: "../site-packages/zz.pth",
    "absolute path into site-packages": lambda d: str(d.site / "zz.pth"),
    "absolute .csv path outside the folder": lambda d: str(d.site / "zz.csv"),
    "~/.bashrc": lambda d: "~/.bashrc",
    "~/.ssh/authorized_keys": lambda d: "~/.ssh/authorized_keys",
    "a dotfile inside the folder": lambda d: ".bashrc",
    "a .pth file inside the folder": lambda d: "zz.pth",
}


@pytest.mark.parametrize("label", sorted(EXPORT_TARGETS))
async def test_export_never_writes_outside_the_folder_or_a_non_csv_file(
    label: str, disk: Disk, poisoned: FakeRuntype, report: Collector
) -> None:
    with report.case(
        AREA, f"export_records_csv to {label} (overwrite=true)", "refused; no file written or changed"
    ):
        before = disk.snapshot()
        async with stdio(poisoned, disk.folder) as client:
            res = await client.call_tool(
                "export_records_csv", {"path": EXPORT_TARGETS[label](disk), "type": "lead", "overwrite": True}
            )
        assert res.is_error
        body = text(res)
        assert "- path:" in body and str(disk.folder.resolve()) in body and "RUNTYPE_FILES_DIR" in body
        assert disk.snapshot() == before
        assert list(disk.folder.iterdir()) == []
        assert poisoned.sent("GET", "/v1/records/export") == [], "nothing is fetched for a refused path"


async def test_export_through_a_symlinked_folder_or_onto_a_symlink_writes_nothing_outside(
    disk: Disk, poisoned: FakeRuntype, report: Collector
) -> None:
    (disk.folder / "link").symlink_to(disk.site, target_is_directory=True)
    (disk.folder / "out.csv").symlink_to(disk.home / ".bashrc")
    (disk.folder / "notes.txt").write_text("keep me\n", encoding="utf-8")
    cases = [
        ("export_records_csv through a symlinked subfolder pointing outside", "link/zz.csv"),
        ("export_records_csv onto a symlink at the target name", "out.csv"),
        ("export_records_csv overwrite=true onto a non-csv file", "notes.txt"),
    ]
    for tried, path in cases:
        with report.case(AREA, tried, "refused; the target and the link's target are unchanged"):
            before = disk.snapshot()
            async with stdio(poisoned, disk.folder) as client:
                res = await client.call_tool(
                    "export_records_csv", {"path": path, "type": "lead", "overwrite": True}
                )
            assert res.is_error and "- path:" in text(res)
            assert disk.snapshot() == before
            assert (disk.folder / "notes.txt").read_text(encoding="utf-8") == "keep me\n"
            assert (disk.folder / "out.csv").is_symlink()


UPLOAD_SOURCES = {
    "/etc/passwd": lambda d: "/etc/passwd",
    "~/.aws/credentials": lambda d: "~/.aws/credentials",
    "a symlink in the folder to a file outside": lambda d: "creds.csv",
    "a FIFO in the folder": lambda d: "pipe.csv",
    "a dotfile in the folder": lambda d: ".env",
    "../home/.aws/credentials": lambda d: "../home/.aws/credentials",
}


@pytest.mark.parametrize("label", sorted(UPLOAD_SOURCES))
async def test_upload_never_reads_a_file_outside_the_folder_or_a_special_file(
    label: str, disk: Disk, fake: FakeRuntype, report: Collector
) -> None:
    with report.case(
        AREA, f"upload_records_csv from {label}", "refused; nothing read, nothing sent, nothing echoed"
    ):
        (disk.folder / "creds.csv").symlink_to(disk.home / ".aws" / "credentials")
        (disk.folder / ".env").write_text("RUNTYPE_API_KEY=SECRET2\n", encoding="utf-8")
        os.mkfifo(disk.folder / "pipe.csv")
        async with stdio(fake, disk.folder) as client:
            with anyio.fail_after(10):  # a FIFO must not block the read
                res = await client.call_tool(
                    "upload_records_csv",
                    {"path": UPLOAD_SOURCES[label](disk), "name_column": "x", "type_value": "t"},
                )
        assert res.is_error and "- path:" in text(res)
        assert fake.requests == [] and fake.uploads == []
        body = text(res)
        for secret in ("root:", "SECRET1", "SECRET2", "aws_secret_access_key"):
            assert secret not in body


async def test_read_only_mode_offers_no_tool_that_writes_a_file(report: Collector) -> None:
    with report.case(AREA, "--read-only over stdio", "export_records_csv (writes a file) is not listed"):
        async with stdio(FakeRuntype(), None, read_only=True) as client:
            names = {t.name for t in (await client.list_tools()).tools}
        assert "export_records_csv" not in names and "list_records" in names
        async with stdio(FakeRuntype(), None) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
        ann = tools["export_records_csv"].annotations
        assert ann is not None and ann.read_only_hint is False and ann.destructive_hint is True


async def test_over_http_the_file_tools_take_no_path_and_touch_no_file(
    tmp_path: Path, disk: Disk, poisoned: FakeRuntype, report: Collector
) -> None:
    folder = tmp_path / "never"
    with report.case(
        AREA, "streamable HTTP: export/upload with a path", "no path parameter; no file read or written"
    ):
        before = disk.snapshot()
        async with over_http(poisoned, files_dir=str(folder)) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            exported = await client.call_tool(
                "export_records_csv", {"path": str(disk.site / "zz.pth"), "type": "lead", "overwrite": True}
            )
            uploaded = await client.call_tool(
                "upload_records_csv", {"path": "/etc/passwd", "name_column": "x", "type_value": "t"}
            )
        for name in ("export_records_csv", "upload_records_csv"):
            props = tools[name].input_schema.get("properties", {})
            assert "path" not in props and "overwrite" not in props
        assert disk.snapshot() == before and not folder.exists()
        assert uploaded.is_error and poisoned.uploads == [] and "root:" not in text(uploaded)
        if exported.is_error:  # the unknown argument is refused
            assert "path" in text(exported)
        else:  # or ignored: the CSV still only comes back inline
            assert any(isinstance(c, EmbeddedResource) for c in exported.content)


async def test_over_http_export_returns_the_csv_inline_scrubbed_and_bounded(
    tmp_path: Path, report: Collector
) -> None:
    fake = FakeRuntype()
    for i in range(3000):
        fake.add_record("big", f"row-{i}", {"blob": "y" * 500, "n": i, "secret": API_KEY})
    with report.case(
        AREA, "streamable HTTP: export of ~1.6 MB", "embedded text/csv, cut at 1 MiB on a row, key scrubbed"
    ):
        async with over_http(fake, files_dir=str(tmp_path / "never")) as client:
            res = await client.call_tool("export_records_csv", {"type": "big", "preview_rows": 1})
        out = data(res)
        (embedded,) = [c for c in res.content if isinstance(c, EmbeddedResource)]
        resource = embedded.resource
        assert isinstance(resource, TextResourceContents) and resource.mime_type == "text/csv"
        assert str(resource.uri) == out["uri"] and str(resource.uri).startswith("runtype://exports/")
        csv_text = resource.text
        assert len(csv_text.encode()) == out["bytes"] <= 1024 * 1024 and csv_text.endswith("\r\n")
        assert out["truncated"] is True and out["row_count"] == csv_text.count("\r\n") - 1 < 3000
        assert "filter" in out["note"] and "type" in out["note"]
        assert API_KEY not in csv_text and API_KEY[:12] not in str(res.model_dump())
        assert not (tmp_path / "never").exists()


async def test_a_relative_path_lands_in_the_default_folder_created_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, poisoned: FakeRuntype, report: Collector
) -> None:
    import platformdirs

    monkeypatch.delenv("RUNTYPE_FILES_DIR")
    monkeypatch.setattr(platformdirs, "user_documents_dir", lambda: str(tmp_path / "Documents"))
    default = tmp_path / "Documents" / "runtype-mcp"
    with report.case(
        AREA, 'export_records_csv(path="out.csv") with the default folder', "lands in Documents/runtype-mcp"
    ):
        async with stdio(poisoned, None) as client:
            await client.list_tools()
            assert not default.exists(), "not created at start-up"
            out = data(await client.call_tool("export_records_csv", {"path": "out.csv", "type": "lead"}))
        assert out["path"] == str(default / "out.csv") and out["row_count"] == 2
        written = (default / "out.csv").read_text(encoding="utf-8")
        assert "import os" in written, "the data is exported as data"
        assert API_KEY not in written and API_KEY[:12] not in written, "the export is scrubbed at ingress"
        assert sorted(p.name for p in default.iterdir()) == ["out.csv"]


async def test_export_stops_at_the_row_cap_with_whole_rows_and_says_how_to_narrow(
    disk: Disk, report: Collector
) -> None:
    fake = FakeRuntype()
    for i in range(10):
        fake.add_record("many", f"r{i}", {"note": f"line\nbreak {i}"})
    with report.case(
        AREA, "export over RUNTYPE_EXPORT_MAX_ROWS (quoted newlines)", "file cut at 4 whole rows, cap named"
    ):
        async with stdio(fake, disk.folder, export_max_rows=4) as client:
            out = data(await client.call_tool("export_records_csv", {"path": "many.csv", "type": "many"}))
        body = (disk.folder / "many.csv").read_bytes()
        assert out["truncated"] is True and out["row_count"] == 4 and body.count(b"line\nbreak") == 4
        assert body.endswith(b'"\r\n') and out["bytes"] == len(body)
        assert "RUNTYPE_EXPORT_MAX_ROWS" in out["note"] and "filter" in out["note"]


async def test_an_endless_export_stops_at_the_byte_cap_and_keeps_memory_flat(
    disk: Disk, report: Collector
) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b"id,name\r\n"
        while True:
            sent += 1
            yield b"".join(b'r%d,"a\nb"\r\n' % i for i in range(1000))

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=endless(), headers={"content-type": "text/csv"})

    cap = 256 * 1024
    with report.case(AREA, "an endless export body", "stops at RUNTYPE_EXPORT_MAX_BYTES on a whole row"):
        server = build_server(
            make_settings(files_dir=str(disk.folder), export_max_bytes=cap),
            transport=httpx2.MockTransport(handler),
        )
        with anyio.fail_after(30):
            async with Client(server) as client:
                out = data(await client.call_tool("export_records_csv", {"path": "endless.csv"}))
        size = (disk.folder / "endless.csv").stat().st_size
        assert out["truncated"] is True and size == out["bytes"] <= cap and sent < 100
        assert (disk.folder / "endless.csv").read_bytes().endswith(b'"a\nb"\r\n')
        assert "RUNTYPE_EXPORT_MAX_BYTES" in out["note"]


async def test_the_files_dir_flag_confines_the_real_stdio_server(tmp_path: Path, report: Collector) -> None:
    from tests.stdio_util import server_params

    folder = tmp_path / "chosen"
    with report.case(
        AREA, "python -m runtype_mcp --files-dir over stdio", "exports land there; an escape is refused"
    ):
        params = server_params("--sandbox", "--sandbox-db", ":memory:", "--files-dir", str(folder))
        with anyio.fail_after(60):
            async with Client(params) as client:
                ok = data(await client.call_tool("export_records_csv", {"path": "demo.csv"}))
                escape = await client.call_tool("export_records_csv", {"path": "../escape.csv"})
        assert ok["path"] == str(folder / "demo.csv") and (folder / "demo.csv").stat().st_size == ok["bytes"]
        assert escape.is_error and "RUNTYPE_FILES_DIR" in text(escape)
        assert [p.name async for p in anyio.Path(tmp_path).iterdir()] == ["chosen"]
