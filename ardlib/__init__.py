"""ardlib: validate autonomous-experimentation software.

Subpackages: :mod:`ardlib.objectives` (benchmark problems, noise and failure models),
:mod:`ardlib.planners` and :mod:`ardlib.gp` (experiment planners on a Gaussian process),
:mod:`ardlib.study` (reproducible campaigns and grids), :mod:`ardlib.stats` (comparisons).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
