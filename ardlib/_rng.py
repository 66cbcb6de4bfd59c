"""Random-number plumbing: every stochastic function in ardlib takes ``rng``.

Following SciPy's SPEC 7, ``rng`` may be ``None`` (fresh OS entropy), an ``int`` seed, a
:class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`; it is normalised to a
Generator here and nowhere else.  Nothing in ardlib touches NumPy's global random state.
"""

from __future__ import annotations

import hashlib
from typing import TypeAlias

import numpy as np

RNGLike: TypeAlias = int | np.integer | np.random.Generator | np.random.SeedSequence | None

__all__ = ["RNGLike", "as_generator", "derive_seed"]


def as_generator(rng: RNGLike, *, name: str = "rng") -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` for ``rng``.

    Parameters
    ----------
    rng : None, int, SeedSequence or Generator
        ``None`` draws fresh entropy; an int (>= 0) or SeedSequence seeds a new PCG64
        generator; a Generator is returned unchanged (shared, not copied).
    name : str
        Argument name used in the error message.

    Raises
    ------
    TypeError
        If ``rng`` is none of the accepted types (``numpy.random.RandomState`` included:
        legacy seeding is not supported).
    ValueError
        If ``rng`` is a negative integer.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.SeedSequence):
        # Copy: consumers (scipy.stats.qmc) spawn children from the generator's sequence,
        # which would mutate the caller's object and make its reuse give other streams.
        return np.random.default_rng(
            np.random.SeedSequence(
                rng.entropy,
                spawn_key=rng.spawn_key,
                pool_size=rng.pool_size,
                n_children_spawned=rng.n_children_spawned,
            )
        )
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer):
        raise TypeError(
            f"The '{name}' parameter must be None, a non-negative int, a "
            f"numpy.random.SeedSequence or a numpy.random.Generator. Got {type(rng).__name__}."
        )
    if rng < 0:
        raise ValueError(f"The '{name}' parameter must be a non-negative int. Got {rng}.")
    return np.random.default_rng(int(rng))


def derive_seed(master_seed: int, *keys: object) -> int:
    """Derive a 63-bit seed from a master seed and any number of labels.

    The result depends only on the values (via their ``repr``), never on process, worker or
    call order, so ``derive_seed(7, "branin", "gauss-0.1", 3)`` is the same everywhere.
    Used to give every study cell its own stream (common random numbers across planners).

    Parameters
    ----------
    master_seed : int
        Non-negative master seed of a study.
    *keys : object
        Labels with a stable ``repr`` (str, int, float, tuples of those).

    Returns
    -------
    int
        A seed in ``[0, 2**63)``.
    """
    if isinstance(master_seed, bool) or not isinstance(master_seed, int | np.integer):
        raise TypeError(f"The 'master_seed' parameter must be an int. Got {master_seed!r}.")
    if master_seed < 0:
        raise ValueError(f"The 'master_seed' parameter must be >= 0. Got {master_seed}.")
    text = repr((int(master_seed), *keys)).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little") >> 1
