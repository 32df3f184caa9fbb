#!/usr/bin/env bash
# Create bench/.venv-alt with an OpenAPI-to-MCP generator (fastmcp) for part 5 of bench/run.py.
# It is a separate venv on purpose: the generator may pull `httpx`, which must never sit beside
# httpx2 in the project venv. Nothing in the project's tests or CI needs it.
#   bash bench/setup_alt.sh            # default: fastmcp 4.1.0, pinned for comparable figures
#   (4.1.4 and 4.1.6 need certifi>=2026.10.19, which was not yet installable here on 2026-11-22)
#   FASTMCP_VERSION=4.1.0 PYTHON=python3.11 bash bench/setup_alt.sh
set -euo pipefail
cd "$(dirname "$0")"

PY="${PYTHON:-python3}"
VERSION="${FASTMCP_VERSION:-4.1.0}"
"$PY" -m venv .venv-alt
.venv-alt/bin/python -m pip install --quiet --upgrade pip
.venv-alt/bin/python -m pip install --quiet "fastmcp==${VERSION}"
.venv-alt/bin/python -c "import fastmcp; print('bench/.venv-alt ready: fastmcp', fastmcp.__version__)"
