"""Public names of ardlib.planners (read by lazy_loader.attach_stub and type checkers)."""

from ._base import NotReadyError, Planner
from ._bo import BayesianOptimization
from ._design import LatinHypercube, RandomSearch, Sobol
from ._peers import BoTorchPlanner, OptunaPlanner, SkoptPlanner

__all__ = [
    "BayesianOptimization",
    "BoTorchPlanner",
    "LatinHypercube",
    "NotReadyError",
    "OptunaPlanner",
    "Planner",
    "RandomSearch",
    "SkoptPlanner",
    "Sobol",
]
