"""Experiment planners behind one ask/tell/recommend interface.

``ask(n) -> (n, d)`` proposes experiments, ``tell(X, y)`` records outcomes (NaN marks a
failed experiment), ``recommend() -> (d,)`` returns the point the planner believes is best.
"""

from ._base import NotReadyError, Planner
from ._bo import BayesianOptimization
from ._design import LatinHypercube, RandomSearch, Sobol

__all__ = [
    "BayesianOptimization",
    "LatinHypercube",
    "NotReadyError",
    "Planner",
    "RandomSearch",
    "Sobol",
]
