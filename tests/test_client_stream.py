"""``Client.reason``: events are yielded as they arrive; broken streams raise StreamError."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from ardlib.client import (
    Client,
    ConnectionFailed,
    Event,
    ProtocolError,
    ServerError,
    StreamError,
    Unauthorized,
)

SSE = {"Content-Type": "text/event-stream; charset=utf-8"}


def sse(kind: str, data: dict[str, object]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


PRELIMINARY = sse("preliminary", {"response": {"content": "try (0.3, 0.4)"}, "trace_id": "t"})
FINAL = sse("final", {"response": {"content": "try (0.31, 0.42)"}, "trace_id": "t"})
DONE = sse("done", {"trace_id": "t"})


def streaming_client(
    chunks: Callable[[], Iterator[bytes]],
    seen: list[httpx.Request] | None = None,
    status: int = 200,
    headers: dict[str, str] = SSE,
) -> Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, headers=headers, content=chunks())

    return Client(
        "http://svc.test", "k", transport=httpx.MockTransport(handler), sleep=lambda s: None
    )


def test_events_are_yielded_before_the_stream_ends() -> None:
    produced: list[str] = []

    def chunks() -> Iterator[bytes]:
        # The preliminary event arrives in two pieces; the rest is produced only on demand.
        for label, chunk in [
            ("p1", PRELIMINARY[:7]), ("p2", PRELIMINARY[7:]), ("f", FINAL), ("d", DONE),
        ]:  # fmt: skip
            produced.append(label)
            yield chunk

    seen: list[httpx.Request] = []
    events = streaming_client(chunks, seen).reason("next?", {"goal": "minimize"})
    assert seen == []  # nothing is sent until iteration starts
    first = next(events)
    assert first.kind == "preliminary" and first.content == "try (0.3, 0.4)"
    assert produced == ["p1", "p2"]  # the final answer has not even been produced yet
    rest = list(events)
    assert [e.kind for e in rest] == ["final", "done"] and produced == ["p1", "p2", "f", "d"]
    assert {e.trace_id for e in [first, *rest]} == {"t"}
    request = seen[0]
    assert (request.method, request.url.path) == ("POST", "/api/reasoning/query")
    assert json.loads(request.content) == {"query": "next?", "context": {"goal": "minimize"}}
    assert request.headers["Accept"] == "text/event-stream" and request.headers["X-API-Key"] == "k"


def test_iteration_stops_after_done_even_if_bytes_follow() -> None:
    events = list(streaming_client(lambda: iter([PRELIMINARY + DONE + FINAL])).reason("q"))
    assert [e.kind for e in events] == ["preliminary", "done"]


def test_error_event_is_yielded_typed() -> None:
    error = sse("error", {"error": "planner failed", "type": "planner_error",
                          "retryable": False, "code": "planner_failed"})  # fmt: skip
    events = list(streaming_client(lambda: iter([error, DONE])).reason("q"))
    assert events[0] == Event(
        "error",
        {"error": "planner failed", "type": "planner_error", "retryable": False,
         "code": "planner_failed"},
    )  # fmt: skip
    assert events[0].is_error and events[0].response is None and events[1].kind == "done"


def test_stream_without_done_raises_stream_error_after_the_events() -> None:
    events = streaming_client(lambda: iter([PRELIMINARY, FINAL])).reason("q")
    assert [next(events).kind, next(events).kind] == ["preliminary", "final"]
    with pytest.raises(StreamError, match=r"ended without a 'done' event \(POST http"):
        next(events)


def test_stream_cut_inside_an_event_says_so() -> None:
    events = streaming_client(lambda: iter([PRELIMINARY, FINAL[:20]])).reason("q")
    with pytest.raises(StreamError, match="an incomplete event was discarded"):
        list(events)


def test_malformed_event_data_raises_stream_error() -> None:
    bad = b"event: final\ndata: {not json\n\n"
    with pytest.raises(StreamError, match="malformed data in 'final' event") as info:
        list(streaming_client(lambda: iter([PRELIMINARY, bad, DONE])).reason("q"))
    assert "POST http://svc.test/api/reasoning/query; 1 attempt" in str(info.value)
    with pytest.raises(StreamError, match="expected a JSON object, got list"):
        list(streaming_client(lambda: iter([b"event: final\ndata: [1]\n\n"])).reason("q"))


def test_connection_lost_mid_stream_is_connection_failed() -> None:
    def chunks() -> Iterator[bytes]:
        yield PRELIMINARY
        raise httpx.ReadError("connection reset by peer")

    events = streaming_client(chunks).reason("q")
    assert next(events).kind == "preliminary"
    with pytest.raises(ConnectionFailed, match="ReadError: connection reset") as info:
        next(events)
    assert isinstance(info.value.__cause__, httpx.ReadError)


def test_http_errors_raise_at_first_iteration_and_are_not_replayed() -> None:
    seen: list[httpx.Request] = []
    body = json.dumps({"error": "Unauthorized", "code": "unauthorized"}).encode()
    client = streaming_client(lambda: iter([body]), seen, status=401, headers={})
    with pytest.raises(Unauthorized, match=r"\[code unauthorized\]"):
        next(client.reason("q"))
    seen.clear()
    client = streaming_client(lambda: iter([b""]), seen, status=503, headers={})
    with pytest.raises(ServerError, match="never replayed"):
        next(client.reason("q"))
    assert len(seen) == 1


def test_wrong_content_type_is_a_protocol_error() -> None:
    client = streaming_client(lambda: iter([b"{}"]), headers={"Content-Type": "application/json"})
    with pytest.raises(ProtocolError, match="expected content-type text/event-stream"):
        next(client.reason("q"))


def test_empty_query_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match=r"'query' parameter of Client\.reason"):
        streaming_client(lambda: iter([])).reason("  ")
