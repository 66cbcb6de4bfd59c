"""``Client``: typed, retrying calls to the ARD backend API over httpx (sync)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

import httpx

from .. import __version__
from .._rng import RNGLike, as_generator
from .._validation import check_int, check_real
from ._events import Event
from ._models import AIQuery, Experiment, Health, OptimizationRun, _Record
from ._records import Records
from ._retry import RetryBudget, RetryPolicy
from ._send import Sender, events, expect_event_stream, identity, json_body

__all__ = ["Client"]

T = TypeVar("T")
R = TypeVar("R", bound=_Record)


class Client:
    """A client for the ARD backend: typed results, retries, streamed reasoning events.

    Parameters
    ----------
    base_url : str
        The service root, e.g. ``"http://127.0.0.1:8080"``.
    api_key : str or None
        Sent as ``X-API-Key`` on every request (reasoning and writes need it when the
        service enables auth).  Never shown in ``repr`` or error messages.
    timeout : float, default 10.0
        Seconds for each network operation of one attempt (connect, each read, write);
        also cut to the time left before the retry deadline.
    transport : httpx.BaseTransport or None
        Injected transport, e.g. ``httpx.MockTransport(handler)`` in tests.
    retry : RetryPolicy or None
        Retry settings; None means ``RetryPolicy()`` (see its documentation).
    sleep, clock : callables
        ``sleep(seconds)`` and a monotonic ``clock()``, injectable so tests record delays.
    rng : None, int or numpy.random.Generator
        Source of the backoff jitter.
    headers : mapping or None
        Extra headers for every request.

    Notes
    -----
    Retried (per :class:`RetryPolicy`): connection failures and timeouts, 429 and
    502/503/504, with full-jitter exponential backoff, ``Retry-After`` honoured, an
    overall deadline and a retry budget shared by all calls of this client.  A POST is
    replayed only when it carries an ``Idempotency-Key``; :meth:`create_experiment` and
    :meth:`create_optimization_run` send a fresh uuid4 key unless given one, so their
    retries never create duplicates.  :meth:`reason` is not replayed once sent.

    Examples
    --------
    >>> with Client("http://127.0.0.1:8080") as api:  # doctest: +SKIP
    ...     df = api.experiments(status="completed").to_frame(flatten_parameters=True)
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: RNGLike = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        url = httpx.URL(base_url) if isinstance(base_url, str) else None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise ValueError(
                "The 'base_url' parameter of Client must be an http(s) URL such as "
                f"'http://127.0.0.1:8080'. Got {base_url!r}."
            )
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(
                f"The 'retry' parameter of Client must be a RetryPolicy or None. Got {retry!r}."
            )
        self.base_url = str(url).rstrip("/")
        self.timeout = check_real(timeout, "timeout", owner="Client", low=0, low_inclusive=False)
        self.retry = retry if retry is not None else RetryPolicy()
        self._has_key = bool(api_key)
        base_headers = {"User-Agent": f"ardlib/{__version__}"}
        if api_key:
            base_headers["X-API-Key"] = api_key
        base_headers.update(headers or {})
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, timeout=self.timeout, headers=base_headers
        )
        self._sender = Sender(
            self._http,
            timeout=self.timeout,
            policy=self.retry,
            rng=as_generator(rng),
            sleep=sleep,
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections (also done when leaving a ``with`` block)."""
        self._http.close()

    @property
    def retry_budget(self) -> RetryBudget:
        """The retry budget shared by this client's calls (``tokens``, ``acquired``, ``denied``)."""
        return self._sender.budget

    @property
    def has_api_key(self) -> bool:
        """True when the client sends an ``X-API-Key``."""
        return self._has_key

    # -- reading -------------------------------------------------------------------------

    def health(self) -> Health:
        """``GET /health``: the service's status (``.ok``), version and extra fields.

        Returns
        -------
        Health
        """
        return self._json_call("GET", "/health", parse=Health.from_dict)

    def experiments(
        self,
        *,
        status: str | None = None,
        optimization_run_id: int | str | None = None,
        created_by: str | None = None,
        limit: int = 100,
    ) -> Records[Experiment]:
        """``GET /api/experiments``: experiments, newest first, filtered as given.

        Parameters
        ----------
        status : str, optional
            Only experiments with this status.
        optimization_run_id : int or str, optional
            Only experiments of this run.
        created_by : str, optional
            Only experiments by this author.
        limit : int, default 100
            At most this many records.

        Returns
        -------
        Records of Experiment
        """
        return self._listing(
            "experiments", Experiment, status=status, optimization_run_id=optimization_run_id,
            created_by=created_by, limit=limit,
        )  # fmt: skip

    def optimization_runs(
        self,
        *,
        status: str | None = None,
        method: str | None = None,
        created_by: str | None = None,
        limit: int = 50,
    ) -> Records[OptimizationRun]:
        """``GET /api/optimization_runs``: optimization runs, newest first.

        Parameters
        ----------
        status : str, optional
            Only runs with this status.
        method : str, optional
            Only runs of this planner.
        created_by : str, optional
            Only runs by this author.
        limit : int
            At most this many records (the service allows up to 1000).

        Returns
        -------
        Records of OptimizationRun
        """
        return self._listing(
            "optimization_runs", OptimizationRun, status=status, method=method,
            created_by=created_by, limit=limit,
        )  # fmt: skip

    def ai_queries(
        self,
        *,
        selected_model: str | None = None,
        created_by: str | None = None,
        limit: int = 100,
        include_cost_analysis: bool = True,
    ) -> Records[AIQuery]:
        """``GET /api/ai_queries``: logged queries; ``.cost_analysis`` holds the totals.

        Parameters
        ----------
        selected_model : str, optional
            Only queries answered by this model.
        created_by : str, optional
            Only queries by this author.
        limit : int
            At most this many records (the service allows up to 1000).
        include_cost_analysis : bool, default True
            Ask for the cost totals.

        Returns
        -------
        Records of AIQuery
        """
        return self._listing(
            "ai_queries", AIQuery, selected_model=selected_model, created_by=created_by,
            limit=limit, include_cost_analysis="true" if include_cost_analysis else "false",
        )  # fmt: skip

    # -- writing -------------------------------------------------------------------------

    def create_experiment(
        self,
        *,
        parameters: Mapping[str, Any],
        method: str | None = None,
        optimization_run_id: int | str | None = None,
        status: str | None = None,
        context: Any = None,
        noise_estimate: float | None = None,
        results: Any = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        error_message: str | None = None,
        created_by: str | None = None,
        idempotency_key: str | None = None,
    ) -> Experiment:
        """``POST /api/experiments``: store an experiment and return it as stored.

        Fields left None are not sent.  ``idempotency_key`` (default: a fresh uuid4) is
        sent as ``Idempotency-Key`` and kept across retries, so a retried call never
        stores the experiment twice; pass your own to make a repeated call safe too.

        Parameters
        ----------
        parameters : mapping
            The point evaluated (name -> value).
        method, optimization_run_id, status, context : optional
            Fields of :class:`Experiment`.
        noise_estimate, results, start_time, end_time : optional
            Fields of :class:`Experiment`.
        error_message, created_by : optional
            Fields of :class:`Experiment`.
        idempotency_key : str, optional
            Sent as ``Idempotency-Key``; default a fresh uuid4.

        Returns
        -------
        Experiment
            As stored.
        """
        body = _body(
            parameters=parameters, method=method, optimization_run_id=optimization_run_id,
            status=status, context=context, noise_estimate=noise_estimate, results=results,
            start_time=start_time, end_time=end_time, error_message=error_message,
            created_by=created_by,
        )  # fmt: skip
        return self._create("/api/experiments", "experiment", Experiment, body, idempotency_key)

    def create_optimization_run(
        self,
        *,
        method: str,
        name: str | None = None,
        objective: str | None = None,
        goal: str | None = None,
        parameter_space: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        status: str | None = None,
        budget: int | None = None,
        best_value: float | None = None,
        best_parameters: Mapping[str, Any] | None = None,
        results: Mapping[str, Any] | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        error_message: str | None = None,
        created_by: str | None = None,
        idempotency_key: str | None = None,
    ) -> OptimizationRun:
        """``POST /api/optimization_runs``: store a run and return it as stored.

        Fields left None are not sent; ``idempotency_key`` works as in
        :meth:`create_experiment` (a fresh uuid4 by default, kept across retries).

        Parameters
        ----------
        method : str
            The planner's name.
        name, objective, goal, parameter_space, config, status : optional
            Fields of :class:`OptimizationRun`.
        budget, best_value, best_parameters, results, start_time, end_time : optional
            Fields of :class:`OptimizationRun`.
        error_message, created_by : optional
            Fields of :class:`OptimizationRun`.
        idempotency_key : str, optional
            Sent as ``Idempotency-Key``; default a fresh uuid4.

        Returns
        -------
        OptimizationRun
            As stored.
        """
        body = _body(
            method=method, name=name, objective=objective, goal=goal,
            parameter_space=parameter_space, config=config, status=status, budget=budget,
            best_value=best_value, best_parameters=best_parameters, results=results,
            start_time=start_time, end_time=end_time, error_message=error_message,
            created_by=created_by,
        )  # fmt: skip
        return self._create(
            "/api/optimization_runs", "optimization_run", OptimizationRun, body, idempotency_key
        )

    # -- reasoning -----------------------------------------------------------------------

    def reason(self, query: str, context: Mapping[str, Any] | None = None) -> Iterator[Event]:
        """``POST /api/reasoning/query``: yield the answer's events as they arrive.

        Typically ``preliminary``, ``final``, then ``done`` (``error`` on failure); the
        iterator ends after ``done``.  The request is sent when iteration starts and is
        not replayed once sent.  Raises :class:`StreamError` when the stream ends
        without ``done`` or an event's data is not a JSON object.

        Parameters
        ----------
        query : str
            The question.
        context : mapping or None
            E.g. ``{"parameter_space": {"bounds": [[0, 1], [0, 1]]}, "observations":
            {"X": [[0.1, 0.2]], "y": [1.0]}, "goal": "minimize"}``.

        Returns
        -------
        iterator of Event
        """
        if not isinstance(query, str) or not query.strip():
            raise ValueError(
                f"The 'query' parameter of Client.reason must be a non-empty string. Got {query!r}."
            )
        return self._event_stream({"query": query, "context": dict(context or {})})

    def _event_stream(self, body: dict[str, Any]) -> Iterator[Event]:
        response, attempts = self._sender.call(
            "POST", "/api/reasoning/query", json=body,
            headers={"Accept": "text/event-stream"}, parse=expect_event_stream, stream=True,
        )  # fmt: skip
        yield from events(response, attempts)

    # -- plumbing ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        retries: bool = True,
        raise_for_status: bool = True,
    ) -> httpx.Response:
        """Send any request (body read) with this client's retries and error mapping.

        A POST/PATCH is replayed only with ``idempotency_key`` (or an ``Idempotency-Key``
        header).  ``retries=False`` sends once; ``raise_for_status=False`` returns 4xx/5xx
        responses instead of raising (statuses are then not retried), for callers that
        judge raw responses themselves (``ardlib.deploy``'s deployment checks).

        Parameters
        ----------
        method : str
            HTTP method.
        path : str
            Path below the base URL.
        params : mapping, optional
            Query parameters.
        json : JSON-able, optional
            The request body.
        headers : mapping, optional
            Extra headers.
        idempotency_key : str, optional
            Makes a POST/PATCH safe to replay.
        retries : bool, default True
            Apply the retry policy.
        raise_for_status : bool, default True
            Raise on 4xx/5xx instead of returning the response.

        Returns
        -------
        httpx.Response
            With its body read.
        """
        hdrs = dict(headers or {})
        if idempotency_key:
            hdrs["Idempotency-Key"] = idempotency_key
        response, _ = self._sender.call(
            method.upper(), path, params=params, json=json, headers=hdrs,
            parse=identity, retries=retries, raise_for_status=raise_for_status,
        )  # fmt: skip
        return response

    def _listing(self, key: str, model: type[R], **params: Any) -> Records[R]:
        """``GET /api/<key>`` with the ``params`` that are not None (``limit`` checked)."""
        params["limit"] = check_int(params["limit"], "limit", owner=f"Client.{key}", low=1)
        params = {k: v for k, v in params.items() if v is not None}
        return self._json_call(
            "GET", f"/api/{key}", params=params,
            parse=lambda body: Records.from_payload(body, key, model),
        )  # fmt: skip

    def _create(
        self,
        path: str,
        key: str,
        model: type[R],
        body: dict[str, Any],
        idempotency_key: str | None,
    ) -> R:
        def parse(payload: Any) -> R:
            inner = payload.get(key) if isinstance(payload, dict) else None
            return model.from_dict(inner if isinstance(inner, dict) else payload)

        key_header = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        return self._json_call("POST", path, json=body, headers=key_header, parse=parse)

    def _json_call(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[Any], T],
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> T:
        hdrs = {"Accept": "application/json", **(headers or {})}
        result, _ = self._sender.call(
            method, path, params=params, json=json, headers=hdrs,
            parse=lambda response: parse(json_body(response)),
        )  # fmt: skip
        return result


def _body(**values: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Mapping):
            value = dict(value)
        if value is not None:
            out[key] = value
    return out
