"""``create_app(settings)``: the FastAPI application of the reference ARD backend.

Layers, outermost first: :class:`~._middleware.EdgeMiddleware` (request id, security
headers, JSON 500), CORS, rate limiting, the body-size limit, then the routes:
``/health``, the listing and creation endpoints, the reasoning stream and the dashboard
(``/analytics.html``, with ardlib's colour palette filled in, and ``/static/...`` from
``ardlib/service/static``).  Writes and reasoning, and the listings when reads are
protected, sit behind the key checks of :mod:`._auth`.  All state hangs
off ``app.state`` (``settings``, ``db``, ``reasoner``); nothing is global.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from .._palette import fill_dashboard
from . import _models as m
from ._auth import key_guards
from ._db import Database
from ._errors import ApiError, install_error_handlers
from ._middleware import (
    BodyLimitMiddleware,
    EdgeMiddleware,
    JSONCORSMiddleware,
    RateLimiter,
    RateLimitMiddleware,
)
from ._reasoning import Reasoner
from ._records import records_router
from ._settings import Settings
from ._stream import reasoning_router

__all__ = ["STATIC_DIR", "create_app"]

logger = logging.getLogger("ardlib.service")
STATIC_DIR = Path(__file__).parent / "static"
DASHBOARD = "analytics.html"


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get(
        "/health",
        response_model=m.Health,
        responses={503: {"model": m.Health, "description": "Database unreachable."}},
    )
    def health(request: Request) -> JSONResponse:
        """Service status; 503 with ``status: degraded`` when the database does not answer."""
        db: Database = request.app.state.db
        try:
            db.ensure_schema()
            db.ping()
            ok = True
        except Exception as exc:
            logger.error("health check: database unreachable: %s", exc)
            ok = False
        body = m.Health(
            status="ok" if ok else "degraded",
            version=request.app.state.settings.version,
            database="ok" if ok else "unavailable",
            database_backend=db.backend,
        )
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    return router


class _StaticFiles(StaticFiles):
    """StaticFiles answering 404 (not 500) when the directory is missing."""

    async def check_config(self) -> None:
        """404 while the directory is missing (checked again on the next request)."""
        if self.directory is None or not Path(self.directory).is_dir():
            raise HTTPException(404, "Not Found")
        await super().check_config()


def _add_dashboard(app: FastAPI, static_dir: Path) -> None:
    @app.get("/analytics.html", include_in_schema=False)
    def dashboard() -> HTMLResponse:
        path = static_dir / DASHBOARD
        if not path.is_file():
            raise ApiError(404, f"The dashboard is not installed ({DASHBOARD} is missing).")
        return HTMLResponse(fill_dashboard(path.read_text(encoding="utf-8")))

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/analytics.html")

    app.mount("/static", _StaticFiles(directory=static_dir, check_dir=False), name="static")


def create_app(settings: Settings | None = None, *, static_dir: Path | None = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings : Settings, optional
        Default: :meth:`Settings.from_env`.
    static_dir : path, optional
        Where the dashboard files live (default ``ardlib/service/static``).

    Returns
    -------
    fastapi.FastAPI
        Creates missing tables at startup and closes the connection pool at shutdown.
        Run it with ``uvicorn --factory ardlib.service:create_app`` or ``ardlib serve``.
    """
    settings = settings if settings is not None else Settings.from_env()
    db = Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            await anyio.to_thread.run_sync(db.ensure_schema)
        except OperationalError as exc:  # serve anyway: /health says degraded, data calls 503
            logger.error("database unavailable at startup (%s); will retry per request", exc)
        # Everything imported so far (FastAPI, SQLAlchemy, NumPy, SciPy for the reasoner)
        # lives as long as the process: move it out of the collector's reach, so the full
        # collections that request garbage triggers scan only what requests allocated.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            db.dispose()

    app = FastAPI(
        title="ARD backend (ardlib reference service)",
        version=settings.version,
        description=(
            "Experiments, optimization runs and AI-query costs; reasoning answered by "
            "ardlib's planners as server-sent events. Writes and reasoning need X-API-Key "
            "when the service enables auth; listings need it too when it protects reads "
            "(/health and the dashboard's static files stay open)."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.reasoner = Reasoner()
    install_error_handlers(app)
    write_guard, read_guard = key_guards(settings)
    app.include_router(_health_router())
    app.include_router(records_router(write_dependencies=write_guard, read_dependencies=read_guard))
    app.include_router(reasoning_router(dependencies=write_guard))
    _add_dashboard(app, static_dir if static_dir is not None else STATIC_DIR)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.rate_limit_per_minute:
        limiter = RateLimiter(settings.rate_limit_per_minute)
        app.add_middleware(RateLimitMiddleware, limiter=limiter, api_key=settings.api_key)
    app.add_middleware(
        JSONCORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=[
            "Content-Type",
            "X-API-Key",
            "Idempotency-Key",
            "X-Request-ID",
            "Last-Event-ID",
        ],
        expose_headers=["X-Request-ID", "Retry-After", "Idempotent-Replayed"],
        max_age=600,
    )
    app.add_middleware(EdgeMiddleware)
    return app
