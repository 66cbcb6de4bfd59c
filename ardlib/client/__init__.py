"""Client for the ARD backend: typed calls, retries, streamed reasoning.

- :class:`Client`: ``health``, ``experiments``, ``optimization_runs``, ``ai_queries``
  (each a :class:`Records` with ``.to_frame()``), ``create_experiment``,
  ``create_optimization_run`` (idempotent by default) and ``reason`` (an iterator of
  :class:`Event` objects, yielded as they arrive);
- :class:`RetryPolicy`, :class:`RetryBudget`: what is retried, how long to wait, when to
  stop;
- :class:`SSEDecoder`: the incremental ``text/event-stream`` parser behind ``reason``.

Errors form one tree; httpx errors are re-raised as these, ``from`` the original::

    ARDError                 base class: anything ardlib.client raises on purpose
    ├── ConnectionFailed     no usable connection: refused, reset, DNS, dropped mid-response
    ├── RequestTimeout       connect, read, write or connection-pool timeout
    ├── HTTPStatusError      4xx/5xx; .status, .error, .code (JSON body), .request_id
    │   ├── Unauthorized     401: missing or wrong X-API-Key
    │   ├── RateLimited      429 (.retry_after)
    │   └── ServerError      5xx
    └── ProtocolError        the answer breaks the API contract: not JSON, wrong shape
        └── StreamError      an event stream ended without ``done`` or had malformed data
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
