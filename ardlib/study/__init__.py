"""Run campaigns and reproducible grids of campaigns; keep their results by hash.

:func:`run_campaign` runs one planner against one problem under one noise model and scores
every step against the ground truth.  A :class:`Study` is a grid problems × noises ×
planners × replicates described by specs (:class:`ProblemSpec`, :class:`PlannerSpec`,
:class:`NoiseSpec`); :meth:`Study.run` computes its missing cells on any
:class:`concurrent.futures.Executor` and stores them in a :class:`ResultStore`, returning a
:class:`StudyResult` whose combined parquet file is byte-identical however it was computed;
:meth:`StudyResult.save` writes it with its :class:`StudyRecord` and :func:`load_study` reads
both back.

Randomness: a cell's seed is ``derive_seed(master_seed, problem key, noise label,
replicate)``; its planner is seeded with ``derive_seed(cell_seed, "planner")`` and the batch
starting at evaluation ``t`` is measured with ``derive_seed(cell_seed, "noise", t)``, so all
planners in a cell share the initial-design seed and the noise stream (common random
numbers).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
