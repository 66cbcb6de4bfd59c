"""Reference implementation of the ARD backend API (FastAPI + SQLAlchemy).

Run it with ``ardlib serve`` or ``uvicorn --factory ardlib.service:create_app``; fill a
database with real campaigns with ``ardlib service seed-demo``.

Endpoints: ``GET /health``; ``GET``/``POST /api/experiments``; ``GET``/``POST
/api/optimization_runs``; ``GET /api/ai_queries``; ``POST /api/reasoning/query``
(server-sent events); ``GET /analytics.html`` (the dashboard).  Reads are open; writes and
reasoning need ``X-API-Key`` when :attr:`Settings.api_key` is set.  Errors are JSON
``{"error": ..., "code": ...}``.

Importing this package is cheap and needs none of the ``service`` extra: FastAPI,
SQLAlchemy and the planners load on first access to a name below (so the ``ardlib``
command can register ``serve`` without them).
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from ._app import create_app
    from ._reasoning import CONTEXT_EXAMPLE
    from ._seed import SeedReport, seed_demo
    from ._settings import Settings

__all__ = ["CONTEXT_EXAMPLE", "SeedReport", "Settings", "create_app", "seed_demo"]

_HOME = {
    "CONTEXT_EXAMPLE": "._reasoning",
    "SeedReport": "._seed",
    "Settings": "._settings",
    "create_app": "._app",
    "seed_demo": "._seed",
}


def __getattr__(name: str) -> object:
    """Load the public names on first access (see the module docstring)."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'ardlib.service' has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
