"""The scrubber chunk by chunk (scrub.py): what each `feed` releases at the hold-back boundary, and
secrets that only a careful scrub catches (one inside another, undecodable bytes in a secret)."""

from __future__ import annotations

from runtype_mcp.scrub import REDACTED, StreamScrubber, scrub_bytes, scrub_text

KEY = "rt_live_0123456789abcdefghijklmnopqrstuv"
KEEP = len(KEY) - 1  # what a stream holds back at the end of each chunk
R = REDACTED


def test_a_secret_inside_a_longer_one_never_leaves_the_longer_ones_ends_behind() -> None:
    inner, outer = "zzzzzzzz", "aa_zzzzzzzz_bb"  # the inner one sorts first by text, last by length
    for secrets in ([inner, outer], [outer, inner]):
        assert scrub_text(f"<{outer}> <{inner}>", secrets) == f"<{R}> <{R}>"


def test_a_secret_with_undecodable_bytes_is_scrubbed_from_bytes() -> None:
    # A value from the environment keeps undecodable bytes as lone surrogates (surrogateescape).
    secret = b"tok\xffabcdefghijkl".decode("utf-8", errors="surrogateescape")
    assert scrub_bytes(b"x tok\xffabcdefghijkl y", [secret]) == f"x {R} y".encode()
    assert scrub_bytes(b"x tok\xffabcd y", [secret]) == f"x {R} y".encode()  # its start names it


def test_a_chunk_one_character_longer_than_the_hold_back_releases_that_character() -> None:
    stream = StreamScrubber([KEY])
    assert stream.feed(b"a" * KEEP) == b""
    assert stream.feed(b"b") == b"a"
    assert stream.flush() == b"a" * (KEEP - 1) + b"b"


def test_a_secrets_start_right_at_the_cut_stays_held_back() -> None:
    cut = 20
    text = "a" * cut + KEY[:12] + "!" + "c" * (KEEP - 13)
    stream = StreamScrubber([KEY])
    assert stream.feed(text.encode()) == b"a" * cut
    assert stream.flush() == (R + "!" + "c" * (KEEP - 13)).encode()


def test_a_secrets_start_wholly_inside_the_held_back_part_holds_back_no_more_and_no_less() -> None:
    text = "a" * 40 + "x" * (KEEP - 12) + KEY[:12]  # the key's start ends the chunk, after the cut
    stream = StreamScrubber([KEY])
    assert stream.feed(text.encode()) == b"a" * 40
    assert stream.feed(KEY[12:].encode() + b"!") == ("x" * (KEEP - 12) + R).encode()
    assert stream.flush() == b"!"


def test_a_whole_secret_before_the_cut_does_not_stop_the_release_at_its_end() -> None:
    stream = StreamScrubber([KEY])
    assert stream.feed(f"{KEY} {'.' * 60}".encode()) == f"{R} {'.' * 21}".encode()
    assert stream.flush() == b"." * KEEP


def test_a_stream_that_ends_on_undecodable_bytes_gives_them_back_on_flush() -> None:
    stream = StreamScrubber([KEY])
    assert stream.feed(b"ok \xff\xfe") == b""
    assert stream.flush() == b"ok \xff\xfe"
