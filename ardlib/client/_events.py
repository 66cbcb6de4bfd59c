"""The events of ``POST /api/reasoning/query``: typed, parsed from server-sent events."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ._sse import ServerSentEvent

__all__ = ["EVENT_KINDS", "Event"]

#: The event kinds of the API, in stream order (``error`` replaces ``preliminary``/``final``).
EVENT_KINDS = ("preliminary", "final", "error", "done")


@dataclasses.dataclass(frozen=True)
class Event:
    """One reasoning event.

    Attributes
    ----------
    kind : str
        ``"preliminary"`` (a fast first answer), ``"final"`` (the verified answer),
        ``"error"`` or ``"done"`` (always last); another name if the service adds one.
    data : dict
        The event's JSON object: ``{"response": {...}, "message", "trace_id"}`` for
        preliminary/final, ``{"error", "type", "retryable", "code"}`` for error,
        ``{"trace_id"}`` for done.
    id : str or None
        The SSE ``id`` field, if the service sets one.
    """

    kind: str
    data: dict[str, Any]
    id: str | None = None

    @property
    def trace_id(self) -> str | None:
        """The ``trace_id`` the event carries (one per query), or None."""
        value = self.data.get("trace_id")
        return None if value is None else str(value)

    @property
    def response(self) -> dict[str, Any] | None:
        """The ``response`` object (model, content, latency_ms, confidence, usage, ...)."""
        value = self.data.get("response")
        return value if isinstance(value, dict) else None

    @property
    def content(self) -> Any:
        """``response["content"]``: the answer itself, or None."""
        return (self.response or {}).get("content")

    @property
    def is_error(self) -> bool:
        """True for an ``error`` event."""
        return self.kind == "error"

    @classmethod
    def from_sse(cls, sse: ServerSentEvent) -> Event:
        """The event whose JSON data ``sse`` carries.

        Parameters
        ----------
        sse : ServerSentEvent
            One event as decoded by :class:`SSEDecoder`.

        Returns
        -------
        Event
            ``kind`` from the SSE ``event`` field, ``data`` parsed, ``id`` kept.

        Raises
        ------
        ValueError
            If the data is not JSON or not a JSON object.
        """
        try:
            data = json.loads(sse.data)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"malformed data in {sse.event!r} event: {exc.msg} at position {exc.pos} "
                f"in {sse.data!r:.120}"
            ) from None
        if not isinstance(data, dict):
            raise ValueError(
                f"malformed data in {sse.event!r} event: expected a JSON object, "
                f"got {type(data).__name__}"
            )
        return cls(kind=sse.event, data=data, id=sse.id)
