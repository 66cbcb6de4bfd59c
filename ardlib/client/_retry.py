"""When and how long to retry: small parts composed by :func:`call_with_retries`.

The parts, each testable alone:

- :class:`RetryPolicy`: the settings (attempts, backoff, deadline, statuses, budget);
- :func:`should_retry`: what is safe to replay (google-api-core's and botocore's rules);
- :func:`backoff_delay`: capped exponential backoff with *full* jitter, drawn from an
  injected, seedable generator;
- :func:`parse_retry_after`: ``Retry-After`` in seconds or as an HTTP date;
- :class:`RetryBudget`: a token bucket shared by all calls of one client (botocore's
  "standard" retry quota) so a failing service is not stormed;
- :func:`call_with_retries`: the loop; ``sleep`` and ``clock`` are injected so tests record
  the delays instead of waiting.

Why not tenacity's ``Retrying``: its stop conditions read ``time.monotonic`` directly (an
overall deadline could not be tested without really waiting), its jitter draws from the
global :mod:`random` state (ardlib never touches global random state, see DESIGN.md), and
the retry budget and the ``Retry-After``/deadline interplay would be callbacks around it
anyway.  The loop below is the thirty lines left once those parts exist.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import numpy as np

from ._errors import ARDError, ConnectionFailed, HTTPStatusError, RequestTimeout

__all__ = [
    "IDEMPOTENT_METHODS",
    "RetryBudget",
    "RetryPolicy",
    "backoff_delay",
    "call_with_retries",
    "parse_retry_after",
    "should_retry",
]

T = TypeVar("T")

#: Methods RFC 9110 defines as idempotent; other methods need an ``Idempotency-Key``.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How a :class:`~ardlib.client.Client` retries.

    Parameters
    ----------
    max_attempts : int, default 5
        Attempts per call, the first included; 1 disables retries.
    base_delay, max_delay : float, default 0.2 and 10.0
        Backoff before retry ``k`` (1-based) is drawn uniformly from
        ``[0, min(max_delay, base_delay * 2**(k-1))]`` ("full jitter").
    deadline : float or None, default 30.0
        Seconds a call may take, attempts and waits included.  A wait that would end past
        the deadline is not started: the call fails at once with the last error.  Each
        attempt's timeout is also cut to the time left.
    retry_statuses : frozenset of int, default {429, 502, 503, 504}
        Statuses worth retrying (only for requests that are safe to replay).
    respect_retry_after : bool, default True
        Wait at least the ``Retry-After`` the service sent (seconds or HTTP date).
    budget_capacity, retry_cost, success_refund : float, default 10, 1 and 0.2
        The retry budget (:class:`RetryBudget`): a retry spends ``retry_cost`` tokens, a
        success returns ``success_refund`` (never above ``budget_capacity``); with no
        tokens left, calls fail fast.  From full, 10 retries in a row are allowed; in
        steady state retries stay below 20% of successful calls, enough for a service with
        10% transient faults and too little to storm one that is down.
    """

    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0
    deadline: float | None = 30.0
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})
    respect_retry_after: bool = True
    budget_capacity: float = 10.0
    retry_cost: float = 1.0
    success_refund: float = 0.2

    def __post_init__(self) -> None:
        if not (isinstance(self.max_attempts, int) and self.max_attempts >= 1):
            raise ValueError(
                "The 'max_attempts' parameter of RetryPolicy must be an int >= 1. "
                f"Got {self.max_attempts!r}."
            )
        for name in ("base_delay", "max_delay", "budget_capacity", "retry_cost", "success_refund"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(
                    f"The '{name}' parameter of RetryPolicy must be a finite float >= 0. "
                    f"Got {value!r}."
                )
        if self.deadline is not None and not self.deadline > 0:
            raise ValueError(
                "The 'deadline' parameter of RetryPolicy must be a float > 0 or None. "
                f"Got {self.deadline!r}."
            )


class RetryBudget:
    """Token bucket limiting retries across all calls of a client (thread-safe).

    Starts full with ``capacity`` tokens.  :meth:`try_acquire` takes ``retry_cost`` tokens
    for one retry, or refuses when fewer are left; :meth:`refund` adds ``success_refund``
    after a successful call, up to ``capacity``.  ``acquired`` and ``denied`` count the
    retries granted and refused.

    Parameters
    ----------
    capacity : float, default 10
        Tokens when full.
    retry_cost : float, default 1
        Tokens one retry takes.
    success_refund : float, default 0.2
        Tokens a successful call returns.
    """

    def __init__(
        self, capacity: float = 10.0, *, retry_cost: float = 1.0, success_refund: float = 0.2
    ) -> None:
        self.capacity = float(capacity)
        self.retry_cost = float(retry_cost)
        self.success_refund = float(success_refund)
        self._tokens = self.capacity
        self._lock = threading.Lock()
        self.acquired = 0
        self.denied = 0

    @classmethod
    def from_policy(cls, policy: RetryPolicy) -> RetryBudget:
        """A full budget sized by ``policy``'s budget settings.

        Parameters
        ----------
        policy : RetryPolicy
            Supplies ``budget_capacity``, ``retry_cost`` and ``success_refund``.

        Returns
        -------
        RetryBudget
        """
        return cls(
            policy.budget_capacity,
            retry_cost=policy.retry_cost,
            success_refund=policy.success_refund,
        )

    @property
    def tokens(self) -> float:
        """Tokens left."""
        return self._tokens

    def try_acquire(self) -> bool:
        """Take the tokens for one retry; False (and nothing taken) when too few are left.

        Returns
        -------
        bool
            True when a retry was granted.
        """
        with self._lock:
            if self._tokens + 1e-9 < self.retry_cost:
                self.denied += 1
                return False
            self._tokens -= self.retry_cost
            self.acquired += 1
            return True

    def refund(self) -> None:
        """Return ``success_refund`` tokens after a successful call."""
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + self.success_refund)


