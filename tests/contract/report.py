"""The contract report (docs/contract.md): endpoint x {sandbox serves it, SDK parses it, our client uses it}.

The rows and the "serves" column are static (the SDK catalog and the sandbox's routes); "parses" and
"uses" come from the ledger the contract tests fill. `CONTRACT_REPORT=1 pytest tests/contract` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.routing import Route

from runtype_mcp.sandbox import Sandbox
from tests.contract import sdk_catalog

if TYPE_CHECKING:
    from tests.contract.conftest import Ledger

TABLE_HEADER = "| Endpoint | SDK method | Sandbox serves it | SDK parses it | Our client uses it |"
NOT_RUNTYPE = ("/openapi.json", "/_sandbox/")

CHOICES = """\
## Choices where the SDK contradicts itself or cannot be followed

- **`POST /v1/flows/{id}/run-on-record-type`, 202 path.** The SDK's docstring documents a 202 with a
  `batchId` to poll, but its only declared response type requires `completedAt`, `failureCount`,
  `results` and `successCount`. The sandbox's 202 carries them as "nothing ran yet" (0, 0, `[]`,
  the scheduling time) beside `status: "scheduled"` and `executedImmediately: false`, so the SDK
  parses both paths; our client reads the documented short 202 and the typed one alike.
- **PUT vs PATCH, `/flows/{id}/steps`.** The hand-written overlay updates with `PATCH` and reads
  `/flows/{id}/steps`; the generated client (from the API definition) uses `PUT` and has no such
  path. The API definition wins: the sandbox serves `PUT` and answers `PATCH` with a 405 naming it.
- **`GET /v1/records/export`.** The SDK declares `Any` and calls `.json()`, which cannot read the CSV
  the API sends; the sandbox follows the API (CSV) and the body counts as parsed by `Any`.
- **`POST /v1/records/upload-csv`.** The generated method sends `file` as a plain form field holding
  the CSV JSON-encoded; the sandbox accepts that, plain CSV text, and a real file part (what our
  client sends).
- **`POST /v1/dispatch` keys.** `conversationId`, `endUser`, `tenant` and `history: "inline"` are
  accepted (labels are echoed); `agent`, `clientTools`, `clientToolsPolicy`, `credentialProxies`,
  `identityProof` and `history: "stored"` are refused with a 400 `UNSUPPORTED_IN_SANDBOX` detail.
- **List parameters.** `includeFields` adds `availableFields`; `product_surface_id` filters (sandbox
  records have none); `distinct`, `metadata_types` and `has_large_fields` (meaning undocumented)
  and the overlay's `include_fields`, `sort_by`, `sort_order` are refused with a 400 detail naming them.
- **Batches.** `GET /v1/batch/status/{id}` requires `flowId` and `startedAt` strings: a batch of an
  inline `flowDefinition` reports `flowId: ""`, and a batch not started yet reports its submission
  time as `startedAt`. `POST /v1/batch/flow` runs inline records without saving them, refuses
  `agentId` and a non-empty `messages`, and type-checks the runner `options` (no effect offline).
  Costs are summed from the stored results; the sandbox model is priced at 0, so nothing is unpriced.
- **Flows as code.** `POST /v1/flows/ensure` hashes a canonical definition with the sandbox's own
  sha256 (clients send back the hash the server returned, as the SDK's ensure helper does); a flow
  last edited outside ensure is a 409 `external_modification` unless `onConflict: "overwrite"`.
"""


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    function: str | None
    served: bool

    @property
    def key(self) -> tuple[str, str]:
        return self.method, sdk_catalog.shape(self.path)


def served_keys() -> dict[tuple[str, str], str]:
    """(method, shape) -> the sandbox's own path, for every Runtype route the sandbox serves."""
    served = {}
    for route in Sandbox().app.routes:
        if isinstance(route, Route) and not route.path.startswith(NOT_RUNTYPE):
            for method in route.methods or ():
                if method != "HEAD":
                    served[(method, sdk_catalog.shape(route.path))] = route.path
    return served


def rows() -> list[Row]:
    served = served_keys()
    found = [Row(e.method, e.path, f"{e.group}.{e.function}", e.key in served) for e in sdk_catalog.catalog()]
    known = {row.key for row in found}
    found += [Row(m, served[(m, s)], None, True) for (m, s) in served if (m, s) not in known]
    return sorted(found, key=lambda row: (row.path, row.method))


def _parsed(ledger: Ledger, row: Row) -> str:
    if not row.served or row.function is None:
        return "-"
    outcome = ledger.outcomes.get(row.key)
    if outcome is None:
        return "not exercised"
    if outcome.failed:
        return f"NO ({len(outcome.failed)} bodies failed)"
    how = "SDK client" if outcome.via_sdk_client else "SDK type"
    return f"yes ({outcome.parsed}, {how})"


def markdown(ledger: Ledger) -> str:
    table = rows()
    defined = [r for r in table if r.function is not None]
    served_defined = [r for r in defined if r.served]
    parsed = [r for r in served_defined if _parsed(ledger, r).startswith("yes")]
    used = [r for r in table if r.key in ledger.client_uses]
    sandbox_only = [r for r in table if r.function is None]
    totals = (
        f"**SDK endpoints in scope: {len(defined)}. Served by the sandbox: {len(served_defined)}. "
        f"Parsed by the SDK: {len(parsed)} of {len(served_defined)} served. "
        f"Used by our client: {len(used)} (all of them defined by the SDK). "
        f"Served but not in the SDK: {len(sandbox_only)}.**"
    )
    lines = [
        "# Contract report: the sandbox and our client against the official SDK",
        "",
        f"Generated by `CONTRACT_REPORT=1 python -m pytest tests/contract` against `runtype-sdk=="
        f"{sdk_catalog.SDK_VERSION}`. Endpoints are those of the SDK's generated groups "
        f'{", ".join(sdk_catalog.GROUPS)}, read from its Fern-generated source; "SDK parses it" means every 2xx body '
        "the tests received (through the SDK's own client, or validated with the SDK's declared type where "
        "that client cannot make the call) parsed; the count is how many bodies.",
        "",
        totals,
        "",
        TABLE_HEADER,
        "| --- | --- | --- | --- | --- |",
    ]
    for row in table:
        lines.append(
            f"| `{row.method} {row.path}` | {row.function or '(not in the SDK)'} | "
            f"{'yes' if row.served else 'no'} | {_parsed(ledger, row)} | "
            f"{'yes' if row.key in ledger.client_uses else '-'} |"
        )
    return "\n".join([*lines, "", CHOICES])
