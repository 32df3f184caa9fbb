"""Secrets never leave the server: one scrubber for text, JSON values and byte streams.

A secret is removed wherever it appears whole, and so is any cut-off start of it long enough to
name it (`rt_live_abcd…` left by a bounded preview still names the key), so the scrub is safe even
on text that was cut before it got here. Upstream bodies are scrubbed as they arrive (before
anything is parsed or cut), and every message the server sends is scrubbed again at the door
(see `door.ScrubMiddleware`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from os.path import commonprefix
from typing import Any

REDACTED = "[REDACTED]"
# A Runtype key's leading characters that already identify it: the 8-character label (`rt_live_`)
# plus 4 of the random part. Any other secret (a token, a password) has no label: 8 characters of it
# are already too many to show.
PREFIX = 12
_LABELLED = re.compile(r"rt_[a-z]{3,5}_")
# Shorter values cannot be told apart from ordinary text ("a", "json", "type"): scrubbing them would
# mangle every message (JSON keys included). Such secrets are kept out of output by other means
# (URLs are shown without userinfo; RUNTYPE_MCP_HTTP_TOKEN has a minimum length).
MIN_SECRET = 8


def _secrets(values: Iterable[str | None]) -> list[str]:
    """Distinct secrets long enough to scrub, longest first (a key that contains another goes whole)."""
    return sorted({v for v in values if v and len(v) >= MIN_SECRET}, key=len, reverse=True)


def _head(secret: str) -> str:
    """The shortest start of `secret` that is scrubbed on its own (short secrets: only whole)."""
    size = PREFIX if _LABELLED.match(secret) else MIN_SECRET
    return secret if len(secret) < size + 4 else secret[:size]


def scrub_text(text: str, secrets: Sequence[str]) -> str:
    return _scrub(text, _secrets(secrets))


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = _replace(text, _matches(text, secret))
    return text


def _matches(text: str, secret: str) -> list[tuple[int, int]]:
    """Spans of `secret` in `text`: whole, or any start of it at least as long as its head."""
    head = _head(secret)
    spans: list[tuple[int, int]] = []
    pos = 0
    # Each match moves `pos` past it, so there are fewer matches than characters: the bound only
    # keeps a loop whose position stopped advancing from running (and growing `spans`) forever.
    for _ in range(len(text)):
        start = text.find(head, pos)
        if start == -1:
            break
        end = start + len(head)
        # The match goes on as far as the text agrees with the rest of the secret (character by
        # character, which is what commonprefix compares; no loop that could run away).
        end += len(commonprefix([text[end : start + len(secret)], secret[len(head) :]]))  # noqa: RUF071
        spans.append((start, end))
        pos = end
    return spans


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out += [text[pos:start], REDACTED]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def scrub_value(value: Any, secrets: Sequence[str]) -> Any:
    """A JSON-like value with every string (keys included) scrubbed; unchanged values keep identity."""
    ordered = _secrets(secrets)
    return _scrub_value(value, ordered) if ordered else value


def _scrub_value(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return _scrub(value, secrets)
    if isinstance(value, dict):
        items = [
            (_scrub(k, secrets) if isinstance(k, str) else k, _scrub_value(v, secrets))
            for k, v in value.items()
        ]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(items, value.items(), strict=True)):
            return value
        return dict(items)
    if isinstance(value, list | tuple):
        out = [_scrub_value(v, secrets) for v in value]
        return value if all(a is b for a, b in zip(out, value, strict=True)) else out
    return value


def scrub_bytes(data: bytes, secrets: Sequence[str]) -> bytes:
    """Bytes scrubbed as text (undecodable bytes pass through untouched)."""
    ordered = _secrets(secrets)
    if not ordered or not any(_head(s).encode("utf-8", errors="surrogateescape") in data for s in ordered):
        return data  # the common case: no secret's start anywhere, nothing to decode
    text = data.decode("utf-8", errors="surrogateescape")
    return _scrub(text, ordered).encode("utf-8", errors="surrogateescape")


class StreamScrubber:
    """Scrubs a byte stream chunk by chunk: a secret split across two chunks is still caught.

    Holds back the last `len(longest secret) - 1` bytes of each chunk (and any secret that starts
    before them and may go on in the next chunk) until the next one or `flush()`, so the output is
    the scrub of the whole stream."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self.secrets = _secrets(secrets)
        self.keep = max((len(s) for s in self.secrets), default=1) - 1
        self.tail = ""

    def feed(self, chunk: bytes) -> bytes:
        if not self.secrets:
            return chunk
        text = self.tail + chunk.decode("utf-8", errors="surrogateescape")
        cut = len(text) - self.keep
        if cut <= 0:
            self.tail = text
            return b""
        for secret in self.secrets:
            for start, end in _matches(text, secret):
                if start < cut < end or (start < cut and end == len(text)):
                    cut = end if end < len(text) else start
        out, self.tail = text[:cut], text[cut:]
        return scrub_text(out, self.secrets).encode("utf-8", errors="surrogateescape")

    def flush(self) -> bytes:
        out, self.tail = self.tail, ""
        return scrub_text(out, self.secrets).encode("utf-8", errors="surrogateescape")
