"""docs/contract.md is current: one row per endpoint in scope, the right "serves" column, and totals."""

from __future__ import annotations

import re

import pytest

from tests.contract.conftest import REPORT_PATH, SKIP_REASON

pytest.importorskip("runtype", reason=SKIP_REASON)

from tests.contract.report import TABLE_HEADER, rows

REGENERATE = "regenerate it with CONTRACT_REPORT=1 python -m pytest tests/contract"


def test_the_committed_contract_report_lists_every_endpoint_and_what_the_sandbox_serves() -> None:
    assert REPORT_PATH.exists(), f"docs/contract.md is missing: {REGENERATE}"
    text = REPORT_PATH.read_text(encoding="utf-8")
    assert TABLE_HEADER in text
    listed = {
        (match[0], match[1]): match[2]
        for match in re.findall(r"^\| `(\w+) (\S+)` \| [^|]+ \| (yes|no) \|", text, flags=re.MULTILINE)
    }
    expected = {(row.method, row.path): "yes" if row.served else "no" for row in rows()}
    assert listed == expected, f"docs/contract.md is stale: {REGENERATE}"
    assert re.search(r"Parsed by the SDK: (\d+) of \1 served", text), "not every served endpoint parses"
    assert "not exercised" not in text and "NO (" not in text, REGENERATE
