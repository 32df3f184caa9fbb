"""runtype-mcp: an MCP server for Runtype records and flows."""

__version__ = "0.1.0"
