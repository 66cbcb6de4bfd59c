"""Public names of ardlib.gp (read by lazy_loader.attach_stub and type checkers)."""

from ._ensemble import HyperparameterEnsemble
from ._kernel import matern52
from ._model import GaussianProcess, GPError, Posterior

__all__ = [
    "GPError",
    "GaussianProcess",
    "HyperparameterEnsemble",
    "Posterior",
    "matern52",
]
