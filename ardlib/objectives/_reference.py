"""Independent 50-digit reference implementations of the analytic benchmark functions.

Written from the textbook definitions (Surjanovic & Bingham's Virtual Library of Simulation
Experiments, Jamil & Yang 2013, Dixon & Szegö 1978, Forrester et al. 2008), one term at a
time, in mpmath, without importing or mirroring ardlib's numpy code: ardlib rewrites several
formulas for floating-point accuracy (sin² instead of 1 - cos, expm1, factored polynomials),
while this module keeps the plain published form so that a rewrite error shows up as a
disagreement.

Every function takes a point as a sequence of floats (converted exactly to mpf) and returns
an mpf computed with ``mp.dps = 50``.  Each one is built from a ``*_terms`` function that
returns the additive terms of the published definition, except that a constant is kept
together with the term it cancels at the optimum (Ackley's ``a`` and ``e``, Rastrigin's
``10 d``, Griewank's ``1``): cancellation *between* the returned terms is then the kind no
rearrangement can avoid, and ``sum(|terms|)`` bounds the scale below which double
arithmetic cannot be expected to resolve a value (see
:func:`~ardlib.objectives.reference_scale`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

from mpmath import mp, mpf

DPS = 50

Terms = Callable[..., list[Any]]


def _point(x: Sequence[float]) -> list[Any]:
    """Exact conversion of a float vector to mpf (binary floats are exact in mpf)."""
    return [v if isinstance(v, mpf) else mpf(float(v)) for v in x]


def _dec(s: str) -> Any:
    """A decimal constant such as ``"0.1"`` held exactly to 50 digits (not its float)."""
    return mpf(s)


# --------------------------------------------------------------------------------------
# 2-D and 1-D classics
# --------------------------------------------------------------------------------------


def branin_terms(x: Sequence[float]) -> list[Any]:
    """Branin-Hoo: a(x2 - b x1² + c x1 - r)² + s(1 - t)cos(x1) + s."""
    x1, x2 = _point(x)
    a = mpf(1)
    b = _dec("5.1") / (4 * mp.pi**2)
    c = 5 / mp.pi
    r = mpf(6)
    s = mpf(10)
    t = 1 / (8 * mp.pi)
    return [a * (x2 - b * x1**2 + c * x1 - r) ** 2, s * (1 - t) * mp.cos(x1), s]


def six_hump_camel_terms(x: Sequence[float]) -> list[Any]:
    """Six-hump camel: (4 - 2.1 x1² + x1⁴/3) x1² + x1 x2 + (-4 + 4 x2²) x2², expanded."""
    x1, x2 = _point(x)
    return [
        4 * x1**2,
        -_dec("2.1") * x1**4,
        x1**6 / 3,
        x1 * x2,
        -4 * x2**2,
        4 * x2**4,
    ]


def goldstein_price_terms(x: Sequence[float]) -> list[Any]:
    """Goldstein-Price in its published (expanded) form: a single product term."""
    x1, x2 = _point(x)
    first = 1 + (x1 + x2 + 1) ** 2 * (19 - 14 * x1 + 3 * x1**2 - 14 * x2 + 6 * x1 * x2 + 3 * x2**2)
    second = 30 + (2 * x1 - 3 * x2) ** 2 * (
        18 - 32 * x1 + 12 * x1**2 + 48 * x2 - 36 * x1 * x2 + 27 * x2**2
    )
    return [first * second]


def beale_terms(x: Sequence[float]) -> list[Any]:
    """Beale: (1.5 - x + xy)² + (2.25 - x + xy²)² + (2.625 - x + xy³)²."""
    u, v = _point(x)
    return [
        (_dec("1.5") - u + u * v) ** 2,
        (_dec("2.25") - u + u * v**2) ** 2,
        (_dec("2.625") - u + u * v**3) ** 2,
    ]


def booth_terms(x: Sequence[float]) -> list[Any]:
    """Booth: (x1 + 2 x2 - 7)² + (2 x1 + x2 - 5)²."""
    x1, x2 = _point(x)
    return [(x1 + 2 * x2 - 7) ** 2, (2 * x1 + x2 - 5) ** 2]


def mccormick_terms(x: Sequence[float]) -> list[Any]:
    """McCormick: sin(x1 + x2) + (x1 - x2)² - 1.5 x1 + 2.5 x2 + 1."""
    x1, x2 = _point(x)
    return [mp.sin(x1 + x2), (x1 - x2) ** 2, -_dec("1.5") * x1, _dec("2.5") * x2, mpf(1)]


def forrester_terms(x: Sequence[float]) -> list[Any]:
    """Forrester et al. (2008): (6x - 2)² sin(12x - 4)."""
    (u,) = _point(x)
    return [(6 * u - 2) ** 2 * mp.sin(12 * u - 4)]


# --------------------------------------------------------------------------------------
# Hartmann and Shekel (Dixon & Szegö 1978 tables)
# --------------------------------------------------------------------------------------

_HARTMANN_ALPHA = ["1.0", "1.2", "3.0", "3.2"]
_HARTMANN3_A: list[list[float]] = [[3, 10, 30], [0.1, 10, 35], [3, 10, 30], [0.1, 10, 35]]
_HARTMANN3_P = [
    [3689, 1170, 2673],
    [4699, 4387, 7470],
    [1091, 8732, 5547],
    [381, 5743, 8828],
]
_HARTMANN6_A: list[list[float]] = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
_HARTMANN6_P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]


def _hartmann_terms(
    x: Sequence[float], a_rows: list[list[float]], p_rows: list[list[int]]
) -> list[Any]:
    pt = _point(x)
    out = []
    for alpha, a_row, p_row in zip(_HARTMANN_ALPHA, a_rows, p_rows, strict=True):
        expo = mpf(0)
        for xj, aij, pij in zip(pt, a_row, p_row, strict=True):
            expo += _dec(str(aij)) * (xj - mpf(pij) / 10000) ** 2
        out.append(-_dec(alpha) * mp.exp(-expo))
    return out


def hartmann3_terms(x: Sequence[float]) -> list[Any]:
    """Hartmann 3-D: -Σ_i α_i exp(-Σ_j A_ij (x_j - P_ij)²)."""
    return _hartmann_terms(x, _HARTMANN3_A, _HARTMANN3_P)


def hartmann6_terms(x: Sequence[float]) -> list[Any]:
    """Hartmann 6-D: -Σ_i α_i exp(-Σ_j A_ij (x_j - P_ij)²)."""
    return _hartmann_terms(x, _HARTMANN6_A, _HARTMANN6_P)


# Shekel: rows are the 10 centres (columns of the published 4 x 10 matrix C).
_SHEKEL_BETA = ["0.1", "0.2", "0.2", "0.4", "0.4", "0.6", "0.3", "0.7", "0.5", "0.5"]
_SHEKEL_CENTRES = [
    ["4", "4", "4", "4"],
    ["1", "1", "1", "1"],
    ["8", "8", "8", "8"],
    ["6", "6", "6", "6"],
    ["3", "7", "3", "7"],
    ["2", "9", "2", "9"],
    ["5", "3", "5", "3"],
    ["8", "1", "8", "1"],
    ["6", "2", "6", "2"],
    ["7", "3.6", "7", "3.6"],
]


def shekel_terms(x: Sequence[float], m: int = 10) -> list[Any]:
    """Shekel S_{4,m}: -Σ_{i<m} 1 / (Σ_j (x_j - C_ji)² + β_i)."""
    pt = _point(x)
    out = []
    for beta, centre in zip(_SHEKEL_BETA[:m], _SHEKEL_CENTRES[:m], strict=True):
        dist2 = sum(((xj - _dec(c)) ** 2 for xj, c in zip(pt, centre, strict=True)), mpf(0))
        out.append(-1 / (dist2 + _dec(beta)))
    return out


# --------------------------------------------------------------------------------------
# Dimension-scalable functions
# --------------------------------------------------------------------------------------


def ackley_terms(x: Sequence[float]) -> list[Any]:
    """Ackley (a=20, b=0.2, c=2π): -a exp(-b sqrt(mean x²)) - exp(mean cos(c x)) + a + e.

    The constants a and e are grouped with the exponential they cancel at the optimum.
    """
    pt = _point(x)
    d = len(pt)
    mean_sq = sum((v**2 for v in pt), mpf(0)) / d
    mean_cos = sum((mp.cos(2 * mp.pi * v) for v in pt), mpf(0)) / d
    return [20 - 20 * mp.exp(-_dec("0.2") * mp.sqrt(mean_sq)), mp.e - mp.exp(mean_cos)]


def rosenbrock_terms(x: Sequence[float]) -> list[Any]:
    """Rosenbrock: Σ_{i<d} 100 (x_{i+1} - x_i²)² + (x_i - 1)²."""
    pt = _point(x)
    out = []
    for xi, xnext in pairwise(pt):
        out += [100 * (xnext - xi**2) ** 2, (xi - 1) ** 2]
    return out


def levy_terms(x: Sequence[float]) -> list[Any]:
    """Levy: with w_i = 1 + (x_i - 1)/4, sin²(πw_1) + Σ_{i<d} (w_i-1)²[1 + 10 sin²(πw_i + 1)]
    + (w_d - 1)²[1 + sin²(2πw_d)]."""
    w = [1 + (v - 1) / 4 for v in _point(x)]
    out = [mp.sin(mp.pi * w[0]) ** 2]
    out += [(wi - 1) ** 2 * (1 + 10 * mp.sin(mp.pi * wi + 1) ** 2) for wi in w[:-1]]
    out.append((w[-1] - 1) ** 2 * (1 + mp.sin(2 * mp.pi * w[-1]) ** 2))
    return out


def styblinski_tang_terms(x: Sequence[float]) -> list[Any]:
    """Styblinski-Tang: ½ Σ (x_i⁴ - 16 x_i² + 5 x_i)."""
    out = []
    for v in _point(x):
        out += [v**4 / 2, -8 * v**2, 5 * v / 2]
    return out


def rastrigin_terms(x: Sequence[float]) -> list[Any]:
    """Rastrigin: 10 d + Σ (x_i² - 10 cos(2π x_i)), one term x_i² + 10 - 10 cos(2π x_i) each."""
    return [v**2 + 10 - 10 * mp.cos(2 * mp.pi * v) for v in _point(x)]


def griewank_terms(x: Sequence[float]) -> list[Any]:
    """Griewank: Σ x_i²/4000 - Π cos(x_i / sqrt(i)) + 1 (i from 1); the 1 goes with Π."""
    pt = _point(x)
    prod = mpf(1)
    for i, v in enumerate(pt, start=1):
        prod *= mp.cos(v / mp.sqrt(i))
    return [*(v**2 / 4000 for v in pt), 1 - prod]


def michalewicz_terms(x: Sequence[float]) -> list[Any]:
    """Michalewicz (m=10): -Σ sin(x_i) sin^{2m}(i x_i² / π)."""
    return [-mp.sin(v) * mp.sin(i * v**2 / mp.pi) ** 20 for i, v in enumerate(_point(x), start=1)]


def dixon_price_terms(x: Sequence[float]) -> list[Any]:
    """Dixon-Price: (x_1 - 1)² + Σ_{i≥2} i (2 x_i² - x_{i-1})²."""
    pt = _point(x)
    out = [(pt[0] - 1) ** 2]
    out += [i * (2 * pt[i - 1] ** 2 - pt[i - 2]) ** 2 for i in range(2, len(pt) + 1)]
    return out


def powell_terms(x: Sequence[float]) -> list[Any]:
    """Powell singular function, summed over blocks of four coordinates."""
    pt = _point(x)
    out = []
    for k in range(0, len(pt), 4):
        a, b, c, d = pt[k : k + 4]
        out += [(a + 10 * b) ** 2, 5 * (c - d) ** 2, (b - 2 * c) ** 4, 10 * (a - d) ** 4]
    return out


def zakharov_terms(x: Sequence[float]) -> list[Any]:
    """Zakharov: Σ x_i² + (Σ 0.5 i x_i)² + (Σ 0.5 i x_i)⁴."""
    pt = _point(x)
    s = sum((i * v / 2 for i, v in enumerate(pt, start=1)), mpf(0))
    return [*(v**2 for v in pt), s**2, s**4]


TERMS: dict[str, Terms] = {
    "ackley": ackley_terms,
    "beale": beale_terms,
    "booth": booth_terms,
    "branin": branin_terms,
    "dixon_price": dixon_price_terms,
    "forrester": forrester_terms,
    "goldstein_price": goldstein_price_terms,
    "griewank": griewank_terms,
    "hartmann3": hartmann3_terms,
    "hartmann6": hartmann6_terms,
    "levy": levy_terms,
    "mccormick": mccormick_terms,
    "michalewicz": michalewicz_terms,
    "powell": powell_terms,
    "rastrigin": rastrigin_terms,
    "rosenbrock": rosenbrock_terms,
    "shekel": shekel_terms,
    "six_hump_camel": six_hump_camel_terms,
    "styblinski_tang": styblinski_tang_terms,
    "zakharov": zakharov_terms,
}
"""Registry name -> function returning the additive terms of the published definition."""


def reference_value(name: str, x: Sequence[float], **params: Any) -> Any:
    """The function ``name`` at ``x`` to 50 digits (an mpf).

    ``params`` are problem parameters other than the dimension (e.g. ``m`` for Shekel).

    Parameters
    ----------
    name : str
        A registered problem with a reference implementation.
    x : sequence of float
        The point, length d.
    **params
        Problem parameters other than the dimension (e.g. ``m`` for Shekel).

    Returns
    -------
    mpmath.mpf
    """
    with mp.workdps(DPS):
        return mp.fsum(TERMS[name](x, **params))


def reference_gradient(name: str, x: Sequence[float], **params: Any) -> list[Any]:
    """Central-difference gradient at ``x`` in 50-digit arithmetic (step 1e-15).

    Truncation error is O(h²) ~ 1e-30 and cancellation error ~1e-50 / 1e-15, so the result
    is exact for any purpose a double-precision optimizer can be held to.

    Parameters
    ----------
    name : str
        A registered problem with a reference implementation.
    x : sequence of float
        The point, length d.
    **params
        Problem parameters other than the dimension (e.g. ``m`` for Shekel).

    Returns
    -------
    list of mpmath.mpf
        Length d.
    """
    with mp.workdps(DPS):
        h = mpf("1e-15")
        base = _point(x)
        grad = []
        for j in range(len(base)):
            up = [*base[:j], base[j] + h, *base[j + 1 :]]
            down = [*base[:j], base[j] - h, *base[j + 1 :]]
            grad.append(
                (mp.fsum(TERMS[name](up, **params)) - mp.fsum(TERMS[name](down, **params)))
                / (2 * h)
            )
        return grad


__all__ = [
    "DPS",
    "TERMS",
    "reference_gradient",
    "reference_value",
]
