"""Reference implementation of the ARD backend API (FastAPI + SQLAlchemy).

Run it with ``ardlib serve`` or ``uvicorn --factory ardlib.service:create_app``; fill a
database with real campaigns with ``ardlib service seed-demo``.

Endpoints: ``GET /health``; ``GET``/``POST /api/experiments``; ``GET``/``POST
/api/optimization_runs``; ``GET /api/ai_queries``; ``POST /api/reasoning/query``
(server-sent events); ``GET /analytics.html`` (the dashboard).  Writes and reasoning need
``X-API-Key`` when :attr:`Settings.api_key` is set; the listings need it too when
:attr:`Settings.protect_reads` is (``/health`` and the dashboard's files stay open).  Errors
are JSON ``{"error": ..., "code": ...}``.

Importing this package is cheap and needs none of the ``service`` extra: FastAPI,
SQLAlchemy and the planners load on first access to a name below (so the ``ardlib``
command can register ``serve`` without them).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
