"""Docs that match the code: the README's commands, tools table and server.json."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import pytest

from runtype_mcp.config import Settings
from runtype_mcp.server import selected_tools

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SCHEMA = ROOT.parent / "shared" / "schemas" / "server.schema.2025-12-11.json"


def _kind(read_only: bool | None, destructive: bool | None) -> str:
    if read_only:
        return "read-only"
    return "destructive" if destructive else "additive"


def render_tools_table() -> str:
    rows = ["| tool | toolset | kind | what it does |", "| --- | --- | --- | --- |"]
    for spec in selected_tools(Settings()):
        paragraph = " ".join((spec.fn.__doc__ or "").strip().split("\n\n")[0].split())
        first = re.split(r"(?<=[.;])\s", paragraph)[0].rstrip(";.") + "."
        ann = spec.annotations
        rows.append(
            f"| `{spec.name}` | {spec.toolset} | {_kind(ann.read_only_hint, ann.destructive_hint)} | {first} |"
        )
    return "\n".join(rows)


def test_readme_tools_table_matches_the_server() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- tools:start -->\n(.*?)\n<!-- tools:end -->", text, re.S)
    assert block, "README lost its tools markers"
    expected = render_tools_table()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        README.write_text(text.replace(block.group(1), expected), encoding="utf-8")
        return
    assert block.group(1) == expected, (
        "README tools table is stale: run UPDATE_SNAPSHOTS=1 pytest tests/test_readme.py"
    )


def test_readme_opens_with_the_two_commands_and_ci_runs_the_same_test_command() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)\n```", text, re.S)
    assert first_block is not None
    run_cmd, test_cmd = first_block.group(1).splitlines()
    assert "runtype-mcp --sandbox" in run_cmd
    checks = test_cmd.split('.venv/bin/pip install -e ".[dev]" && ', 1)[1]
    assert checks in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_server_json_is_valid_and_versions_agree() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads((ROOT / "server.json").read_text(encoding="utf-8"))
    if not SCHEMA.exists():
        pytest.skip(f"registry schema not found at {SCHEMA} (shared/ sits beside the repo in CI)")
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(doc)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert doc["version"] == version
    assert all(p["version"] == version for p in doc["packages"])
    assert len(doc["description"]) <= 100
    assert f"mcp-name: {doc['name']}" in README.read_text(encoding="utf-8")
    key = next(v for v in doc["packages"][0]["environmentVariables"] if v["name"] == "RUNTYPE_API_KEY")
    assert key["isSecret"] is True
