"""The wheel as users get it (`uvx runtype-mcp`, `pipx install runtype-mcp`): built from this tree,
installed with its dependencies into a fresh virtualenv, and started from there over stdio, away
from the source tree. Dependencies come from PyPI: without network the test is skipped, saying so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parent.parent
NO_NETWORK = (
    "Could not find a version",
    "No matching distribution",
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "ConnectTimeout",
    "ReadTimeout",
)
PIP_QUIET = ["--quiet", "--disable-pip-version-check", "--timeout", "30", "--retries", "2"]


def run(*cmd: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def skip_if_offline(done: subprocess.CompletedProcess[str], what: str) -> None:
    if done.returncode != 0 and any(marker in done.stderr + done.stdout for marker in NO_NETWORK):
        pytest.skip(f"{what} needs PyPI, which is not reachable here: {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, f"{what} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the fresh venv's bin directory with runtype-mcp installed from it)."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    built = run(sys.executable, "-m", "pip", "wheel", *PIP_QUIET, "--no-deps", "-w", dist, ROOT, cwd=base)
    skip_if_offline(built, "building the wheel (hatchling)")
    (wheel,) = dist.glob("runtype_mcp-*.whl")
    venv = base / "venv"
    made = run(sys.executable, "-m", "venv", venv, cwd=base)
    assert made.returncode == 0, made.stderr
    bin_dir = venv / "bin"
    installed = run(bin_dir / "python", "-m", "pip", "install", *PIP_QUIET, wheel, cwd=base)
    skip_if_offline(installed, "installing the wheel's dependencies")
    return wheel, bin_dir


def test_the_wheel_ships_the_tool_manifest_and_the_prompts(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("runtype_mcp/tools_manifest.json"))
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    shipped_prompts = {n.rsplit("/", 1)[1] for n in names if n.startswith("runtype_mcp/prompts/")}
    assert shipped_prompts == {p.name for p in (ROOT / "prompts").glob("*.md")}
    assert {"stdio", "streamable-http"} <= set(manifest)
    assert "runtype_mcp/py.typed" in names
    assert "runtype-mcp = runtype_mcp.__main__:main" in entry_points
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


def test_the_installed_server_is_the_wheels_own_code(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, bin_dir = installed
    where = run(bin_dir / "python", "-c", "import runtype_mcp; print(runtype_mcp.__file__)", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(bin_dir.parent)


@pytest.mark.anyio
async def test_the_installed_command_serves_tools_prompts_and_calls(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, bin_dir = installed
    params = StdioServerParameters(
        command=str(bin_dir / "runtype-mcp"),
        args=["--sandbox", "--sandbox-db", ":memory:"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "RUNTYPE_FILES_DIR": str(tmp_path)},
        cwd=str(tmp_path),
    )
    with anyio.fail_after(120):
        async with Client(params) as client:  # type: ignore[arg-type]
            tools = {t.name for t in (await client.list_tools()).tools}
            prompt = await client.get_prompt("enrich_records", {"record_type": "customer", "goal": "a tier"})
            listed = await client.call_tool("list_records", {"limit": 2})
    assert {"list_records", "create_flow", "run_flow"} <= tools
    assert "discover_record_schema" in prompt.messages[0].content.text  # type: ignore[union-attr]
    assert not listed.is_error and listed.structured_content is not None
    assert len(listed.structured_content["records"]) == 2
