"""``POST /api/reasoning/query``: answers streamed as server-sent events.

Events, in order: ``preliminary`` and ``final`` (each ``data:`` is
``{"response": {...}, "message": str, "trace_id": str}``), or ``error``
(``{"error", "type", "retryable", "code", "trace_id"}``) in place of whichever could not be
computed; always a last ``done`` (``{"trace_id"}``).  ``trace_id`` is the request's
``X-Request-ID``.  Every query is logged to ``ai_queries`` before ``done`` is sent.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.params import Depends as DependsParam
from fastapi.sse import EventSourceResponse, ServerSentEvent

from . import _models as m
from . import _tables as t
from ._db import Database
from ._reasoning import GUIDE, Answer, ContextError, Reasoner, parse_context, preliminary_answer
from ._records import BODY_RESPONSES, ERROR_RESPONSES, error_doc

__all__ = ["reasoning_router"]

logger = logging.getLogger("ardlib.service")
_USAGE = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "cost_usd": 0.0}


def _event(name: str, data: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(
        event=name, raw_data=json.dumps(data, allow_nan=False, separators=(",", ":"))
    )


def _answer_event(answer: Answer, started: float, trace_id: str) -> ServerSentEvent:
    response = {
        "model": answer.model,
        "content": answer.content,
        "latency_ms": round((time.perf_counter() - started) * 1000.0, 3),
        "is_preliminary": answer.is_preliminary,
        "confidence": answer.confidence,
        "usage": dict(_USAGE),
        **answer.details,
    }
    kind = "preliminary" if answer.is_preliminary else "final"
    message = f"{kind} answer from {answer.model}"
    return _event(kind, {"response": response, "message": message, "trace_id": trace_id})


def _error_event(
    message: str, kind: str, code: str, trace_id: str, *, retryable: bool
) -> ServerSentEvent:
    body = {"error": message, "type": kind, "retryable": retryable, "code": code}
    return _event("error", {**body, "trace_id": trace_id})


def _log_query(
    db: Database, body: m.ReasoningQuery, model: str, latency_ms: float, trace_id: str
) -> None:
    with db.writing() as session:
        session.add(
            t.AIQuery(
                query=body.query,
                context=body.context,
                selected_model=model,
                latency_ms=latency_ms,
                input_tokens=0,
                output_tokens=0,
                cost_usd=0.0,
                trace_id=trace_id,
                created_by=body.created_by,
                created_at=t.utcnow(),
            )
        )


async def _answers(
    body: m.ReasoningQuery, reasoner: Reasoner, started: float, trace_id: str
) -> AsyncIterator[tuple[ServerSentEvent, str]]:
    """Events with the model responsible for each; raises nothing but cancellation."""
    try:
        problem = parse_context(body.context)
    except ContextError as exc:
        yield (
            _error_event(str(exc), "invalid_context", "invalid_context", trace_id, retryable=False),
            GUIDE,
        )
        return
    prelim = await anyio.to_thread.run_sync(preliminary_answer, problem)
    yield _answer_event(prelim, started, trace_id), prelim.model
    try:
        final = await anyio.to_thread.run_sync(reasoner.final, problem)
        event = _answer_event(final, started, trace_id)
    except Exception as exc:
        logger.exception("reasoning failed (trace %s)", trace_id)
        yield (
            _error_event(
                f"The planner failed: {exc}",
                "planner_error",
                "planner_failed",
                trace_id,
                retryable=False,
            ),
            prelim.model,
        )
        return
    yield event, final.model


def reasoning_router(dependencies: Sequence[DependsParam] = ()) -> APIRouter:
    """The reasoning endpoint, guarded by ``dependencies`` (the API key check when on)."""
    router = APIRouter(prefix="/api", tags=["reasoning"])
    # Errors are JSON although the route streams events: document them as such.
    responses = {
        code: error_doc(doc["description"])
        for code, doc in {**ERROR_RESPONSES, **BODY_RESPONSES}.items()
    }
    if dependencies:
        responses[401] = error_doc("Missing or wrong X-API-Key.")

    @router.post(
        "/reasoning/query",
        response_class=EventSourceResponse,
        dependencies=list(dependencies),
        responses=responses,
    )
    async def reasoning_query(
        body: m.ReasoningQuery, request: Request
    ) -> AsyncIterator[ServerSentEvent]:
        """Stream ``preliminary``, ``final`` (or ``error``) and ``done`` events."""
        started = time.perf_counter()
        trace_id: str = request.state.request_id
        model = GUIDE
        answers = _answers(body, request.app.state.reasoner, started, trace_id)
        try:
            async for event, responsible in answers:
                model = responsible
                yield event
        except Exception as exc:  # a bug, not bad input: report it in-band, keep the stream
            logger.exception("reasoning stream failed (trace %s)", trace_id)
            yield _error_event(
                f"Internal error: {type(exc).__name__}",
                "internal_error",
                "internal_error",
                trace_id,
                retryable=True,
            )
        latency = (time.perf_counter() - started) * 1000.0
        try:
            await anyio.to_thread.run_sync(
                _log_query, request.app.state.db, body, model, latency, trace_id
            )
        except Exception:
            logger.exception("could not log reasoning query (trace %s)", trace_id)
        yield _event("done", {"trace_id": trace_id})

    return router
