"""The team deployment of deploy/ on loopback: a shared API (the sandbox, served), two runtype-mcp
instances over streamable HTTP and nginx with the shipped config in front, over TLS.

Every process is started under `timeout`, so it stops by itself even if the test run is killed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx2

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "nginx"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
OPENSSL = shutil.which("openssl")
API_KEY = "rt_test_deploy_0123456789"
TOKEN = "team-token-" + "0123456789abcdef" * 3
LIFETIME = "900"  # seconds before any process of the stack stops by itself


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_listening(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited early with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not listen on {port} within {timeout} s") from None
            time.sleep(0.1)


def site_config(upstreams: list[int], port: int, cert: Path, key: Path) -> str:
    """The shipped site file with this test's ports and certificate: each replaced text must exist."""
    text = (DEPLOY / "runtype-mcp.conf").read_text(encoding="utf-8")
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in upstreams)
    swaps = [
        (r"    server 127\.0\.0\.1:8001 [^\n]*\n    server 127\.0\.0\.1:8002 [^\n]*\n", servers),
        (r"server \{\n    listen 80;.*?\n\}\n", ""),  # no plain-HTTP redirect in the test
        (r"    listen 443 ssl;\n    listen \[::\]:443 ssl;\n", f"    listen 127.0.0.1:{port} ssl;\n"),
        (r"/etc/letsencrypt/live/mcp\.example\.com/fullchain\.pem", str(cert)),
        (r"/etc/letsencrypt/live/mcp\.example\.com/privkey\.pem", str(key)),
    ]
    for pattern, replacement in swaps:
        text, count = re.subn(pattern, replacement, text, count=1, flags=re.S)
        assert count == 1, f"deploy/nginx/runtype-mcp.conf no longer contains {pattern!r}"
    return text


MAIN = """\
{user}worker_processes 2;
worker_rlimit_nofile 8192;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format upstream '$request_time $status $upstream_addr $http_mcp_method $http_mcp_name';
    access_log {dir}/access.log upstream;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    include conf.d/runtype-mcp.conf;
}}
"""


@dataclass
class Stack:
    dir: Path
    port: int
    instance_ports: list[int]
    api_url: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    files: list[IO[bytes]] = field(default_factory=list)

    def log_file(self, name: str) -> IO[bytes]:
        handle = (self.dir / "logs" / f"{name}.log").open("wb")
        self.files.append(handle)
        return handle

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/mcp"

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.dir / "cert.pem"))

    def http_client(self, **kw: object) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            verify=self.tls(), headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30, **kw
        )

    def stop(self, name: str) -> None:
        """Stop a process gracefully (SIGTERM: it finishes what it is doing) and wait for it."""
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def access_log(self) -> list[str]:
        path = self.dir / "access.log"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@contextmanager
def running_stack(base: Path, instances: int = 2, *, proxy: bool = True) -> Iterator[Stack]:
    """The API, the instances and (with `proxy`) nginx in front, all on loopback."""
    assert not proxy or (NGINX is not None and OPENSSL is not None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTYPE_")}
    stack = Stack(base, free_port(), [free_port() for _ in range(instances)])
    (base / "logs").mkdir()
    try:
        api_port = free_port()
        stack.procs["api"] = subprocess.Popen(
            [
                "timeout",
                LIFETIME,
                sys.executable,
                "-m",
                "runtype_mcp",
                "sandbox",
                "serve",
                "--port",
                str(api_port),
                "--db",
                str(base / "api.db"),
            ],
            env={**env, "RUNTYPE_API_KEY": API_KEY},
            stdout=subprocess.DEVNULL,
            stderr=stack.log_file("api"),
        )
        wait_listening(api_port, stack.procs["api"], "sandbox API")
        stack.api_url = f"http://127.0.0.1:{api_port}"
        for i, port in enumerate(stack.instance_ports):
            stack.procs[f"instance{i}"] = subprocess.Popen(
                [
                    "timeout",
                    LIFETIME,
                    sys.executable,
                    "-m",
                    "runtype_mcp",
                    "--transport",
                    "streamable-http",
                    "--port",
                    str(port),
                ],
                env={
                    **env,
                    "RUNTYPE_API_KEY": API_KEY,
                    "RUNTYPE_BASE_URL": f"http://127.0.0.1:{api_port}",
                    "RUNTYPE_MCP_HTTP_TOKEN": TOKEN,
                    "RUNTYPE_LOG_LEVEL": "WARNING",
                },
                stdout=subprocess.DEVNULL,
                stderr=stack.log_file(f"instance{i}"),
            )
        for i, port in enumerate(stack.instance_ports):
            wait_listening(port, stack.procs[f"instance{i}"], f"instance{i}")
        if not proxy:
            yield stack
            return
        cert, key = base / "cert.pem", base / "key.pem"
        subprocess.run(
            [
                OPENSSL,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        conf = base / "conf"
        (conf / "conf.d").mkdir(parents=True)
        (conf / "snippets").mkdir()
        for name in ("runtype-mcp-proxy.conf", "runtype-mcp-read-only.conf"):
            shutil.copy(DEPLOY / name, conf / "snippets" / name)
        (conf / "conf.d" / "runtype-mcp.conf").write_text(
            site_config(stack.instance_ports, stack.port, cert, key), encoding="utf-8"
        )
        user = "user root;\n" if os.geteuid() == 0 else ""
        (conf / "nginx.conf").write_text(MAIN.format(user=user, dir=base), encoding="utf-8")
        checked = subprocess.run(
            [NGINX, "-t", "-p", str(base), "-c", str(conf / "nginx.conf"), "-e", str(base / "error.log")],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert checked.returncode == 0, checked.stderr
        stack.procs["nginx"] = subprocess.Popen(
            [
                "timeout",
                LIFETIME,
                NGINX,
                "-p",
                str(base),
                "-c",
                str(conf / "nginx.conf"),
                "-e",
                str(base / "error.log"),
                "-g",
                "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=stack.log_file("nginx"),
        )
        wait_listening(stack.port, stack.procs["nginx"], "nginx")
        yield stack
    finally:
        for name in reversed(list(stack.procs)):
            stack.stop(name)
        for handle in stack.files:
            handle.close()
