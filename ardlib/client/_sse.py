"""An incremental parser for ``text/event-stream`` (the WHATWG HTML "server-sent events").

:class:`SSEDecoder` is fed bytes as they arrive, in chunks of any size, and returns the
events completed so far.  It keeps only what it must between chunks: an incomplete UTF-8
sequence, a partial line, a ``\\r`` that may be the first half of ``\\r\\n``, and the fields
of the event being assembled, so the same stream split anywhere gives the same events.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["SSEDecoder", "ServerSentEvent"]

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class ServerSentEvent:
    """One event as sent on the wire.

    Attributes
    ----------
    event : str
        The ``event:`` field; ``"message"`` when the event had none.
    data : str
        The ``data:`` lines joined by ``"\\n"``.
    id : str or None
        The last event id seen so far in the stream (it persists across events).
    retry : int or None
        The ``retry:`` reconnection time in milliseconds, if this event set one.
    """

    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Turn chunks of an event stream into :class:`ServerSentEvent` objects.

    Handles ``\\n``, ``\\r\\n`` and ``\\r`` line endings, multi-line ``data``, comments
    (lines starting with ``:``), the ``event``/``data``/``id``/``retry`` fields, a leading
    byte-order mark and UTF-8 sequences split across chunks (invalid bytes become U+FFFD,
    as the specification requires).  An event is dispatched at a blank line; an event
    without data is dropped, as the specification prescribes.

    Examples
    --------
    >>> d = SSEDecoder()
    >>> d.feed(b"event: done\\ndata: {}")
    []
    >>> d.feed(b"\\n\\n")
    [ServerSentEvent(event='done', data='{}', id=None, retry=None)]
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._started = False
        self._line = ""
        self._skip_lf = False
        self._event = ""
        self._data: list[str] = []
        self._last_id: str | None = None
        self._retry: int | None = None
        self._dirty = False

    @property
    def pending(self) -> bool:
        """True when part of an event (or of a line) is held, waiting for more bytes."""
        return bool(self._line or self._dirty or self._utf8.getstate()[0])

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse ``chunk`` and return the events it completed, in order.

        Parameters
        ----------
        chunk : bytes
            The next bytes of the stream (any split).

        Returns
        -------
        list of ServerSentEvent
        """
        text = self._utf8.decode(chunk)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._skip_lf and text:
            self._skip_lf = False
            text = text.removeprefix("\n")
        events: list[ServerSentEvent] = []
        buf = self._line + text
        pos = 0
        for match in _LINE_END.finditer(buf):
            event = self._process_line(buf[pos : match.start()])
            if event is not None:
                events.append(event)
            pos = match.end()
        self._line = buf[pos:]
        if pos == len(buf) and buf.endswith("\r"):
            self._skip_lf = True  # a "\n" opening the next chunk belongs to this "\r"
        return events

    def _process_line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, sep, value = line.partition(":")
        if sep:
            value = value.removeprefix(" ")
        self._dirty = True
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id" and "\0" not in value:
            self._last_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        event = None
        if self._data:
            event = ServerSentEvent(
                event=self._event or "message",
                data="\n".join(self._data),
                id=self._last_id,
                retry=self._retry,
            )
        self._event, self._data, self._retry, self._dirty = "", [], None, False
        return event
