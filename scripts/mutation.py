"""Mutation testing of one module: `scripts/mutation.sh MODULE` (see README, Development).

MODULE is a path under src/runtype_mcp, e.g. `errors.py` or `client/core.py`. The run happens in a
scratch copy of the work tree (src, tests, pyproject.toml, prompts, README.md), so the work tree and
git are never touched and editing code meanwhile cannot disturb it. In that copy:

- `[tool.mutmut]` gets `only_mutate` = the module and the tests listed for it in
  `[tool.runtype-mcp.mutation.tests]` (pyproject.toml): mutmut then runs, per mutant, only those
  of these tests that call the mutated function;
- functions decorated with a toolset's `@<name>.tool(...)` are rewritten to `f = <name>.tool(...)(f)`
  after the definition (same behaviour): mutmut 3 does not mutate decorated functions, and the
  bodies of the tools are what a user sees.

One worker (`--max-children 1`): the machine is shared. Prints the score, where mutants listed as
equivalent in scripts/mutation-equivalents.txt (with a reason) are left out of the count.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS = ROOT / "scripts" / "mutation-equivalents.txt"
COPY = ("src", "tests", "prompts", "pyproject.toml", "README.md")
# Exit codes of a detected mutant: a failing test, pytest error, timeout, killed by a signal, type check.
KILLED = {1, 3, 36, 37, -24, 24, 152, 255, -9, -11}
_TOOL_DECORATOR = re.compile(r"^@(\w+)\.tool\((.*?)\)\n((?:async )?def (\w+)\()", re.M | re.S)


def undecorate_tools(source: str) -> str:
    """`@records.tool(...)` + `async def f(` -> `async def f(` ... `f = records.tool(...)(f)`."""
    out, pos = [], 0
    for match in _TOOL_DECORATOR.finditer(source):
        toolset, args, head, name = match.groups()
        out.append(source[pos : match.start()] + head)
        # The function ends at the next top-level statement (a line starting without indentation).
        body_start = match.end()
        end = re.compile(r"^(?=[^\s#)])", re.M)
        nxt = end.search(source, source.index("\n", body_start) + 1)
        stop = nxt.start() if nxt else len(source)
        out.append(
            source[body_start:stop].rstrip("\n") + f"\n\n\n{name} = {toolset}.tool({args})({name})\n\n\n"
        )
        pos = stop
    out.append(source[pos:])
    return "".join(out)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def prepare(work: Path, module: str, tests: list[str]) -> None:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "mutants")
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, work / name)
    target = work / "src" / "runtype_mcp" / module
    target.write_text(undecorate_tools(target.read_text()))
    text = (work / "pyproject.toml").read_text()
    base = tomllib.loads(text)["tool"].get("mutmut", {})
    base.update(only_mutate=[f"src/runtype_mcp/{module}"], pytest_add_cli_args_test_selection=tests)
    section = re.compile(r"^\[tool\.mutmut\]\n(?:(?!^\[).*\n?)*", re.M)
    text = section.sub("", text)
    text += "\n[tool.mutmut]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in base.items())
    (work / "pyproject.toml").write_text(text)


def equivalents() -> dict[str, str]:
    out = {}
    if EQUIVALENTS.exists():
        for line in EQUIVALENTS.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                out[name] = reason.strip()
    return out


def summarise(work: Path, module: str, seconds: float) -> dict[str, object]:
    meta = work / "mutants" / "src" / "runtype_mcp" / f"{module}.meta"
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    known = equivalents()
    equivalent = sorted(k for k in codes if k in known)
    killed = sorted(k for k, c in codes.items() if c in KILLED and k not in known)
    survivors = sorted(k for k, c in codes.items() if c not in KILLED and k not in known)
    counted = len(codes) - len(equivalent)
    score = 100.0 * len(killed) / counted if counted else 100.0
    return {
        "module": module,
        "mutants": len(codes),
        "killed": len(killed),
        "survivors": survivors,
        "survivor_codes": {k: codes[k] for k in survivors},
        "equivalent": equivalent,
        "score": round(score, 1),
        "seconds": round(seconds),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", help="a path under src/runtype_mcp, e.g. errors.py or client/core.py")
    parser.add_argument(
        "--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "runtype-mutation"
    )
    parser.add_argument("--show", action="store_true", help="print the diff of each survivor")
    parser.add_argument(
        "--again",
        action="store_true",
        help="after adding tests: copy the tests into the last run's copy and retest only its survivors",
    )
    args = parser.parse_args()
    module = args.module.removeprefix("src/runtype_mcp/")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    table = config["tool"]["runtype-mcp"]["mutation"]["tests"]
    if module not in table:
        print(f"no tests listed for {module} in [tool.runtype-mcp.mutation.tests]: {', '.join(table)}")
        return 2
    work = args.work / module.replace("/", "_").removesuffix(".py")
    again: list[str] = []
    if args.again:
        again = json.loads((work / "summary.json").read_text())["survivors"]
        if (ROOT / "src" / "runtype_mcp" / module).read_text() != (work / "source.py").read_text():
            print(f"{module} changed since the last run: run it in full")
            return 2
        shutil.rmtree(work / "tests")
        shutil.copytree(ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    else:
        prepare(work, module, table[module])
        shutil.copy2(ROOT / "src" / "runtype_mcp" / module, work / "source.py")
    started = time.monotonic()
    mutmut = [sys.executable, "-m", "mutmut"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    print(f"mutating src/runtype_mcp/{module} in {work} (log: {work / 'mutmut.log'})", flush=True)
    with (work / "mutmut.log").open("a" if again else "w") as log:
        command = [*mutmut, "run", "--max-children", "1", *again]
        run = subprocess.run(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    summary = summarise(work, module, time.monotonic() - started) if run.returncode == 0 else None
    if summary is None:
        print(f"mutmut failed (exit {run.returncode}); its files are in {work}")
        return 1
    (work / "summary.json").write_text(json.dumps(summary, indent=2))
    print(
        f"\n{module}: {summary['mutants']} mutants, {summary['killed']} killed, "
        f"{len(summary['survivors'])} survived, {len(summary['equivalent'])} equivalent "  # type: ignore[arg-type]
        f"-> score {summary['score']}% in {summary['seconds']} s"
    )
    for name in summary["survivors"]:  # type: ignore[attr-defined]
        print("  survived:", name)
        if args.show:
            subprocess.run([*mutmut, "show", name], cwd=work, env=env, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
