"""Public names of ardlib.service (read by lazy_loader.attach_stub and type checkers)."""

from ._app import create_app
from ._reasoning import CONTEXT_EXAMPLE
from ._seed import SeedReport, seed_demo
from ._settings import Settings

__all__ = [
    "CONTEXT_EXAMPLE",
    "SeedReport",
    "Settings",
    "create_app",
    "seed_demo",
]
