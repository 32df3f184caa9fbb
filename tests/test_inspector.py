"""An outside, non-Python client: the MCP Inspector CLI against `runtype-mcp --sandbox`.

Installed by `.ci/inspector.sh` into .tools/inspector (CI runs it when npm exists).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fence import shown as shown_text

ROOT = Path(__file__).resolve().parent.parent
INSPECTOR = ROOT / ".tools" / "inspector" / "node_modules" / ".bin" / "mcp-inspector"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not INSPECTOR.exists(),
    reason="MCP Inspector CLI not installed: needs Node and `bash .ci/inspector.sh` (CI does both when npm exists)",
)


def inspector(*args: str) -> subprocess.CompletedProcess[str]:
    target = [sys.executable, "-m", "runtype_mcp", "--sandbox", "--sandbox-db", ":memory:"]
    return subprocess.run(
        [str(INSPECTOR), "--cli", *target, "--", *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_inspector_lists_tools_with_portable_schemas(era: str) -> None:
    done = inspector("--method", "tools/list", "--strict", "--protocol-era", era)
    assert done.returncode == 0, done.stderr[-2000:]
    names = {t["name"] for t in json.loads(done.stdout)["result"]["tools"]}
    assert {"list_records", "create_record", "run_flow_on_record_type", "get_batch_status"} <= names


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_inspector_calls_a_tool(era: str) -> None:
    done = inspector(
        "--method",
        "tools/call",
        "--tool-name",
        "list_records",
        "--tool-arg",
        "limit=2",
        "--protocol-era",
        era,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)["result"]
    assert shown_text(result["content"][0]["text"])["count"] == 2


def test_inspector_sees_a_tool_error_as_an_error() -> None:
    done = inspector(
        "--method", "tools/call", "--tool-name", "get_record", "--tool-arg", "record_id=rec_missing"
    )
    assert done.returncode == 5, "exit 5 means the tool answered isError: true"


def test_inspector_lists_prompts_and_resource_templates() -> None:
    prompts = inspector("--method", "prompts/list")
    templates = inspector("--method", "resources/templates/list")
    assert prompts.returncode == 0 and templates.returncode == 0
    assert len(json.loads(prompts.stdout)["result"]["prompts"]) >= 4
    uris = {t["uriTemplate"] for t in json.loads(templates.stdout)["result"]["resourceTemplates"]}
    assert "runtype://records/{record_id}" in uris
