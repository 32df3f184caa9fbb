"""Reusable parameter types whose descriptions say where the value comes from."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

RecordId = Annotated[
    str,
    Field(min_length=1, max_length=512, description="Record id, e.g. from list_records or create_record."),
]
FlowId = Annotated[
    str, Field(min_length=1, max_length=512, description="Flow id, e.g. from list_flows or create_flow.")
]
BatchId = Annotated[
    str, Field(min_length=1, max_length=512, description="batch_id returned by run_flow_on_record_type.")
]
RecordType = Annotated[
    str,
    Field(min_length=1, max_length=255, description="Record type (like a table name), e.g. 'customer'."),
]
RecordName = Annotated[
    str, Field(min_length=1, max_length=500, description="Record name, unique within its type.")
]
Metadata = Annotated[
    dict[str, Any],
    Field(description='The record\'s JSON payload: an object of fields, e.g. {"tier": "gold", "score": 3}.'),
]
Limit = Annotated[int, Field(ge=1, le=100, description="Rows per page (1-100).")]
Cursor = Annotated[
    str | None,
    Field(max_length=2000, description="next_cursor from the previous page; omit for the first page."),
]
