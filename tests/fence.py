"""Reading a tool answer's text the way the model does: data in its untrusted-data boundary, the
server's guidance after it (runtype_mcp.boundary)."""

from __future__ import annotations

import json
import re
from typing import Any

FENCED = re.compile(
    r"<untrusted-data-(?P<id>[0-9a-f]{12})>\n(?P<data>.*)\n</untrusted-data-(?P=id)>(?:\n(?P<guidance>.*))?",
    re.S,
)


def parts(text: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(data inside the boundary, guidance outside it, boundary id); fails if the text is not fenced."""
    match = FENCED.fullmatch(text)
    assert match, f"answer text is not one fenced JSON object plus guidance: {text[:300]!r}"
    assert text.count(f"untrusted-data-{match['id']}") == 2, "the boundary id appears inside the data"
    data = json.loads(match["data"])
    guidance = json.loads(match["guidance"]) if match["guidance"] else {}
    assert isinstance(data, dict) and isinstance(guidance, dict)
    assert set(guidance) <= {"next", "note"}, guidance
    return data, guidance, match["id"]


def shown(text: str) -> dict[str, Any]:
    """The object the model reads: the fenced data with the guidance keys put back."""
    data, guidance, _ = parts(text)
    assert not set(data) & set(guidance)
    return {**data, **guidance}


TAGS = re.compile(r"</?untrusted-data-[0-9a-f]{12}>")


def unfenced(text: str) -> str:
    """An error text with its boundary tags taken out, for comparing the words (after checking that
    the text had exactly one boundary)."""
    assert len(TAGS.findall(text)) == 2, f"expected one untrusted-data boundary: {text!r}"
    return TAGS.sub("", text)
