"""Retries: what is replayed, how long the client waits, and when it stops.

A fake clock advances only when the injected ``sleep`` is called (or a handler says time
passed), so delays are recorded exactly and nothing waits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import numpy as np
import pytest

from ardlib.client import (
    Client,
    ConnectionFailed,
    RateLimited,
    RequestTimeout,
    RetryBudget,
    RetryPolicy,
    ServerError,
)
from ardlib.client._retry import parse_retry_after

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]
OK = {"status": "ok"}


class FakeTime:
    """``sleep`` records and advances ``now``; ``clock`` reads it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


class Script:
    """A transport handler playing ``steps`` in order (the last one repeats)."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return httpx.Response(step.status_code, headers=step.headers, content=step.content)
        return step(request)


def make(
    script: Script, policy: RetryPolicy | None = None, rng: int = 0
) -> tuple[Client, FakeTime]:
    t = FakeTime()
    client = Client(
        "http://svc.test",
        transport=httpx.MockTransport(script),
        retry=policy,
        sleep=t.sleep,
        clock=t.clock,
        rng=rng,
    )
    return client, t


def ceiling(k: int, policy: RetryPolicy) -> float:
    return min(policy.max_delay, policy.base_delay * 2 ** (k - 1))


def test_connect_errors_then_success() -> None:
    script = Script(*[httpx.ConnectError("refused")] * 3, httpx.Response(200, json=OK))
    client, t = make(script)
    assert client.health().ok
    assert len(script.requests) == 4 and len(t.sleeps) == 3
    policy = RetryPolicy()
    for k, delay in enumerate(t.sleeps, start=1):
        assert 0 <= delay <= ceiling(k, policy)
    assert client.retry_budget.acquired == 3


def test_backoff_is_full_jitter_within_capped_exponential_bounds() -> None:
    policy = RetryPolicy(max_attempts=7, base_delay=0.5, max_delay=4.0, deadline=None,
                         budget_capacity=1e9)  # fmt: skip
    delays: list[list[float]] = []
    for seed in range(150):
        client, t = make(Script(httpx.Response(503)), policy, rng=seed)
        with pytest.raises(ServerError):
            client.health()
        delays.append(t.sleeps)
    d = np.array(delays)  # (150 calls, 6 retries)
    caps = np.array([ceiling(k, policy) for k in range(1, 7)])
    assert caps.tolist() == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]  # capped exponential
    assert (d >= 0).all() and (d <= caps).all()
    # Full jitter: uniform on [0, cap], so the mean is cap/2 and small waits occur.
    assert np.allclose(d.mean(axis=0) / caps, 0.5, atol=0.08)
    assert (d.min(axis=0) / caps < 0.05).all() and (d.max(axis=0) / caps > 0.95).all()


def test_same_seed_same_delays() -> None:
    def sleeps(seed: int) -> list[float]:
        client, t = make(Script(httpx.Response(503)), rng=seed)
        with pytest.raises(ServerError):
            client.health()
        return t.sleeps

    assert sleeps(3) == sleeps(3) != sleeps(4)


def test_503_then_success_and_other_statuses_not_retried() -> None:
    script = Script(httpx.Response(503), httpx.Response(502), httpx.Response(200, json=OK))
    client, t = make(script)
    assert client.health().ok and len(script.requests) == 3
    for status in (500, 404, 422):
        script = Script(httpx.Response(status), httpx.Response(200, json=OK))
        client, t = make(script)
        with pytest.raises(Exception) as info:
            client.health()
        assert len(script.requests) == 1 and t.sleeps == [] and info.value.gave_up is None


def test_retry_after_seconds_is_honoured() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json=OK))
    client, t = make(script)
    assert client.health().ok
    assert t.sleeps == [2.0]  # the jittered backoff (<= 0.2 s) is shorter: Retry-After wins


def test_retry_after_http_date_is_measured_from_the_server_date() -> None:
    headers = {
        "Date": "Wed, 21 Oct 2015 07:28:00 GMT",
        "Retry-After": "Wed, 21 Oct 2015 07:28:03 GMT",
    }
    script = Script(httpx.Response(503, headers=headers), httpx.Response(200, json=OK))
    client, t = make(script)
    client.health()
    assert t.sleeps == [3.0]


def test_deadline_stops_retrying_with_the_last_error() -> None:
    script = Script(httpx.Response(503, headers={"Retry-After": "0.6"}, json={"error": "busy"}))
    client, t = make(script, RetryPolicy(deadline=1.0))
    with pytest.raises(ServerError) as info:
        client.health()
    # t=0 attempt 1, wait 0.6, t=0.6 attempt 2; waiting 0.6 more would pass t=1.0: stop.
    assert len(script.requests) == 2 and t.sleeps == [0.6] and t.now < 1.0
    err = info.value
    assert err.attempts == 2 and "deadline" in (err.gave_up or "")
    assert str(err).startswith("HTTP 503 Service Unavailable: busy (GET http://svc.test/health;")
    assert "2 attempts; gave up: waiting 0.6 s would pass the 1 s deadline" in str(err)


def test_retry_after_beyond_the_deadline_fails_at_once() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "3600"}))
    client, t = make(script, RetryPolicy(deadline=30.0))
    with pytest.raises(RateLimited) as info:
        client.health()
    assert t.sleeps == [] and info.value.retry_after == 3600.0
    assert "deadline" in str(info.value)


def test_slow_attempts_count_against_the_deadline_and_cut_the_timeout() -> None:
    t_holder: list[FakeTime] = []

    def slow(request: httpx.Request) -> httpx.Response:
        t_holder[0].now += 4.0  # each attempt takes 4 s
        return httpx.Response(504)

    script = Script(slow)
    client, t = make(script, RetryPolicy(deadline=10.0, base_delay=0.0))
    t_holder.append(t)
    with pytest.raises(ServerError) as info:
        client.health()
    assert len(script.requests) == 3 and info.value.attempts == 3
    timeouts = [r.extensions["timeout"]["read"] for r in script.requests]
    assert timeouts == [pytest.approx(10.0), pytest.approx(6.0), pytest.approx(2.0)]


def test_retry_budget_exhaustion_fails_fast() -> None:
    policy = RetryPolicy(max_attempts=10, deadline=None, budget_capacity=3, success_refund=0.5)
    script = Script(httpx.Response(503))
    client, _t = make(script, policy)
    with pytest.raises(ServerError) as info:
        client.health()
    assert len(script.requests) == 4  # the first attempt and 3 retries
    assert "retry budget exhausted" in str(info.value) and info.value.attempts == 4
    with pytest.raises(ServerError, match="retry budget exhausted"):
        client.health()
    assert len(script.requests) == 5  # no retry at all: the service is not stormed
    # Two successes refund 2 x 0.5 tokens: exactly one retry is allowed again.
    script.steps = [httpx.Response(200, json=OK)]
    client.health()
    client.health()
    assert client.retry_budget.tokens == pytest.approx(1.0)
    script.steps = [httpx.Response(503)]
    n = len(script.requests)
    with pytest.raises(ServerError):
        client.health()
    assert len(script.requests) - n == 2


def test_budget_never_exceeds_capacity() -> None:
    budget = RetryBudget(2.0, retry_cost=1.0, success_refund=0.4)
    for _ in range(10):
        budget.refund()
    assert budget.tokens == 2.0
    assert budget.try_acquire() and budget.try_acquire() and not budget.try_acquire()
    assert (budget.acquired, budget.denied) == (2, 1)


def test_max_attempts_reached_is_reported() -> None:
    client, _t = make(Script(httpx.Response(502)), RetryPolicy(max_attempts=3))
    with pytest.raises(ServerError, match=r"3 attempts; gave up: max_attempts=3 reached"):
        client.health()


def test_post_without_idempotency_key_is_never_replayed() -> None:
    script = Script(httpx.Response(503), httpx.Response(201, json={"id": 1}))
    client, t = make(script)
    with pytest.raises(ServerError) as info:
        client.request("POST", "/api/experiments", json={"parameters": {}})
    assert len(script.requests) == 1 and t.sleeps == []
    assert "POST without an Idempotency-Key is never replayed" in str(info.value)
    # A read timeout may mean the service acted: not replayed either.
    script = Script(httpx.ReadTimeout("slow"), httpx.Response(201, json={"id": 1}))
    client, t = make(script)
    with pytest.raises(RequestTimeout):
        client.request("POST", "/api/experiments", json={"parameters": {}})
    assert len(script.requests) == 1


def test_post_that_never_reached_the_service_is_resent() -> None:
    script = Script(httpx.ConnectError("refused"), httpx.Response(201, json={"id": 1}))
    client, _t = make(script)
    assert client.request("POST", "/api/experiments", json={}).status_code == 201
    assert len(script.requests) == 2


def test_post_with_idempotency_key_is_retried_with_the_same_key_and_body() -> None:
    created = {"id": 5, "parameters": {"x": 1}, "created_at": "2024-01-01T00:00:00Z"}
    script = Script(
        httpx.Response(503), httpx.ReadTimeout("slow"), httpx.Response(201, json=created)
    )
    client, t = make(script)
    assert client.create_experiment(parameters={"x": 1}).id == 5
    assert len(script.requests) == 3 and len(t.sleeps) == 2
    keys = {r.headers["Idempotency-Key"] for r in script.requests}
    bodies = {r.content for r in script.requests}
    assert len(keys) == 1 and len(bodies) == 1


def test_read_timeout_on_get_is_retried() -> None:
    script = Script(httpx.ReadTimeout("slow"), httpx.Response(200, json=OK))
    client, _t = make(script)
    assert client.health().ok and len(script.requests) == 2


def test_retries_false_sends_once() -> None:
    script = Script(httpx.ConnectError("refused"))
    client, _t = make(script)
    with pytest.raises(ConnectionFailed):
        client.request("GET", "/health", retries=False)
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0), (" 1.5 ", 1.5), ("0", 0.0), ("-1", None), ("soon", None), (None, None),
        ("nan", None), ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # a date in the past: no wait
    ],
)  # fmt: skip
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == expected


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"max_attempts": 0}, "max_attempts"), ({"base_delay": -1}, "base_delay"),
     ({"deadline": 0}, "deadline"), ({"success_refund": float("inf")}, "success_refund")],
)  # fmt: skip
def test_policy_validates_its_settings(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=f"'{name}' parameter of RetryPolicy"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
