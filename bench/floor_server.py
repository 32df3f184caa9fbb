"""The floor for cold start: a one-tool MCPServer in the same venv."""

from mcp.server import MCPServer

server = MCPServer("floor")


@server.tool()
async def ping() -> str:
    """Answer pong."""
    return "pong"


if __name__ == "__main__":
    server.run()
