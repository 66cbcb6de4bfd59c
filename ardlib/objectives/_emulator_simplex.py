"""Mixture (simplex) parameters: maps between a box and the probability simplex.

A mixture of ``d`` fractions lives on the simplex ``{x >= 0, sum(x) = 1}``, a
``(d-1)``-dimensional set that no box-bounded planner can sample directly.  Two maps:

* **stick breaking** ``v in [0, 1]^(d-1) -> x``: ``x_i = v_i * prod_{j<i} (1 - v_j)`` for
  ``i < d`` and ``x_d = prod_j (1 - v_j)``.  Smooth with a bounded Jacobian; used for the
  gradient search of the emulator's optimum.
* **uniform stick breaking** ``u in [0, 1]^(d-1) -> x``: first ``v_i = 1 - (1 - u_i)^(1/(d-i))``
  (the inverse CDF of Beta(1, d-i)), then stick breaking.  A uniform ``u`` gives a uniform
  point on the simplex (the flat Dirichlet), so random and space-filling designs in the box
  stay uniform on the mixture.  This is the parametrization planners see
  (:class:`~ardlib.objectives.SimplexEmulator`).

Both are bijections between the open box and the open simplex; on the boundary they are
many-to-one, and the inverses return 0 for undetermined coordinates.

References: Betancourt 2012, "Cruising the simplex", AIP Conf. Proc. 1443, 157;
Duchi et al. 2008, "Efficient projections onto the l1-ball", ICML (for :func:`project_simplex`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: Tolerance on ``|sum(x) - 1|`` for a point to count as a mixture.
SIMPLEX_ATOL = 1e-6


def _exponents(k: int) -> Array:
    """``d - i`` for ``i = 1..d-1`` where ``k = d - 1``: k, k-1, ..., 1."""
    return np.arange(k, 0, -1, dtype=float)


def stick_breaking(V: Array) -> Array:
    """Map ``V`` (m, d-1) in the unit box onto the simplex: shape (m, d)."""
    m, k = V.shape
    X = np.empty((m, k + 1))
    rest = np.ones(m)
    for i in range(k):
        X[:, i] = V[:, i] * rest
        rest = rest * (1.0 - V[:, i])
    X[:, k] = rest
    return X


def stick_breaking_vjp(V: Array, G: Array) -> Array:
    """Gradient through the map: ``J(V)^T G`` for ``G = df/dx`` of shape (m, d).

    ``dx_i/dv_j`` is ``prod_{l<i} (1-v_l)`` for ``j = i``, ``-v_i prod_{l<i, l!=j} (1-v_l)``
    for ``j < i`` (``v_d = 1``), and 0 otherwise; products exclude ``j`` explicitly so the
    derivative stays exact at ``v_j = 1``.
    """
    m, k = V.shape
    one_minus = 1.0 - V
    v_ext = np.hstack([V, np.ones((m, 1))])
    out = np.zeros((m, k))
    for j in range(k):
        for i in range(j, k + 1):
            mask = np.arange(i) != j
            prod = np.prod(one_minus[:, :i][:, mask], axis=1)
            out[:, j] += G[:, i] * (prod if i == j else -v_ext[:, i] * prod)
    return out


def inverse_stick_breaking(X: Array) -> Array:
    """Box coordinates ``V`` (m, d-1) of simplex points ``X`` (m, d); clipped to [0, 1]."""
    m, d = X.shape
    V = np.zeros((m, d - 1))
    rest = np.ones(m)
    for i in range(d - 1):
        safe = rest > 1e-300
        V[:, i] = np.where(safe, X[:, i] / np.where(safe, rest, 1.0), 0.0)
        V[:, i] = np.clip(V[:, i], 0.0, 1.0)
        rest = rest * (1.0 - V[:, i])
    return V


def uniform_to_stick(U: Array) -> Array:
    """``v_i = 1 - (1 - u_i)^(1/(d-i))``: uniform ``U`` (m, d-1) to stick fractions."""
    return 1.0 - (1.0 - U) ** (1.0 / _exponents(U.shape[1]))


def stick_to_uniform(V: Array) -> Array:
    """Inverse of :func:`uniform_to_stick`."""
    return np.clip(1.0 - (1.0 - V) ** _exponents(V.shape[1]), 0.0, 1.0)


def box_to_simplex(U: Array) -> Array:
    """Uniform stick breaking: ``U`` (m, d-1) in [0, 1]^(d-1) to mixtures (m, d)."""
    return stick_breaking(uniform_to_stick(U))


def simplex_to_box(X: Array) -> Array:
    """Inverse of :func:`box_to_simplex` for mixtures ``X`` (m, d)."""
    return stick_to_uniform(inverse_stick_breaking(X))


def project_simplex(X: Array) -> Array:
    """Euclidean projection of every row of ``X`` (m, d) onto the probability simplex.

    The sort-based algorithm of Duchi et al. (2008): ``max(x - tau, 0)`` with the threshold
    ``tau`` that makes the row sum to one.
    """
    m, d = X.shape
    if m == 0:
        return X.copy()
    S = -np.sort(-X, axis=1)
    css = np.cumsum(S, axis=1) - 1.0
    ks = np.arange(1, d + 1)
    rho = np.count_nonzero(S - css / ks > 0, axis=1)
    tau = css[np.arange(m), rho - 1] / rho
    return np.maximum(X - tau[:, None], 0.0)


def off_simplex_rows(X: Array) -> NDArray[np.intp]:
    """Rows of ``X`` whose sum differs from one by more than :data:`SIMPLEX_ATOL`."""
    return np.flatnonzero(np.abs(X.sum(axis=1) - 1.0) > SIMPLEX_ATOL)
