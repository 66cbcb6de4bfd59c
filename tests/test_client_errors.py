"""The exception tree: what each failure becomes, and what its message says."""

from __future__ import annotations

import inspect
import re

import httpx
import pytest

import ardlib.client as client_pkg
from ardlib.client import (
    ARDError,
    Client,
    ConnectionFailed,
    HTTPStatusError,
    ProtocolError,
    RequestTimeout,
    RetryPolicy,
    ServerError,
    Unauthorized,
)


def _client(handler: object, **kwargs: object) -> Client:
    return Client(
        "http://svc.test",
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        sleep=lambda s: None,
        rng=0,
        **kwargs,  # type: ignore[arg-type]
    )


def test_401_is_unauthorized_with_the_body_code_and_request_id() -> None:
    body = {"error": "Unauthorized", "code": "unauthorized"}
    client = _client(lambda r: httpx.Response(401, json=body, headers={"X-Request-ID": "r-1"}))
    with pytest.raises(Unauthorized) as info:
        client.experiments()
    err = info.value
    assert (err.status, err.error, err.code, err.request_id) == (
        401, "Unauthorized", "unauthorized", "r-1"
    )  # fmt: skip
    assert str(err) == (
        "HTTP 401 Unauthorized: Unauthorized [code unauthorized] [request id r-1] "
        "(GET http://svc.test/api/experiments?limit=100; 1 attempt)"
    )


def test_5xx_is_server_error_naming_method_url_and_attempts() -> None:
    client = _client(lambda r: httpx.Response(500, json={"error": "boom", "code": "internal"}))
    with pytest.raises(
        ServerError, match=r"^HTTP 500 Internal Server Error: boom \[code internal\]"
    ):
        client.health()
    client = _client(lambda r: httpx.Response(503), retry=RetryPolicy(max_attempts=2))
    with pytest.raises(ServerError) as info:
        client.ai_queries(limit=3)
    assert info.value.attempts == 2
    assert (
        "(GET http://svc.test/api/ai_queries?limit=3&include_cost_analysis=true; 2 attempts"
        in str(info.value)
    )


def test_fastapi_validation_detail_becomes_the_error_text() -> None:
    detail = {"detail": [{"loc": ["query", "limit"], "msg": "too big"}]}
    with pytest.raises(HTTPStatusError, match=r"HTTP 422 Unprocessable .*too big") as info:
        _client(lambda r: httpx.Response(422, json=detail)).health()
    assert type(info.value) is HTTPStatusError and info.value.code is None


def test_malformed_json_is_a_protocol_error() -> None:
    client = _client(lambda r: httpx.Response(200, text="<html>oops</html>"))
    with pytest.raises(ProtocolError) as info:
        client.health()
    message = str(info.value)
    assert message.startswith("response body is not valid JSON (status 200")
    assert message.endswith("(GET http://svc.test/health; 1 attempt)")


def test_connection_failure_keeps_the_httpx_cause() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with pytest.raises(ConnectionFailed) as info:
        _client(refuse, retry=RetryPolicy(max_attempts=2)).health()
    err = info.value
    assert isinstance(err.__cause__, httpx.ConnectError) and not err.request_sent
    assert str(err) == (
        "connection failed (ConnectError: [Errno 111] Connection refused) "
        "(GET http://svc.test/health; 2 attempts; gave up: max_attempts=2 reached)"
    )


def test_timeouts_become_request_timeout() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out")

    with pytest.raises(RequestTimeout) as info:
        _client(slow, retry=RetryPolicy(max_attempts=1)).health()
    assert isinstance(info.value.__cause__, httpx.ReadTimeout) and info.value.request_sent


def test_tree_drawn_in_the_docstring_matches_the_classes() -> None:
    doc = client_pkg.__doc__ or ""
    lines = [ln for ln in doc.splitlines() if re.match(r"^\s*(ARDError|[│ ]*[├└]── )", ln)]
    root = lines[0].index("ARDError")
    parents: dict[int, str] = {}
    seen = set()
    for line in lines:
        match = re.search(r"[A-Z]\w+", line)
        assert match, line
        depth, name = (match.start() - root) // 4, match.group()
        cls = getattr(client_pkg, name)
        assert issubclass(cls, ARDError)
        if depth:
            assert cls.__bases__[0].__name__ == parents[depth - 1], name
        parents[depth] = name
        seen.add(name)
    errors = {
        n for n, v in vars(client_pkg).items() if inspect.isclass(v) and issubclass(v, ARDError)
    }
    assert seen == errors
