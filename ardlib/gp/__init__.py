"""Gaussian-process regression for the planners (Matern-5/2 ARD, learned noise)."""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
