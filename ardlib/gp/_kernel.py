"""Matern-5/2 kernel with one lengthscale per dimension (ARD), with the derivatives the
GP needs: with respect to log-lengthscales (marginal-likelihood gradients) and with
respect to the test input (acquisition gradients).

Written by hand rather than taken from scikit-learn because the planners need the
input-gradient and a fused evaluation that reuses the per-dimension squared
differences across every likelihood evaluation of a fit; this is the hot loop.

    k(x, x') = s2 * (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r),  r^2 = sum_j (x_j - x'_j)^2 / l_j^2

References: Rasmussen & Williams 2006, eq. 4.17.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["matern52", "matern52_from_sq", "matern52_gram", "sq_diffs"]

SQRT5 = float(np.sqrt(5.0))
Array = NDArray[np.float64]


def sq_diffs(A: Array, B: Array) -> Array:
    """Per-dimension squared differences, shape (n, m, d): ``(A[i, j] - B[k, j])**2``."""
    diff = A[:, None, :] - B[None, :, :]
    # squared in place: a second (n, m, d) array costs more in fresh pages than the product
    return np.multiply(diff, diff, out=diff)


def matern52_from_sq(D2: Array, inv_l2: Array, s2: float) -> tuple[Array, Array]:
    """Kernel matrix and its radial factor from precomputed squared differences.

    Parameters
    ----------
    D2 : ndarray of shape (n, m, d)
        Squared differences from :func:`sq_diffs`.
    inv_l2 : ndarray of shape (d,)
        ``1 / lengthscale**2``.
    s2 : float
        Signal variance.

    Returns
    -------
    K : ndarray of shape (n, m)
    M : ndarray of shape (n, m)
        ``s2 * 5/3 * (1 + sqrt5 r) exp(-sqrt5 r)``; then
        ``dK/dlog(l_j) = M * D2[..., j] * inv_l2[j]`` and
        ``dK/dx_j = -M * (x_j - x'_j) * inv_l2[j]``.
    """
    r2 = D2 @ inv_l2
    return _matern52_r2(r2, s2)


def _matern52_r2(r2: Array, s2: float | Array) -> tuple[Array, Array]:
    """``K`` and ``M`` of :func:`matern52_from_sq` from ``r^2`` (consumed).

    In place where possible (six (n, m) arrays instead of fourteen; at m = 762 candidates
    the fresh pages cost more than the arithmetic); every element gets the operations of
    ``K = s2 exp(-sqrt5 r) (1 + sqrt5 r + 5/3 r^2)``, ``M = 5/3 s2 exp(-sqrt5 r) (1 + sqrt5 r)``
    in the same order, so the results are the same bits as the direct expressions.
    ``s2`` may be an array that broadcasts against ``r2`` (one signal variance per model
    of a stacked ``r2``, as HyperparameterEnsemble uses it).
    """
    r = np.maximum(r2, 0.0)
    np.sqrt(r, out=r)
    e = np.multiply(r, -SQRT5)
    np.exp(e, out=e)
    e *= s2
    t = np.multiply(r, SQRT5, out=r)
    t += 1.0  # 1 + sqrt5 r
    K = np.multiply(r2, 5.0 / 3.0, out=r2)
    K += t
    K *= e
    M = np.multiply(e, 5.0 / 3.0, out=e)
    M *= t
    return K, M


def matern52(A: Array, B: Array, lengthscale: Array, s2: float) -> Array:
    """Matern-5/2 covariance between rows of ``A`` (n, d) and ``B`` (m, d): shape (n, m).

    Parameters
    ----------
    A : ndarray of shape (n, d)
    B : ndarray of shape (m, d)
    lengthscale : ndarray of shape (d,)
        ARD lengthscales.
    s2 : float
        Signal variance.

    Returns
    -------
    ndarray of shape (n, m)
    """
    inv_l2 = 1.0 / np.asarray(lengthscale, dtype=float) ** 2
    return matern52_from_sq(sq_diffs(A, B), inv_l2, s2)[0]


def matern52_gram(X: Array, inv_l2: Array, s2: float) -> Array:
    """Kernel matrix of the rows of ``X`` (n, d) in O(n^2) memory.

    :func:`matern52_from_sq` needs the (n, n, d) squared differences, 1.2 GB at n = 5,000,
    d = 6; here ``r^2 = |a|^2 + |b|^2 - 2 a.b`` on lengthscale-scaled inputs (a BLAS
    product), clipped at 0 and exactly 0 on the diagonal.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    inv_l2 : ndarray of shape (d,)
        ``1 / lengthscale**2``.
    s2 : float
        Signal variance.

    Returns
    -------
    ndarray of shape (n, n)
    """
    Xs = X * np.sqrt(inv_l2)
    sq = np.einsum("ij,ij->i", Xs, Xs)
    r2 = sq[:, None] + sq[None, :] - 2.0 * (Xs @ Xs.T)
    np.maximum(r2, 0.0, out=r2)
    np.fill_diagonal(r2, 0.0)
    return _matern52_r2(r2, s2)[0]
