"""Problems to optimize, with ground truth: analytic benchmarks, emulators of real lab
data, noise and failure models.

Every problem is an :class:`Objective` carrying ``bounds``, ``dim``, ``goal`` and, where
known, ``optimal_value`` and ``optimizers``; :func:`get_problem` builds one by name.
Measurement noise and failed experiments come from separately seeded :class:`NoiseModel`
objects that compose with :class:`Compose`.  Laboratory datasets load with
:func:`load_dataset`; :class:`Emulator` turns one into a problem (registered as
``"emulator:<dataset>"``).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
