"""docs/reliability.md exists and is the table this suite writes (RELIABILITY_REPORT=1 regenerates it)."""

from __future__ import annotations

from tests.reliability.conftest import REPORT_PATH, TABLE_HEADER


def test_the_reliability_report_is_present_with_its_table() -> None:
    assert REPORT_PATH.exists(), (
        "docs/reliability.md is missing: run RELIABILITY_REPORT=1 pytest tests/reliability"
    )
    lines = REPORT_PATH.read_text(encoding="utf-8").splitlines()
    assert TABLE_HEADER in lines, "docs/reliability.md lacks the results table header"
    rows = [line for line in lines[lines.index(TABLE_HEADER) + 2 :] if line.startswith("| ")]
    assert len(rows) >= 20, "the table lists what was injected or tried"
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert int(cells[2]) >= int(cells[3]) >= 1, row
