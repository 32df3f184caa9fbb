"""CLI: `runtype-mcp [flags]` serves MCP; `runtype-mcp check`; `runtype-mcp sandbox serve`.

Flags override their RUNTYPE_* environment variables. stdout is left to the protocol.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from runtype_mcp import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runtype-mcp",
        description="MCP server for Runtype records and flows. Configure with RUNTYPE_* env vars or flags.",
    )
    parser.add_argument("--version", action="version", version=f"runtype-mcp {__version__}")
    parser.add_argument(
        "--sandbox", action="store_true", default=None, help="serve the offline sandbox (no key)"
    )
    parser.add_argument("--sandbox-db", metavar="PATH", help="sandbox SQLite file (':memory:' allowed)")
    parser.add_argument("--read-only", action="store_true", default=None, help="expose read-only tools only")
    parser.add_argument("--toolsets", metavar="A,B", help="toolsets to expose: records,flows (default all)")
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    parser.add_argument(
        "--files-dir",
        metavar="PATH",
        help="the only folder file tools may read or write (stdio; default: runtype-mcp in Documents)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="HTTP host (streamable-http only)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (streamable-http only)")
    parser.add_argument(
        "--forward-client-key",
        action="store_true",
        default=None,
        help="streamable-http: use each client's bearer as its Runtype key (RUNTYPE_MCP_FORWARD_KEY)",
    )
    parser.add_argument(
        "--protocol-era",
        choices=["auto", "legacy"],
        help="stdio: 'legacy' refuses 2026-07-28 requests so clients use the initialize handshake",
    )
    parser.add_argument("--log-level", help="DEBUG, INFO (default), WARNING, ERROR")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("check", help="verify the API key and connectivity, print one line")
    sandbox = sub.add_parser("sandbox", help="the offline sandbox API")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_sub.add_parser("serve", help="run the sandbox as a standalone HTTP API")
    serve.add_argument("--host", dest="sb_host", default="127.0.0.1")
    serve.add_argument("--port", dest="sb_port", type=int, default=8787)
    serve.add_argument("--db", dest="sb_db", metavar="PATH", help="SQLite file (default: user data dir)")
    return parser


def _settings(args: argparse.Namespace) -> Any:
    from pydantic import ValidationError

    from runtype_mcp.config import Settings

    overrides = {
        "sandbox": args.sandbox,
        "sandbox_db": args.sandbox_db,
        "read_only": args.read_only,
        "toolsets": args.toolsets,
        "log_level": args.log_level,
        "mcp_forward_key": args.forward_client_key,
        "protocol_era": args.protocol_era,
        "transport": args.transport,
        "files_dir": args.files_dir,
    }
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False):
            name = "RUNTYPE_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
            print(f"runtype-mcp: invalid {name}: {err['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = _settings(args)

    from runtype_mcp.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format, settings.secrets())
    if args.command == "sandbox":
        from runtype_mcp.sandbox.serve import serve

        key = settings.api_key.get_secret_value() if settings.api_key else None
        serve(
            host=args.sb_host,
            port=args.sb_port,
            db_path=args.sb_db,
            api_key=key,
            allowed_hosts=settings.mcp_allowed_hosts,
        )
        return
    if args.command == "check":
        import anyio

        from runtype_mcp.check import check

        raise SystemExit(anyio.run(check, settings))

    from runtype_mcp.server import build_server

    server = build_server(settings)
    if args.transport == "stdio" and sys.stdin.isatty():
        mode = "the offline sandbox" if settings.sandbox else settings.base_url
        print(
            f"runtype-mcp {__version__} is serving MCP on stdio against {mode}. It is meant to be started by an "
            "MCP client (see README: Connect a client); press Ctrl-C to stop.",
            file=sys.stderr,
        )
    if args.transport == "streamable-http":
        from runtype_mcp.http_app import HTTPConfigError, serve_http

        try:
            serve_http(server, settings, args.host, args.port)
        except HTTPConfigError as exc:
            print(f"runtype-mcp: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    else:
        server.run()


if __name__ == "__main__":
    main()
