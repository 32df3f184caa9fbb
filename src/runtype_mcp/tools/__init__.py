"""Toolsets, in the order they are listed: records, then flows."""

from runtype_mcp.tools.flows import flows
from runtype_mcp.tools.records import records
from runtype_mcp.tools.registry import Toolset, ToolSpec

TOOLSETS: tuple[Toolset, ...] = (records, flows)

__all__ = ["TOOLSETS", "ToolSpec", "Toolset"]
