"""Attacks on the HTTP surfaces: `runtype-mcp sandbox serve` over a real loopback socket, and the
start-up refusals (an open sandbox beyond loopback, a short RUNTYPE_MCP_HTTP_TOKEN).

Outcome checks: a refused request changes nothing in the sandbox; a refused start never binds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest
import uvicorn

from runtype_mcp.http_app import HTTPConfigError, build_http_app
from runtype_mcp.sandbox import Sandbox
from runtype_mcp.sandbox.serve import standalone_app
from runtype_mcp.server import build_server
from tests.conftest import make_settings
from tests.fakes import FakeRuntype
from tests.reliability.conftest import Collector

AREA = "Sandbox API and HTTP start-up"
KEY = "rt_test_sandbox_key_0123456789"


@contextmanager
def serving(tmp_path: Path, api_key: str | None = None) -> Iterator[str]:
    """`sandbox serve`'s app on 127.0.0.1 with an ephemeral port, in a thread stopped on exit.

    The socket is bound before the server starts, so requests simply wait in its backlog."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sandbox = Sandbox(tmp_path / "sb.sqlite3", api_key=api_key)
    config = uvicorn.Config(
        standalone_app(sandbox.app, "127.0.0.1"),
        log_level="critical",
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        assert not thread.is_alive(), "the sandbox server did not stop"


def _records(client: httpx2.Client, name: str) -> int:
    rows = client.get("/v1/records", params={"type": "attack", "limit": 100}).json()["data"]
    return sum(1 for r in rows if r["name"] == name)


FOREIGN_HOSTS = [
    "evil.example",
    "evil.example:8787",
    "127.0.0.1.evil.example",
    "localhost.evil.example:80",
    "[::2]",
]
FOREIGN_ORIGINS = [
    "http://evil.example",
    "https://evil.example:443",
    "null",
    "http://127.0.0.1.evil.example:8787",
]
NOT_JSON = [
    ("text/plain", b'{"name":"planted","type":"attack"}'),
    ("text/plain;charset=UTF-8", b'{"name":"planted","type":"attack"}'),
    ("application/x-www-form-urlencoded", b"name=planted&type=attack"),
    (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nplanted\r\n--x--',
    ),
    (None, b'{"name":"planted","type":"attack"}'),
]


def test_sandbox_serve_refuses_foreign_hosts_origins_and_non_json_posts(
    tmp_path: Path, report: Collector
) -> None:
    with serving(tmp_path) as base, httpx2.Client(base_url=base, timeout=20) as client:
        ok = client.post("/v1/records", json={"name": "legit", "type": "attack"})
        assert ok.status_code == 201, ok.text
        for host in FOREIGN_HOSTS:
            with report.case(
                AREA, "sandbox serve: foreign Host (DNS rebinding)", "421 with a JSON error; nothing created"
            ):
                resp = client.post(
                    "/v1/records", json={"name": "planted", "type": "attack"}, headers={"Host": host}
                )
                assert resp.status_code == 421, (host, resp.text)
                assert resp.json()["code"] == "INVALID_HOST"
                assert client.get("/v1/records", headers={"Host": host}).status_code == 421
        for origin in FOREIGN_ORIGINS:
            with report.case(
                AREA, "sandbox serve: cross-origin request", "403 with a JSON error; nothing created"
            ):
                resp = client.post(
                    "/v1/records", json={"name": "planted", "type": "attack"}, headers={"Origin": origin}
                )
                assert resp.status_code == 403, (origin, resp.text)
                assert resp.json()["code"] == "INVALID_ORIGIN"
        for content_type, body in NOT_JSON:
            with report.case(
                AREA,
                "sandbox serve: POST that is not JSON (text/plain, form, none)",
                "415 with a JSON error; nothing created",
            ):
                headers = {"Content-Type": content_type} if content_type else {}
                resp = client.post("/v1/records", content=body, headers=headers)
                assert resp.status_code == 415, (content_type, resp.text)
                assert resp.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
        with report.case(AREA, "sandbox serve: loopback names and same-origin JSON still work", "served"):
            for host in ("localhost", f"localhost:{base.rsplit(':', 1)[1]}", "[::1]:1"):
                assert client.get("/v1/records", headers={"Host": host}).status_code == 200, host
            same = client.post(
                "/v1/records", json={"name": "legit2", "type": "attack"}, headers={"Origin": base}
            )
            assert same.status_code == 201, same.text
            assert _records(client, "planted") == 0, "no refused request created anything"
            assert _records(client, "legit") == 1


def test_the_csv_upload_still_takes_multipart(tmp_path: Path, report: Collector) -> None:
    with (
        report.case(AREA, "sandbox serve: CSV upload (multipart) is the one non-JSON POST", "accepted"),
        serving(tmp_path) as base,
        httpx2.Client(base_url=base, timeout=20) as client,
    ):
        resp = client.post(
            "/v1/records/upload-csv",
            files={"file": ("a.csv", b"name\nup1\n", "text/csv")},
            data={"nameColumn": "name", "typeValue": "attack"},
        )
        assert resp.status_code in (200, 201, 202), resp.text
        assert _records(client, "up1") == 1


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RUNTYPE_")}
    return subprocess.run(
        [sys.executable, "-m", "runtype_mcp", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sandbox_serve_refuses_a_public_bind_without_a_key_before_binding(report: Collector) -> None:
    with report.case(
        AREA,
        "sandbox serve --host 0.0.0.0 without RUNTYPE_API_KEY",
        "refused before binding, says how to fix",
    ):
        # If the refusal came after binding, this would serve (and the 60 s timeout would fail the test).
        done = _cli(["sandbox", "serve", "--host", "0.0.0.0", "--port", "1", "--db", ":memory:"], {})
        assert done.returncode != 0
        assert "refusing to serve the sandbox on 0.0.0.0 without a key" in done.stderr
        assert "RUNTYPE_API_KEY" in done.stderr and "Uvicorn running" not in done.stderr


def test_sandbox_serve_allows_a_public_bind_with_a_key() -> None:
    from runtype_mcp.sandbox.serve import check_bind

    check_bind("0.0.0.0", KEY)  # no exception: the key protects every endpoint
    check_bind("127.0.0.1", None)


@pytest.mark.parametrize("token", ["x", "team-token", "0123456789abcdef0123456789abcde", " " * 40 + "short"])
def test_a_short_http_token_is_refused_at_start(token: str, report: Collector) -> None:
    with report.case(
        AREA, "RUNTYPE_MCP_HTTP_TOKEN shorter than 32 characters", "refused at start with how to generate one"
    ):
        cfg = make_settings(mcp_http_token=token, transport="streamable-http")
        with pytest.raises(HTTPConfigError) as info:
            build_http_app(build_server(cfg, transport=FakeRuntype().transport()), cfg, "0.0.0.0")
        assert "at least 32" in str(info.value) and "openssl rand -hex 24" in str(info.value)
        if len(token.strip()) >= 8:
            assert token.strip() not in str(info.value), "the token itself is never echoed"


def test_the_cli_refuses_a_short_http_token_before_serving(report: Collector) -> None:
    with report.case(
        AREA, "RUNTYPE_MCP_HTTP_TOKEN shorter than 32 characters", "refused at start with how to generate one"
    ):
        done = _cli(
            ["--transport", "streamable-http", "--host", "0.0.0.0", "--port", "1", "--sandbox"],
            {"RUNTYPE_MCP_HTTP_TOKEN": "x"},
        )
        assert done.returncode == 2, done.stderr
        assert "secrets.token_hex(24)" in done.stderr


def test_a_long_enough_http_token_is_accepted() -> None:
    cfg = make_settings(mcp_http_token="a" * 32, transport="streamable-http")
    build_http_app(build_server(cfg, transport=FakeRuntype().transport()), cfg, "0.0.0.0")
