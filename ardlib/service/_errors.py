"""Every error is JSON ``{"error": message, "code": stable_code}``; this module builds them.

Codes: ``bad_request``, ``unauthorized``, ``not_found``, ``method_not_allowed``,
``idempotency_conflict``, ``payload_too_large``, ``validation_error`` (422, with ``detail``),
``rate_limited``, ``cors_rejected``, ``database_unavailable`` (503), ``internal_error`` (500).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "ApiError",
    "describe_validation_errors",
    "error_response",
    "install_error_handlers",
]

logger = logging.getLogger("ardlib.service")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}
_LOCATIONS = {
    "body": "field",
    "query": "query parameter",
    "header": "header",
    "path": "path parameter",
    "cookie": "cookie",
}


class ApiError(Exception):
    """An error the API reports as ``{"error": message, "code": code}`` with ``status``."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _CODES.get(status, f"http_{status}")
        self.headers = dict(headers or {})


def error_response(
    status: int,
    message: str,
    code: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    detail: Sequence[Mapping[str, Any]] | None = None,
) -> JSONResponse:
    """The JSON error response with ``status``, ``error`` = message and ``code``."""
    body: dict[str, Any] = {"error": message, "code": code or _CODES.get(status, f"http_{status}")}
    if detail is not None:
        body["detail"] = list(detail)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _field_name(loc: Sequence[Any]) -> tuple[str, str]:
    """('field', 'a.b[0]') from a pydantic location such as ('body', 'a', 'b', 0)."""
    parts = list(loc)
    where = _LOCATIONS.get(str(parts[0]), "") if parts else ""
    if where:
        parts = parts[1:]
    name = ""
    for p in parts:
        name += f"[{p}]" if isinstance(p, int) else (f".{p}" if name else str(p))
    return where or "field", name


def describe_validation_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """One sentence naming each offending field, e.g. ``field 'status': Input should be ...``."""
    parts = []
    for err in errors:
        where, name = _field_name(err.get("loc", ()))
        msg = str(err.get("msg", "is invalid"))
        if not name:
            parts.append(f"request body: {msg}" if where == "field" else f"{where}: {msg}")
        else:
            parts.append(f"{where} '{name}': {msg}")
    return "Invalid request: " + "; ".join(parts) if parts else "Invalid request"


def _safe_detail(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # Only JSON-safe parts: 'input' and 'ctx' may hold NaN, bytes or exception objects.
    return [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.code, headers=exc.headers)


def _allowed_methods(request: Request) -> str | None:
    """Every documented method of this path (Starlette lists only the first route's)."""
    item = request.app.openapi().get("paths", {}).get(request.scope.get("path"))
    if not item:
        return None
    methods = {m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")}
    return ", ".join(sorted(methods)) or None


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 405 and (allow := _allowed_methods(request)):
        headers["Allow"] = allow
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else None
    if message is None:
        try:
            message = HTTPStatus(status).phrase
        except ValueError:
            message = f"HTTP {status}"
    return error_response(status, message, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    return error_response(
        422, describe_validation_errors(errors), "validation_error", detail=_safe_detail(errors)
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("database unavailable during %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        503,
        "The database is unavailable; retry later.",
        "database_unavailable",
        headers={"Retry-After": "1"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON handlers for API, HTTP, validation and database errors.

    Anything else is caught by :class:`~ardlib.service._middleware.EdgeMiddleware`, which
    logs it and answers 500 ``internal_error``.
    """
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_error)
