"""Gaussian-process regression for the planners (Matern-5/2 ARD, learned noise)."""

from ._kernel import matern52
from ._model import GaussianProcess, GPError, Posterior

__all__ = ["GPError", "GaussianProcess", "Posterior", "matern52"]
