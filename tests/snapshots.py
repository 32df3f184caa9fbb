"""File snapshots: any change to what the model sees is a reviewed diff.

Run `UPDATE_SNAPSHOTS=1 pytest` to rewrite them after an intended change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent / "snapshots"


def assert_snapshot(name: str, value: Any) -> None:
    path = ROOT / name
    rendered = (
        value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    )
    rendered = rendered.rstrip("\n") + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
        return
    assert path.exists(), f"snapshot {name} is missing: run UPDATE_SNAPSHOTS=1 pytest and review the new file"
    assert path.read_text(encoding="utf-8") == rendered, (
        f"snapshot {name} changed (UPDATE_SNAPSHOTS=1 to accept)"
    )
