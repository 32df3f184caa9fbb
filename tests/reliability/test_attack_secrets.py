"""An upstream that echoes the secrets everywhere cannot get them out of the server.

The upstream (FakeRuntype behind `Echo`) writes the key, the forwarded key and the credentials of
RUNTYPE_BASE_URL into every name, metadata value and key, id, long string (placed so the 60, 100,
200, 240 and 300 character cuts fall inside a secret), error, `suggestion`, `details[].path`,
`code` and header; once as plain JSON and once with the secrets written as `\\uXXXX` escapes, which
the ingress byte scrub cannot see, so only the door (`door.ScrubMiddleware`) stands between them
and the client. Every byte the client receives is checked: no secret, and no 8-character window of
the key's random part (or of a password), appears - in results, links, resource contents, prompt
results, elicitation questions, protocol errors and the `check` command's output.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitResult

from runtype_mcp.check import check
from runtype_mcp.client import RuntypeClient
from runtype_mcp.config import Settings
from runtype_mcp.errors import TransportFailure
from runtype_mcp.http_app import build_http_app
from runtype_mcp.logs import configure_logging
from runtype_mcp.server import build_server
from tests.fakes import API_KEY
from tests.reliability.catalog import TOOLS
from tests.reliability.conftest import Collector
from tests.reliability.harness import World, WorldFake, prepare

pytestmark = pytest.mark.anyio
AREA = "Secrets at the door"
TOKEN = "@@SECRET{}@@"
CUTS = (60, 100, 200, 240, 300)
STATUSES = (400, 401, 403, 404, 409, 422, 429, 500, 502)
_SKIP = re.compile(r"(?:.*At|status|type|mimeType|nextCursor|cursor|role|kind|format|mode)$")


def new_key() -> str:
    return f"rt_test_{uuid.uuid4().hex}"


def windows(secret: str) -> set[str]:
    """What must never show: the secret, and every 8 characters of its random part."""
    random = secret.removeprefix("rt_test_").removeprefix("rt_live_")
    return {secret} | {random[i : i + 8] for i in range(len(random) - 7)}


def leaks(seen: str, secrets: list[str]) -> list[str]:
    return sorted({w for s in secrets for w in windows(s) if w in seen})


class Echo(httpx2.AsyncBaseTransport):
    """Poisons every upstream answer with the secrets; `fail` answers the main request with an error.

    The key it echoes is the one the request carried (so a forwarded key comes straight back);
    the request reaches the fake with the fake's own key."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, extra: list[str]) -> None:
        self.inner, self.extra = inner, extra
        self.key: str | None = None  # None: echo the bearer each request carried (a forwarded key)
        self.escaped = False
        self.fail: tuple[str, str, int] | None = None  # method, path regex after /v1, status
        self.poisoned = 0

    def long(self, n: int) -> str:
        """Secrets placed so that every usual cut lands inside one of them, at another offset each."""
        n %= 1 + len(self.extra)
        parts, pos = [], 0
        for i, cut in enumerate(CUTS):
            start = cut - 1 - (12 + 3 * i) - pos  # leaves 12, 15, 18, ... characters before the cut
            parts.append("." * max(start, 1) + TOKEN.format(n))
            pos += max(start, 1) + 40
        return "".join(parts)

    def poison(self, value: Any, key: str | None = None) -> Any:
        n = self.poisoned % (1 + len(self.extra))  # cycle through the secrets (0: the key)
        self.poisoned += 1
        if isinstance(value, dict):
            out = {k: self.poison(v, k) for k, v in value.items()}
            if isinstance(value.get("metadata"), dict):
                out["metadata"] |= {TOKEN.format(0): self.long(n), "note": TOKEN.format(n)}
            return out
        if isinstance(value, list):
            return [self.poison(v, key) for v in value]
        if isinstance(value, str) and key is not None and not _SKIP.match(key):
            if key == "id" or key.endswith("Id"):
                return value + TOKEN.format(0)
            return value + " " + self.long(n)
        return value

    def render(self, body: Any, key: str) -> bytes:
        raw = json.dumps(body)
        for i, secret in enumerate([key, *self.extra]):
            shown = "".join(f"\\u{ord(c):04x}" for c in secret) if self.escaped else secret
            raw = raw.replace(TOKEN.format(i), shown)
        return raw.encode()

    def error(self, status: int, key: str) -> httpx2.Response:
        headers = {"X-Request-Id": key, "Retry-After": key, "WWW-Authenticate": f'Bearer error="{key}"'}
        if status == 502:
            return httpx2.Response(
                status,
                text=f"<html>bad gateway {key} {self.long(0)}</html>".replace(TOKEN.format(0), key),
                headers=headers,
            )
        detail = {
            "path": ["metadata", TOKEN.format(0) + self.long(1)],
            "message": self.long(0),
            "suggestion": self.long(1),
            "code": "INVALID_ENUM",
        }
        body = {
            "error": self.long(0),
            "message": self.long(1),
            "code": "E_" + TOKEN.format(0),
            "details": [
                detail,
                {"path": TOKEN.format(0), "code": "UNRECOGNIZED_KEYS", "keys": [self.long(0)]},
            ],
            "reasons": [self.long(0)],
            "existingRecordId": "rec_" + TOKEN.format(0),
        }
        return httpx2.Response(
            status, content=self.render(body, key), headers={**headers, "content-type": "application/json"}
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        key = self.key or request.headers.get("authorization", "").removeprefix("Bearer ")
        request.headers["authorization"] = f"Bearer {API_KEY}"
        if self.fail is not None:
            method, path, status = self.fail
            if request.method == method and re.fullmatch(f"/v1{path}", request.url.path):
                return self.error(status, key)
        resp = await self.inner.handle_async_request(request)
        raw = await resp.aread()
        headers = {"X-Request-Id": key, "Set-Cookie": f"s={key}"}
        if "json" not in resp.headers.get("content-type", ""):
            return httpx2.Response(resp.status_code, content=raw, headers={**resp.headers, **headers})
        body = self.render(self.poison(json.loads(raw)), key)
        return httpx2.Response(
            resp.status_code, content=body, headers={**headers, "content-type": "application/json"}
        )


@asynccontextmanager
async def world(tmp: Path, extra: list[str]) -> AsyncIterator[tuple[Echo, World]]:
    fake = WorldFake()  # FakeRuntype plus the flow-reference and batch endpoints
    async with httpx2.AsyncClient(
        transport=fake.transport(),
        base_url="http://runtype.test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as direct:
        from tests.reliability.harness import Backend, CountingTransport

        be = Backend("fake", CountingTransport(fake.transport()), direct, fake=fake)
        w = await prepare(be, tmp)
        yield Echo(be.counter, extra), w


def base_url(password: str) -> str:
    return f"http://admin:{password}@runtype.test"


async def seen_by_client(client: Client, tool: str, args: dict[str, Any]) -> str:
    try:
        with anyio.fail_after(20):
            res = await client.call_tool(tool, args)
    except Exception as exc:  # a protocol error is also something the client sees
        return repr(exc)
    return res.model_dump_json(by_alias=True)


def variants() -> list[tuple[str, bool, int]]:
    """(label, escaped, status): 200 echoes both ways, every error status plain, some escaped."""
    out = [("200 echo", False, 200), ("200 echo, escaped", True, 200)]
    out += [(f"{s} echo", False, s) for s in STATUSES]
    out += [(f"{s} echo, escaped", True, s) for s in (400, 404, 500)]
    return out


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_no_tool_lets_an_echoed_secret_out_in_any_answer_or_error(
    mode: str, tmp_path: Path, fast_retries: None, report: Collector
) -> None:
    key, password = new_key(), uuid.uuid4().hex[:20]
    extra = [password, f"admin:{password}"]
    redacted = 0
    held = "no secret and no 8-character window of one in any byte the client received"
    cfg = Settings(api_key=key, base_url=base_url(password), tool_timeout=15, max_retry_wait=0.5)
    for tool, case in TOOLS.items():
        # Error answers change nothing: one world serves them all; a 200 echo may (a delete), so each
        # gets its own.
        groups = [[v for v in variants() if v[2] != 200]] + [[v] for v in variants() if v[2] == 200]
        for group in groups:
            async with world(tmp_path, extra) as (echo, w):
                server = build_server(cfg, transport=echo)
                async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
                    for label, escaped, status in group:
                        with report.case(
                            AREA, f"every tool, upstream echoing the secrets ({mode} protocol)", held
                        ):
                            echo.escaped, echo.key = escaped, key
                            echo.fail = (*case.main, status) if status != 200 else None
                            seen = await seen_by_client(client, tool, case.args(w))
                            assert leaks(seen, [key, *extra]) == [], f"{tool} / {label}: {seen[:2000]}"
                            redacted += "[REDACTED]" in seen
    assert redacted > len(TOOLS) * len(variants()) // 2, "the echo mostly reached the output (scrubbed)"


async def test_resources_and_links_carry_no_echoed_secret(
    tmp_path: Path, fast_retries: None, report: Collector
) -> None:
    key = new_key()
    held = "resource contents, resource errors and link names/URIs hold no secret"
    async with world(tmp_path, []) as (echo, w):
        uris = [
            (f"runtype://records/{w.record_id}", "GET", r"/records/[^/]+"),
            (f"runtype://flows/{w.flow_id}", "GET", r"/flows/[^/]+"),
            (f"runtype://record-types/{w.record_type}/schema", "GET", r"/records/schema"),
        ]
        server = build_server(Settings(api_key=key, base_url="http://runtype.test"), transport=echo)
        for mode in ("auto", "legacy"):
            async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
                for uri, method, path in uris:
                    for escaped, status in [
                        (False, 200),
                        (True, 200),
                        (False, 404),
                        (True, 500),
                        (True, 403),
                    ]:
                        with report.case(AREA, "resource templates read with the upstream echoing", held):
                            echo.escaped = escaped
                            echo.fail = (method, path, status) if status != 200 else None
                            try:
                                seen = (await client.read_resource(uri)).model_dump_json()
                                assert "[REDACTED]" in seen
                            except Exception as exc:
                                seen = repr(exc) + repr(getattr(exc, "error", None))
                                assert status == 404 or "REDACTED" in seen, seen  # a 404 quotes nothing
                            assert leaks(seen, [key]) == [], seen
                echo.fail = None
                for escaped in (False, True):
                    with report.case(AREA, "resource links of get_record / create_record (name, uri)", held):
                        echo.escaped = escaped
                        res = await client.call_tool("get_record", {"record_id": w.record_id})
                        links = [c for c in res.content if c.type == "resource_link"]
                        assert links, "get_record links its record"
                        seen = res.model_dump_json()
                        assert leaks(seen, [key]) == [] and "[REDACTED]" in seen


async def test_prompt_results_pass_the_door(report: Collector) -> None:
    key = new_key()
    server = build_server(Settings(api_key=key, base_url="http://runtype.test"))
    async with Client(server) as client:  # type: ignore[arg-type]
        prompts = (await client.list_prompts()).prompts
        assert len(prompts) >= 4
        for prompt in prompts:
            with report.case(
                AREA, "every prompt, with the key in every argument", "key scrubbed from the result"
            ):
                args = {a.name: f"x {key} {'.' * 40}{key[:20]}" for a in prompt.arguments or []}
                seen = (await client.get_prompt(prompt.name, args)).model_dump_json()
                assert leaks(seen, [key]) == [] and "[REDACTED]" in seen


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_confirmation_question_carries_no_echoed_secret(
    mode: str, tmp_path: Path, report: Collector
) -> None:
    key = new_key()
    asked: list[str] = []

    async def answer(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.model_dump_json())
        return ElicitResult(action="decline")

    with report.case(
        AREA, "delete_record's confirmation dialog (record name echoed)", "no secret in the question"
    ):
        async with world(tmp_path, []) as (echo, w):
            echo.escaped = True  # past the ingress scrub: only the door and the dialog's own scrub hold
            server = build_server(Settings(api_key=key, base_url="http://runtype.test"), transport=echo)
            async with Client(server, mode=mode, elicitation_callback=answer) as client:  # type: ignore[arg-type]
                seen = await seen_by_client(
                    client, "delete_record", {"record_id": w.record_id, "confirm": True}
                )
        assert asked and "[REDACTED]" in asked[0]
        assert leaks(seen + "".join(asked), [key]) == []


async def test_an_upstream_body_is_scrubbed_as_it_arrives_before_anything_parses_or_cuts_it(
    report: Collector,
) -> None:
    held = "parsed body and connection-error text hold no secret, even a start cut by the upstream"
    with report.case(
        AREA, "ingress: the key in a body (whole, cut, as a key) and in a connection error", held
    ):
        key = new_key()

        def upstream(request: httpx2.Request) -> httpx2.Response:
            if request.method == "POST":
                raise httpx2.ConnectError(f"proxy refused 'Bearer {key}'", request=request)
            body = {"id": "r", "name": key[:14] + "…", "metadata": {key: f"{key}{key}"}}
            return httpx2.Response(200, json=body)

        settings = Settings(api_key=key, base_url="http://runtype.test", retry_attempts=1)
        async with RuntypeClient.build_http(settings, httpx2.MockTransport(upstream)) as http:
            client = RuntypeClient(http, settings)
            resp = await client.request("GET", "/records/r")
            with pytest.raises(TransportFailure) as failure:
                await client.request("POST", "/records")
        assert resp.body == {
            "id": "r",
            "name": "[REDACTED]…",
            "metadata": {"[REDACTED]": "[REDACTED][REDACTED]"},
        }
        assert "[REDACTED]" in failure.value.reason and leaks(failure.value.reason, [key]) == []


class Recorder(httpx2.AsyncBaseTransport):
    """The raw bytes of every HTTP response the MCP server sent."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner, self.raw = inner, bytearray()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        resp = await self.inner.handle_async_request(request)
        body = await resp.aread()
        self.raw += str(resp.headers).encode() + body
        return httpx2.Response(resp.status_code, headers=resp.headers, content=body)


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # auto: the 2026 per-request path (serve_one)
async def test_forward_key_mode_never_sends_back_the_callers_key(
    mode: str, tmp_path: Path, fast_retries: None, report: Collector
) -> None:
    key = new_key()  # the caller's own key, forwarded; the server has none configured
    held = "the forwarded key (echoed back by the upstream) absent from every HTTP response byte and log"
    logs = io.StringIO()
    configure_logging("DEBUG", "json", [], stream=logs)  # no configured secret: only the forwarded one
    try:
        await _forward_key_session(key, held, tmp_path, report, mode)
    finally:
        configure_logging("WARNING", "json", stream=io.StringIO())
    assert '"tool.call"' in logs.getvalue() and leaks(logs.getvalue(), [key]) == []


async def _forward_key_session(key: str, held: str, tmp_path: Path, report: Collector, mode: str) -> None:
    async with world(tmp_path, []) as (echo, w):
        cfg = Settings(
            api_key=None,
            base_url="http://runtype.test",
            mcp_forward_key=True,
            transport="streamable-http",
            tool_timeout=15,
            max_retry_wait=0.5,
        )
        server = build_server(cfg, transport=echo)
        app = build_http_app(server, cfg, "127.0.0.1")
        recorder = Recorder(httpx2.ASGITransport(app=app))
        async with (
            server.session_manager.run(),
            httpx2.AsyncClient(
                transport=recorder,
                base_url="http://127.0.0.1:8000",
                headers={"Authorization": f"Bearer {key}"},
            ) as http,
            Client(
                streamable_http_client("http://127.0.0.1:8000/mcp", http_client=http), mode=mode
            ) as client,  # type: ignore[arg-type]
        ):
            echo.fail = ("GET", "/flows/[^/]+", 500)
            for uri in (f"runtype://records/{w.record_id}", f"runtype://flows/{w.flow_id}"):
                with report.case(
                    AREA, "a resource read (content, error) over HTTP in forward-key mode", held
                ):
                    mark = len(recorder.raw)
                    with contextlib.suppress(Exception):  # the flow read fails: its error is checked too
                        await client.read_resource(uri)
                    seen = recorder.raw[mark:].decode("utf-8", errors="replace")
                    assert "[REDACTED]" in seen and leaks(seen, [key]) == []
            echo.fail = None
            for tool, case in TOOLS.items():
                args = {k: v for k, v in case.args(w).items() if k != "path"}
                for escaped, status in [(False, 200), (True, 200), (False, 500), (True, 400)]:
                    with report.case(
                        AREA, f"every tool over streamable HTTP in forward-key mode ({mode} protocol)", held
                    ):
                        echo.escaped = escaped
                        echo.fail = (*case.main, status) if status != 200 else None
                        mark = len(recorder.raw)
                        await seen_by_client(client, tool, args)
                        seen = recorder.raw[mark:].decode("utf-8", errors="replace")
                        assert leaks(seen, [key]) == [], f"{tool}: {seen[:2000]}"


def _check_upstream(body: Any, status: int = 200, exc: str | None = None) -> httpx2.MockTransport:
    def handle(request: httpx2.Request) -> httpx2.Response:
        if exc is not None:
            raise httpx2.ConnectError(exc, request=request)
        return httpx2.Response(status, json=body)

    return httpx2.MockTransport(handle)


async def test_check_prints_no_secret_whatever_the_upstream_echoes(
    capsys: pytest.CaptureFixture[str], report: Collector
) -> None:
    key, password = new_key(), uuid.uuid4().hex[:20]
    url = f"https://admin:{password}@api.runtype.test"
    echoes = f"{key} admin:{password} {'.' * 30}{key[:30]} {password}"
    cases: list[tuple[str, httpx2.MockTransport, int]] = [
        ("email and id echo the key", _check_upstream({"user": {"email": echoes, "id": key}}), 0),
        ("401 error echoes the key", _check_upstream({"error": echoes}, 401), 1),
        ("500 error echoes the credentials", _check_upstream({"error": echoes, "message": echoes}, 500), 1),
        ("connection error text carries the URL", _check_upstream(None, exc=f"cannot reach {url} {key}"), 1),
    ]
    settings = Settings(api_key=key, base_url=url, retry_attempts=1)
    for label, transport, code in cases:
        with report.case(
            AREA, f"runtype-mcp check: {label}, credentials in RUNTYPE_BASE_URL", "nothing secret printed"
        ):
            assert await check(settings, transport) == code
            out = capsys.readouterr()
            printed = out.out + out.err
            assert "https://api.runtype.test" in printed and "admin:" not in printed, printed
            assert leaks(printed, [key, password]) == [], printed


def test_the_check_command_prints_runtype_base_url_without_its_credentials(report: Collector) -> None:
    held = "target shown as http://host:port, no password or user:password anywhere"
    with report.case(AREA, "runtype-mcp check (subprocess) with credentials in RUNTYPE_BASE_URL", held):
        key, password = new_key(), uuid.uuid4().hex[:20]
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTYPE_")}
        env |= {
            "RUNTYPE_API_KEY": key,
            "RUNTYPE_BASE_URL": f"http://admin:{password}@127.0.0.1:9",
            "RUNTYPE_TIMEOUT": "2",
            "RUNTYPE_LOG_LEVEL": "DEBUG",
        }
        done = subprocess.run(
            [sys.executable, "-m", "runtype_mcp", "check"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        printed = done.stdout + done.stderr
        assert done.returncode == 1 and "FAILED: http://127.0.0.1:9" in printed, printed
        assert "admin" not in printed and leaks(printed, [key, password]) == [], printed
