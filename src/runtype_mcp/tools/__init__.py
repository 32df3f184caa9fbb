"""Toolsets, in the order they are listed: records, then flows."""

from runtype_mcp.tools.flows import flows

# isort: off
# Imported to register their tools on `flows`, listed in this order: reference and checks, runs, batches.
from runtype_mcp.tools import flow_ref as flow_ref
from runtype_mcp.tools import flow_runs as flow_runs
from runtype_mcp.tools import flow_batches as flow_batches

# isort: on
from runtype_mcp.tools.records import records

# isort: off
# Registration order is import order: the records tools are listed by task (write, bulk, files, data).
from runtype_mcp.tools import records_upsert as records_upsert
from runtype_mcp.tools import records_delete as records_delete
from runtype_mcp.tools import records_bulk as records_bulk
from runtype_mcp.tools import records_files as records_files
from runtype_mcp.tools import records_upload as records_upload
from runtype_mcp.tools import records_data as records_data
from runtype_mcp.tools import records_aggregate as records_aggregate
from runtype_mcp.tools import record_results as record_results

# isort: on
from runtype_mcp.tools.registry import Toolset, ToolSpec

TOOLSETS: tuple[Toolset, ...] = (records, flows)

__all__ = ["TOOLSETS", "ToolSpec", "Toolset"]
