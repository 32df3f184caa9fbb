"""The scrubber's edges: which starts of a secret name it, which secrets are too short, and that
a stream holds back exactly what may still turn into a secret."""

from __future__ import annotations

import pytest

from runtype_mcp.scrub import REDACTED, StreamScrubber, scrub_bytes, scrub_text, scrub_value

KEY = "rt_live_0123456789abcdefghijklmnopqrstuv"  # 39 characters
R = REDACTED


@pytest.mark.parametrize("label", ["rt_abc_", "rt_test_", "rt_abcde_"])
def test_every_rt_label_takes_twelve_characters_to_name_the_key(label: str) -> None:
    key = label + "0123456789abcdef"
    assert scrub_text(f"a {key[:11]} b", [key]) == f"a {key[:11]} b"
    assert scrub_text(f"a {key[:12]} b", [key]) == f"a {R} b"


@pytest.mark.parametrize("label", ["rt_ab_", "rt_abcdef_", "RT_LIVE_", "xrt_live_"])
def test_a_value_without_a_key_label_goes_from_its_eighth_character(label: str) -> None:
    key = label + "0123456789abcdef"
    assert scrub_text(f"a {key[:8]} b", [key]) == f"a {R} b"
    assert scrub_text(f"a {key[:7]} b", [key]) == f"a {key[:7]} b"


def test_a_short_secret_goes_only_whole() -> None:
    token = "abcdefghijk"  # 11: under 8 + 4, so its start alone is not removed
    assert scrub_text(f"{token[:10]} {token} {token}x", [token]) == f"{token[:10]} {R} {R}x"
    token12 = "abcdefghijkl"
    assert scrub_text(f"{token12[:8]}", [token12]) == R
    key15 = "rt_live_0123456"  # a labelled key under 12 + 4 characters: only whole
    assert scrub_text(f"{key15[:14]} {key15}", [key15]) == f"{key15[:14]} {R}"
    key16 = "rt_live_01234567"
    assert scrub_text(f"{key16[:12]}", [key16]) == R


def test_a_secret_of_eight_characters_is_scrubbed_and_one_of_seven_is_not() -> None:
    assert scrub_text("x abcdefgh y abcdefg", ["abcdefgh", "abcdefg", None, ""]) == f"x {R} y abcdefg"  # type: ignore[list-item]


def test_a_secret_containing_another_goes_whole_as_one() -> None:
    assert scrub_text("<abcdefgh_and_more>", ["abcdefgh", "abcdefgh_and_more"]) == f"<{R}>"
    assert scrub_text("<abcdefgh_and_more>", ["abcdefgh_and_more", "abcdefgh"]) == f"<{R}>"


def test_every_occurrence_goes_and_a_match_stops_where_the_secret_does() -> None:
    assert scrub_text(f"{KEY}{KEY} {KEY[:20]}Z {KEY}9", [KEY]) == f"{R}{R} {R}Z {R}9"


def test_values_keep_their_shape_and_untouched_containers_keep_identity() -> None:
    pair = ("x", KEY)
    assert scrub_value(pair, [KEY]) == ["x", R]
    same = ("x", 1)
    assert scrub_value(same, [KEY]) is same
    keyed = {1: KEY, "k": 2}
    assert scrub_value(keyed, [KEY]) == {1: R, "k": 2}
    nested = {"a": [{"b": "c"}]}
    assert scrub_value(nested, [KEY]) is nested
    assert scrub_value({"a": KEY}, ["short"]) == {"a": KEY}
    value = {"a": KEY}
    assert scrub_value(value, []) is value
    assert scrub_value(3.5, [KEY]) == 3.5


def test_bytes_with_only_a_secrets_start_or_bad_utf8_are_scrubbed_as_text() -> None:
    raw = b"\xfe " + KEY[:12].encode() + b" \xff"
    assert scrub_bytes(raw, [KEY]) == b"\xfe " + R.encode() + b" \xff"
    assert scrub_bytes(raw, []) is raw
    assert scrub_bytes(b"rt_live_0123", [KEY, "tok_zzzzzzzzzz"]) == R.encode()


def test_a_stream_passes_everything_through_when_there_is_no_secret() -> None:
    stream = StreamScrubber([])
    assert stream.feed(b"abc") == b"abc" and stream.flush() == b""


def test_a_stream_holds_back_only_what_could_still_become_a_secret() -> None:
    stream = StreamScrubber([KEY])  # a 40-character key: 39 characters are held back
    assert stream.feed(b"x" * 30) == b""
    assert stream.feed(b"y" * 70) == b"x" * 30 + b"y" * 31
    assert stream.flush() == b"y" * 39
    assert stream.flush() == b""


def test_a_stream_releases_a_secret_only_once_it_is_whole_and_scrubbed() -> None:
    stream = StreamScrubber([KEY])
    # The key crosses the cut: released up to its end, scrubbed.
    assert stream.feed(b"z" * 10 + KEY.encode() + b"q" * 5) == b"z" * 10 + R.encode()
    assert stream.flush() == b"q" * 5
    # The key ends the chunk and may go on: held back whole until the next chunk.
    stream = StreamScrubber([KEY])
    assert stream.feed(b"z" * 10 + KEY.encode()) == b"z" * 10
    assert stream.feed(b"!" * 50) + stream.flush() == R.encode() + b"!" * 50


def test_a_stream_passes_bytes_that_are_not_utf8_through_unchanged() -> None:
    stream = StreamScrubber([KEY])
    data = b"\xff\xfe caf\xc3\xa9 " + KEY.encode() + b" \x80" + b"z" * 60
    out = stream.feed(data[:30]) + stream.feed(data[30:]) + stream.flush()
    assert out == b"\xff\xfe caf\xc3\xa9 " + R.encode() + b" \x80" + b"z" * 60
