#!/usr/bin/env bash
# Installs the MCP Inspector CLI (an outside, non-Python MCP client) into .tools/inspector, pinned.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.tools/inspector
if [ -x "$dir/node_modules/.bin/mcp-inspector" ]; then exit 0; fi
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error @modelcontextprotocol/inspector@2.12.0 >/dev/null
