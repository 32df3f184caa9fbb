"""Every tool of the server: valid arguments built from a prepared `World`, and the request that does
each one's work (`test_catalog.py` fails when a tool of either transport has no entry here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runtype_mcp.tools.preview_token import sign
from tests.fakes import API_KEY
from tests.reliability.harness import World


@dataclass(frozen=True)
class ToolCase:
    name: str
    main: tuple[str, str]  # the request that does the work: method, path regex after /v1
    args: Callable[[World], dict[str, Any]]
    retried: bool  # the client retries its main request (idempotent or read-only)
    creates: Callable[[World], list[tuple[str, str]]] | None = (
        None  # (type, name) that must exist at most once
    )
    creates_flow: Callable[[World], str] | None = None
    run: bool = False  # a flow run: never re-sent
    checked_create: bool = False  # a create re-sent only after a lookup shows it did not land
    fallback: bool = False  # a failed main request is answered from a fallback (built-in, local check)


REC = r"/records/[^/]+"
FLOW = r"/flows/[^/]+"
CSV_TYPE = "upl"

TOOLS: dict[str, ToolCase] = {
    t.name: t
    for t in [
        ToolCase("list_records", ("GET", "/records"), lambda w: {"type": w.record_type}, True),
        ToolCase("get_record", ("GET", REC), lambda w: {"record_id": w.record_id}, True),
        ToolCase(
            "create_record",
            ("POST", "/records"),
            lambda w: {"name": f"new-{w.tag}", "type": w.record_type, "metadata": {"k": 1}},
            False,
            creates=lambda w: [(w.record_type, f"new-{w.tag}")],
            checked_create=True,
        ),
        ToolCase(
            "update_record",
            ("POST", "/records/bulk-edit"),  # a metadata merge is a server-side edit on the one id
            lambda w: {"record_id": w.record_id, "metadata": {"score": 5}},
            True,
        ),
        ToolCase(
            "delete_record", ("DELETE", REC), lambda w: {"record_id": w.record_id, "confirm": True}, True
        ),
        ToolCase(
            "bulk_edit_records",
            ("POST", "/records/bulk-edit"),
            lambda w: {
                "record_ids": w.record_ids,
                "updates": {"flag": True},
                "dry_run": False,
                "confirmation": sign(
                    API_KEY, "edit", w.record_ids, {"updates": {"flag": True}, "deleteFields": []}
                ),
            },
            False,
        ),
        ToolCase(
            "bulk_delete_records",
            ("POST", "/records/bulk-delete"),
            lambda w: {
                "ids": w.record_ids,
                "confirm": True,
                "dry_run": False,
                "confirmation": sign(API_KEY, "delete", w.record_ids),
            },
            False,
        ),
        ToolCase(
            "export_records_csv",
            ("GET", "/records/export"),
            lambda w: {"path": str(w.tmp / f"export-{w.tag}.csv"), "type": w.record_type},
            True,
        ),
        ToolCase(
            "upload_records_csv",
            ("POST", "/records/upload-csv"),
            lambda w: {
                "name_column": "name",
                "csv_text": f"name,n\nup-{w.tag}-1,1\nup-{w.tag}-2,2\n",
                "type_value": CSV_TYPE,
                "dry_run": False,
            },
            False,
            creates=lambda w: [(CSV_TYPE, f"up-{w.tag}-1"), (CSV_TYPE, f"up-{w.tag}-2")],
        ),
        ToolCase(
            "get_field_values",
            ("GET", "/records/field-values"),
            lambda w: {"type": w.record_type, "field": "tier"},
            True,
        ),
        ToolCase(
            "preview_record_filter",
            ("POST", "/records/preview-filter"),
            lambda w: {"type": w.record_type, "filter": {"field": "tier", "op": "eq", "value": "gold"}},
            True,
        ),
        ToolCase(
            "discover_record_schema", ("GET", "/records/schema"), lambda w: {"type": w.record_type}, True
        ),
        ToolCase("get_record_costs", ("GET", REC + "/costs"), lambda w: {"record_id": w.record_id}, True),
        ToolCase("get_record_results", ("GET", REC + "/results"), lambda w: {"record_id": w.record_id}, True),
        ToolCase(
            "delete_record_result",
            ("DELETE", REC + "/results"),
            lambda w: {"record_id": w.record_id, "result_id": w.result_id, "confirm": True},
            True,
        ),
        ToolCase(
            "get_record_step_results",
            ("GET", REC + "/step-results"),
            lambda w: {"record_id": w.record_id},
            True,
        ),
        ToolCase("list_flows", ("GET", "/flows"), lambda w: {}, True),
        ToolCase("get_flow", ("GET", FLOW), lambda w: {"flow_id": w.flow_id}, True),
        ToolCase(
            "create_flow",
            ("POST", "/flows"),
            lambda w: {
                "name": f"flow-{w.tag}",
                "steps": [{"name": "t", "type": "template", "config": {"template": "x"}}],
            },
            False,
            creates_flow=lambda w: f"flow-{w.tag}",
        ),
        ToolCase(
            "update_flow", ("PUT", FLOW), lambda w: {"flow_id": w.flow_id, "description": "changed"}, True
        ),
        ToolCase("delete_flow", ("DELETE", FLOW), lambda w: {"flow_id": w.flow_id, "confirm": True}, True),
        ToolCase(
            "export_flow_runtime", ("GET", FLOW + "/export-runtime"), lambda w: {"flow_id": w.flow_id}, True
        ),
        ToolCase("publish_flow", ("POST", FLOW + "/publish"), lambda w: {"flow_id": w.flow_id}, False),
        ToolCase(
            "run_flow_on_record_type",
            ("POST", FLOW + "/run-on-record-type"),
            lambda w: {"flow_id": w.flow_id, "record_type": w.record_type},
            False,
            run=True,
        ),
        ToolCase(
            "list_flow_step_results", ("GET", FLOW + "/step-results"), lambda w: {"flow_id": w.flow_id}, True
        ),
        ToolCase(
            "run_flow",
            ("POST", "/dispatch"),
            lambda w: {"flow_id": w.flow_id, "record_id": w.record_id},
            False,
            run=True,
        ),
        ToolCase(
            "get_batch_status", ("GET", r"/batch/status/[^/]+"), lambda w: {"batch_id": w.batch_id}, True
        ),
        ToolCase(
            "upsert_record",
            ("POST", "/records"),  # a new (type, name): the lookup finds nothing, then the create
            lambda w: {"type": w.record_type, "name": f"ups-{w.tag}", "metadata": {"tier": "gold"}},
            False,
            creates=lambda w: [(w.record_type, f"ups-{w.tag}")],
            checked_create=True,
        ),
        ToolCase(
            "upsert_records",
            ("POST", "/records"),
            lambda w: {"type": w.record_type, "records": [{"name": f"many-{w.tag}", "metadata": {"n": 7}}]},
            False,
            creates=lambda w: [(w.record_type, f"many-{w.tag}")],
            checked_create=True,
        ),
        ToolCase(
            "aggregate_records",
            ("GET", "/records/export"),
            lambda w: {"type": w.record_type, "metrics": ["count", "sum:n"], "group_by": ["tier"]},
            True,
        ),
        ToolCase("list_record_types", ("GET", "/records/export"), lambda w: {}, True),
        ToolCase("get_step_types", ("GET", "/documentation"), lambda w: {}, True, fallback=True),
        ToolCase(
            "validate_flow",
            ("POST", "/public/flows/validate"),
            lambda w: {"flow_id": w.flow_id},
            True,
            fallback=True,
        ),
        ToolCase(
            "list_flow_versions", ("GET", r"/flow-versions/[^/]+"), lambda w: {"flow_id": w.flow_id}, True
        ),
        ToolCase("list_models", ("GET", "/model-configs/grouped"), lambda w: {}, True),
        ToolCase(
            "run_flow_on_records",
            ("POST", "/batch/flow"),
            lambda w: {"flow_id": w.flow_id, "record_ids": w.record_ids},
            False,
            run=True,
        ),
        ToolCase("cancel_batch", ("POST", r"/batch/cancel/[^/]+"), lambda w: {"batch_id": w.batch_id}, False),
    ]
}
