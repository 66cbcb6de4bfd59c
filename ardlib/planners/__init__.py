"""Experiment planners behind one ask/tell/recommend interface.

``ask(n) -> (n, d)`` proposes experiments, ``tell(X, y)`` records outcomes (NaN marks a
failed experiment), ``recommend() -> (d,)`` returns the point the planner believes is best.

Peer libraries behind the same interface, for side-by-side comparisons (optional
``peers`` extra, imported on first use): :class:`BoTorchPlanner`, :class:`SkoptPlanner`,
:class:`OptunaPlanner`.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
