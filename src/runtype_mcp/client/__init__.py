"""The Runtype REST client: `RuntypeClient` is the transport core plus one mixin per resource."""

from runtype_mcp.client.batches import BatchAPI
from runtype_mcp.client.core import MISSING_KEY, BaseClient, CallStats, Response, call_stats, segment
from runtype_mcp.client.flows import FlowsAPI
from runtype_mcp.client.records import RecordsAPI
from runtype_mcp.client.records_more import RecordsMoreAPI


class RuntypeClient(RecordsAPI, RecordsMoreAPI, FlowsAPI, BatchAPI):
    """All endpoints; construct with `RuntypeClient(RuntypeClient.build_http(settings), settings)`."""


__all__ = ["MISSING_KEY", "BaseClient", "CallStats", "Response", "RuntypeClient", "call_stats", "segment"]
