"""Toolsets, in the order they are listed: records, then flows."""

from runtype_mcp.tools import flow_runs as flow_runs  # imported to register the run tools on `flows`
from runtype_mcp.tools.flows import flows
from runtype_mcp.tools.records import records

# isort: off
# Registration order is import order: the records tools are listed as DESIGN.md orders them.
from runtype_mcp.tools import records_bulk as records_bulk
from runtype_mcp.tools import records_files as records_files
from runtype_mcp.tools import records_upload as records_upload
from runtype_mcp.tools import records_data as records_data
from runtype_mcp.tools import record_results as record_results

# isort: on
from runtype_mcp.tools.registry import Toolset, ToolSpec

TOOLSETS: tuple[Toolset, ...] = (records, flows)

__all__ = ["TOOLSETS", "ToolSpec", "Toolset"]
