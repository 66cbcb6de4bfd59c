"""Problems to optimize, with ground truth: analytic benchmarks, emulators of real lab
data, noise and failure models.

Every problem is an :class:`Objective` carrying ``bounds``, ``dim``, ``goal`` and, where
known, ``optimal_value`` and ``optimizers``; :func:`get_problem` builds one by name.
Measurement noise and failed experiments come from separately seeded :class:`NoiseModel`
objects that compose with :class:`Compose`.  Laboratory datasets load with
:func:`load_dataset`; :class:`Emulator` turns one into a problem (registered as
``"emulator:<dataset>"``).
"""

from . import _analytic, _datasets, _emulator_build, _emulators, _noise, _registry
from ._analytic import *  # noqa: F403
from ._base import Goal, Objective
from ._datasets import *  # noqa: F403
from ._emulator_build import *  # noqa: F403
from ._emulators import *  # noqa: F403
from ._ground_truth import GroundTruthCheck, check_ground_truth, ulps
from ._noise import *  # noqa: F403
from ._noise_base import NoiseModel, Observation
from ._reference import reference_gradient, reference_value, term_scale
from ._registry import *  # noqa: F403

__all__ = [
    "Goal",
    "GroundTruthCheck",
    "NoiseModel",
    "Objective",
    "Observation",
    "check_ground_truth",
    "reference_gradient",
    "reference_value",
    "term_scale",
    "ulps",
    *_analytic.__all__,
    *_datasets.__all__,
    *_emulator_build.__all__,
    *_emulators.__all__,
    *_noise.__all__,
    *_registry.__all__,
]
