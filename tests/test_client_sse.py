"""The incremental SSE parser: every byte split and every chunking give the same events."""

from __future__ import annotations

import itertools

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from ardlib.client import ServerSentEvent, SSEDecoder

# Exercises every feature at once: a BOM, all three line endings, a comment, multi-line
# data, an id that persists, a retry field, an event without data (dropped), a field
# without a colon, non-ASCII text (multi-byte UTF-8 sequences to split) and a final
# event without the terminating blank line (must not be dispatched).
STREAM = (
    "\ufeff: keep-alive comment\r\n"
    "event: preliminary\r\n"
    'data: {"trace_id": "t-1", "content": "température µ ✓"}\r\n'
    "id: 7\r\n"
    "\r\n"
    "event: final\r"
    "data: line one\r"
    "data:line two\r"
    "retry: 1500\r"
    "\r"
    "event: ignored-no-data\n"
    "\n"
    "data\n"
    "\n"
    "event: done\n"
    'data: {"trace_id": "t-1"}\n'
    "\n"
    "data: incomplete"
).encode()

EXPECTED = [
    ServerSentEvent("preliminary", '{"trace_id": "t-1", "content": "température µ ✓"}', "7"),
    ServerSentEvent("final", "line one\nline two", "7", 1500),
    ServerSentEvent("message", "", "7"),
    ServerSentEvent("done", '{"trace_id": "t-1"}', "7"),
]


def _decode(chunks: list[bytes]) -> tuple[list[ServerSentEvent], bool]:
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events, decoder.pending


def test_whole_stream_gives_the_expected_events() -> None:
    events, pending = _decode([STREAM])
    assert events == EXPECTED
    assert pending  # "data: incomplete" has no blank line yet


def test_every_single_split_gives_the_same_events() -> None:
    for k in range(len(STREAM) + 1):
        assert _decode([STREAM[:k], STREAM[k:]]) == (EXPECTED, True), f"split at byte {k}"


def test_every_pair_of_splits_gives_the_same_events() -> None:
    n = len(STREAM)
    for i in range(0, n + 1, 3):
        for j in range(i, n + 1, 5):
            chunks = [STREAM[:i], STREAM[i:j], STREAM[j:]]
            assert _decode(chunks)[0] == EXPECTED, f"splits at {i}, {j}"


def test_byte_by_byte_gives_the_same_events() -> None:
    assert _decode([STREAM[k : k + 1] for k in range(len(STREAM))]) == (EXPECTED, True)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=40))
def test_random_chunkings_give_the_same_events(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    chunks = [STREAM[a:b] for a, b in itertools.pairwise(bounds)]
    assert _decode(chunks) == (EXPECTED, True)


def test_crlf_split_between_cr_and_lf_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n") == []  # the LF completes the CR, it is not a blank line
    assert decoder.feed(b"\r\n") == [ServerSentEvent("message", "a")]


def test_events_are_returned_as_soon_as_their_blank_line_arrives() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: preliminary\ndata: 1\n") == []
    assert decoder.feed(b"\nevent: final\ndata: 2\n") == [ServerSentEvent("preliminary", "1")]
    assert decoder.feed(b"\n") == [ServerSentEvent("final", "2")]
    assert not decoder.pending


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert _decode([b"data: \xff\xfe\n\n"])[0] == [ServerSentEvent("message", "\ufffd\ufffd")]


def test_field_rules_of_the_specification() -> None:
    stream = (
        b"data:  two spaces keep one\n"  # only the first space after the colon goes
        b"id: bad\x00id\n"  # an id with NUL is ignored
        b"retry: 12x\n"  # a non-numeric retry is ignored
        b"unknown: field\n"  # unknown fields are ignored
        b"\n"
    )
    assert _decode([stream])[0] == [ServerSentEvent("message", " two spaces keep one")]
