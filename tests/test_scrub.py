"""The one scrubber: whole secrets and their cut-off starts go, ordinary text stays untouched."""

from __future__ import annotations

import pytest

from runtype_mcp.scrub import REDACTED, StreamScrubber, scrub_bytes, scrub_text, scrub_value

KEY = "rt_live_0123456789abcdefghijklmnopqrstuv"
TOKEN = "a1b2c3d4e5f6g7h8i9j0"


@pytest.mark.parametrize("cut", [12, 13, 20, 39, 40])
def test_a_key_cut_to_its_first_12_or_more_characters_is_still_removed(cut: int) -> None:
    assert scrub_text(f"name: {KEY[:cut]}… more", [KEY]) == f"name: {REDACTED}… more"


def test_a_start_too_short_to_name_the_key_stays_and_so_does_ordinary_text() -> None:
    text = f"prefix rt_live_ and {KEY[:11]} and rt_live_other"
    assert scrub_text(text, [KEY]) == text


def test_a_secret_without_the_rt_label_goes_from_its_eighth_character() -> None:
    assert scrub_text(f"x {TOKEN[:8]}… {TOKEN[:7]}", [TOKEN]) == f"x {REDACTED}… {TOKEN[:7]}"


def test_secrets_too_short_to_tell_from_text_are_not_scrubbed() -> None:
    assert scrub_text("type text content", ["t", "text", "content"]) == "type text content"


def test_json_values_and_keys_are_scrubbed_and_untouched_parts_keep_identity() -> None:
    clean = {"a": [1, "x"]}
    value = {"ok": clean, KEY: {"name": f"n {KEY}"}}
    out = scrub_value(value, [KEY])
    assert out == {"ok": clean, REDACTED: {"name": f"n {REDACTED}"}}
    assert out["ok"] is clean
    assert scrub_value(clean, [KEY]) is clean


def test_bytes_are_scrubbed_and_left_alone_when_no_secret_starts_in_them() -> None:
    raw = b'{"k": "' + KEY.encode() + b'", "b": "\xff"}'
    assert scrub_bytes(raw, [KEY]) == b'{"k": "' + REDACTED.encode() + b'", "b": "\xff"}'
    plain = b'{"k": "v"}'
    assert scrub_bytes(plain, [KEY]) is plain


@pytest.mark.parametrize("split", [1, 8, 12, 20, 39])
def test_a_stream_scrubs_a_key_split_across_chunks(split: int) -> None:
    data = f"row1,{KEY},x\nrow2,{KEY[:15]}\n".encode()
    at = data.index(KEY.encode()) + split
    stream = StreamScrubber([KEY])
    out = stream.feed(data[:at]) + stream.feed(data[at:]) + stream.flush()
    assert out == f"row1,{REDACTED},x\nrow2,{REDACTED}\n".encode()
