"""Analytic benchmark functions with exact or precisely polished ground truth.

Every class is an :class:`~ardlib.objectives.Objective` vectorized over ``(n, d)`` arrays
that carries its ``bounds``, ``optimal_value``, all known global ``optimizers`` and a
``reference`` citing where the definition and the optimum come from.  The implementations
live in private modules grouped by family; this module is their single public surface.

References
----------
Surjanovic, S. & Bingham, D., Virtual Library of Simulation Experiments: Test Functions
and Datasets, Simon Fraser University, https://www.sfu.ca/~ssurjano/optimization.html.
Jamil, M. & Yang, X.-S. (2013), A literature survey of benchmark functions for global
optimization problems, Int. J. Math. Model. Numer. Optim. 4(2), 150-194.
Dixon, L. C. W. & Szegö, G. P. (1978), The global optimization problem: an introduction,
in Towards Global Optimisation 2, North-Holland, 1-15.
"""

from ._analytic_lowdim import (
    Beale,
    Booth,
    Branin,
    Forrester,
    GoldsteinPrice,
    McCormick,
    SixHumpCamel,
)
from ._analytic_multimodal import Ackley, Griewank, Levy, Michalewicz, Rastrigin, StyblinskiTang
from ._analytic_tables import Hartmann3, Hartmann6, Shekel
from ._analytic_valley import DixonPrice, Powell, Rosenbrock, Zakharov

__all__ = [
    "Ackley",
    "Beale",
    "Booth",
    "Branin",
    "DixonPrice",
    "Forrester",
    "GoldsteinPrice",
    "Griewank",
    "Hartmann3",
    "Hartmann6",
    "Levy",
    "McCormick",
    "Michalewicz",
    "Powell",
    "Rastrigin",
    "Rosenbrock",
    "Shekel",
    "SixHumpCamel",
    "StyblinskiTang",
    "Zakharov",
]
