#!/usr/bin/env bash
# Mutation testing of one module, e.g. `scripts/mutation.sh errors.py` or `scripts/mutation.sh client/core.py`.
# Needs the `mutation` extra (pip install -e '.[dev,mutation]'); runs in a scratch copy with one worker.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || python=python3
exec "$python" "$root/scripts/mutation.py" "$@"