def backoff_delay(retry: int, policy: RetryPolicy, rng: np.random.Generator) -> float:
    """Full-jitter delay before retry number ``retry`` (1 for the first retry).

    Uniform on ``[0, min(policy.max_delay, policy.base_delay * 2**(retry - 1))]``, the
    "full jitter" of Brooker (AWS Architecture Blog, 2015), which spreads synchronized
    clients best.
    """
    ceiling = min(policy.max_delay, policy.base_delay * 2.0 ** min(retry - 1, 60))
    return float(rng.uniform(0.0, ceiling)) if ceiling > 0 else 0.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or None if absent or invalid.

    ``value`` is either a number of seconds or an HTTP date (RFC 9110 10.2.3); a date is
    measured from ``now`` (aware; default: the current UTC time), and a date in the past
    gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def should_retry(
    error: ARDError, *, idempotent: bool, policy: RetryPolicy
) -> tuple[bool, str | None]:
    """Whether retrying ``error`` is safe and useful, and a note when safety forbids it.

    - A request that never reached the service (connection refused, connect or pool
      timeout) is always safe to resend.
    - Anything else is replayed only for idempotent requests: GET-like methods, or a POST
      carrying an ``Idempotency-Key`` (the service then answers a replay with the first
      result instead of acting twice).
    - Worth retrying: connection failures, timeouts, and ``policy.retry_statuses``.
      Other statuses (400, 401, 404, 422, 500...) and protocol errors are not transient.
    """
    transient = isinstance(error, ConnectionFailed | RequestTimeout) or (
        isinstance(error, HTTPStatusError) and error.status in policy.retry_statuses
    )
    if not transient:
        return False, None
    if idempotent or not error.request_sent:
        return True, None
    return False, f"not retried: {error.method} without an Idempotency-Key is never replayed"


def call_with_retries(
    attempt: Callable[[int, float | None], T],
    *,
    idempotent: bool,
    policy: RetryPolicy,
    budget: RetryBudget,
    rng: np.random.Generator,
    sleep: Callable[[float], object],
    clock: Callable[[], float],
) -> T:
    """Call ``attempt(n, time_left)`` until it returns, retrying :class:`ARDError` per policy.

    ``n`` counts attempts from 1; ``time_left`` is the seconds left before the deadline
    (None without one).  The error finally raised carries ``attempts`` and, when retrying
    stopped early, ``gave_up`` (max attempts, deadline or budget).
    """
    start = clock()
    deadline = None if policy.deadline is None else start + policy.deadline
    n = 0
    while True:
        n += 1
        time_left = None if deadline is None else max(deadline - clock(), 0.0)
        try:
            result = attempt(n, time_left)
        except ARDError as error:
            error.attempts = n
            delay = _next_delay(error, n, idempotent, policy, rng, deadline, clock)
            if delay is None or not _spend(error, budget):
                raise
            sleep(delay)
        else:
            budget.refund()
            return result


def _next_delay(
    error: ARDError,
    n: int,
    idempotent: bool,
    policy: RetryPolicy,
    rng: np.random.Generator,
    deadline: float | None,
    clock: Callable[[], float],
) -> float | None:
    """The wait before the next attempt, or None (with ``error.gave_up`` set) to stop."""
    retry, note = should_retry(error, idempotent=idempotent, policy=policy)
    if not retry:
        error.gave_up = note
        return None
    if n >= policy.max_attempts:
        error.gave_up = f"gave up: max_attempts={policy.max_attempts} reached"
        return None
    delay = backoff_delay(n, policy, rng)
    retry_after = getattr(error, "retry_after", None)
    if policy.respect_retry_after and retry_after is not None:
        delay = max(delay, float(retry_after))
    if deadline is not None and clock() + delay >= deadline:
        left = max(deadline - clock(), 0.0)
        error.gave_up = (
            f"gave up: waiting {delay:.3g} s would pass the {policy.deadline:g} s deadline "
            f"({left:.3g} s left)"
        )
        return None
    return delay


def _spend(error: ARDError, budget: RetryBudget) -> bool:
    if budget.try_acquire():
        return True
    error.gave_up = f"gave up: retry budget exhausted ({budget.tokens:.2f} tokens left)"
    return False
