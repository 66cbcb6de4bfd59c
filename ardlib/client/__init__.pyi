"""Public names of ardlib.client (read by lazy_loader.attach_stub and type checkers)."""

from ._client import Client
from ._errors import (
    ARDError,
    ConnectionFailed,
    HTTPStatusError,
    ProtocolError,
    RateLimited,
    RequestTimeout,
    ServerError,
    StreamError,
    Unauthorized,
)
from ._events import Event
from ._models import AIQuery, CostAnalysis, Experiment, Health, OptimizationRun
from ._records import Records
from ._retry import RetryBudget, RetryPolicy
from ._sse import ServerSentEvent, SSEDecoder

__all__ = [
    "AIQuery",
    "ARDError",
    "Client",
    "ConnectionFailed",
    "CostAnalysis",
    "Event",
    "Experiment",
    "HTTPStatusError",
    "Health",
    "OptimizationRun",
    "ProtocolError",
    "RateLimited",
    "Records",
    "RequestTimeout",
    "RetryBudget",
    "RetryPolicy",
    "SSEDecoder",
    "ServerError",
    "ServerSentEvent",
    "StreamError",
    "Unauthorized",
]
