"""Demo data written on the first start of a sandbox database, and never again."""

from __future__ import annotations

import sqlite3
from typing import Any

from . import engine, records_store
from .flows_api import insert_flow
from .ids import new_id, now_iso
from .store import get_meta, set_meta

CUSTOMERS: list[tuple[str, dict[str, Any]]] = [
    (
        "Acme Corp",
        {
            "company": "Acme Corp",
            "tier": "gold",
            "email": "ops@acme.example",
            "notes": "Long-standing customer; renews every January and asks for usage reports each quarter.",
        },
    ),
    (
        "Globex",
        {
            "company": "Globex",
            "tier": "silver",
            "email": "it@globex.example",
            "notes": "Evaluating the enterprise plan; main contact prefers email over calls.",
        },
    ),
    (
        "Initech",
        {
            "company": "Initech",
            "tier": "bronze",
            "email": "support@initech.example",
            "notes": "Small team, mostly self-serve; reported two billing questions last month.",
        },
    ),
]

TICKETS: list[tuple[str, dict[str, Any]]] = [
    (
        "TICKET-1001",
        {"subject": "Cannot export invoices", "status": "open", "priority": "high", "customer": "Acme Corp"},
    ),
    (
        "TICKET-1002",
        {"subject": "Add a second admin", "status": "pending", "priority": "low", "customer": "Globex"},
    ),
    (
        "TICKET-1003",
        {"subject": "Password reset loop", "status": "closed", "priority": "medium", "customer": "Initech"},
    ),
]

DEMO_FLOW_STEPS: list[dict[str, Any]] = [
    {
        "id": "step_summarize",
        "name": "Summarize",
        "type": "prompt",
        "order": 0,
        "enabled": True,
        "config": {
            "model": engine.SANDBOX_MODEL,
            "userPrompt": (
                "Summarize the customer {{_record.metadata.company}} (tier {{_record.metadata.tier}}) "
                "in one sentence. Notes: {{_record.metadata.notes}}"
            ),
            "outputVariable": "summary",
        },
    },
    {
        "id": "step_save_summary",
        "name": "Save summary",
        "type": "update-record",
        "order": 1,
        "enabled": True,
        "config": {
            "recordId": "{{_record.id}}",
            "updates": {"summary": "{{summary}}"},
            "mergeStrategy": "merge",
        },
    },
]


def seed_once(conn: sqlite3.Connection) -> bool:
    """Insert the demo records and flow unless this database was seeded before; True when it seeded."""
    if get_meta(conn, "seeded_at") is not None:
        return False
    for record_type, rows in (("customer", CUSTOMERS), ("support_ticket", TICKETS)):
        for name, metadata in rows:
            if records_store.find_row(conn, record_type, name) is None:
                records_store.insert(
                    conn, record_type=record_type, name=name, metadata=metadata, record_id=new_id("rec")
                )
    insert_flow(
        conn,
        "Summarize customer",
        "Demo flow: writes a one-line summary of a customer record into metadata.summary.",
        DEMO_FLOW_STEPS,
    )
    set_meta(conn, "seeded_at", now_iso())
    return True
