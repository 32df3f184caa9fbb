"""The command line: version, settings errors, check."""

from __future__ import annotations

import os
import subprocess
import sys

from runtype_mcp import __version__


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RUNTYPE_")}
    return subprocess.run(
        [sys.executable, "-m", "runtype_mcp", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=60,
        check=False,
    )


def test_version_prints_package_version() -> None:
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"runtype-mcp {__version__}"


def test_bad_setting_names_the_variable_and_exits_2() -> None:
    done = run("check", RUNTYPE_TOOLSETS="records,bogus")
    assert done.returncode == 2
    assert "RUNTYPE_TOOLSETS" in done.stderr and "records, flows" in done.stderr


def test_bad_base_url_is_explained() -> None:
    done = run("check", RUNTYPE_BASE_URL="api.runtype.com")
    assert done.returncode == 2 and "must start with http" in done.stderr


def test_check_without_key_says_how_to_set_it() -> None:
    done = run("check")
    assert done.returncode == 1
    assert "RUNTYPE_API_KEY" in done.stderr and "--sandbox" in done.stderr


def test_check_against_unreachable_host_fails_with_one_clear_line() -> None:
    done = run(
        "check", RUNTYPE_API_KEY="rt_test_x", RUNTYPE_BASE_URL="http://127.0.0.1:9", RUNTYPE_TIMEOUT="2"
    )
    assert done.returncode == 1
    assert "could not be reached" in done.stderr
    assert "rt_test_x" not in done.stderr + done.stdout
