"""Pydantic models of Runtype payloads (lenient: unknown fields kept, most fields optional)."""

from runtype_mcp.models.api import (
    BatchStatus,
    Flow,
    FlowStep,
    Page,
    Record,
    RunOnTypeResponse,
)

__all__ = ["BatchStatus", "Flow", "FlowStep", "Page", "Record", "RunOnTypeResponse"]
