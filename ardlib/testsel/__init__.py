"""Test selection for this repository's suite, measured on real faulty changes.

Which tests must run for a change?  Coverage-based selection (run every test that executes
a changed line, like pytest-testmon) is safe but runs many tests; a model can rank the tests
by their chance of failing and stop early.  This subpackage measures both honestly:

- **Collection** (``ardlib testsel collect``): per-test line coverage of ``ardlib/`` from
  coverage.py's dynamic contexts, mutants of ``ardlib/`` made with cosmic-ray's mutation
  operators, and for each mutant the outcome and duration of every test that executes the
  mutated line; the repository's history of changed lines.
- **Model and evaluation** (``ardlib testsel evaluate``): features per (change, test), a
  gradient-boosting classifier, held-out changes grouped by source module and ordered in
  time, compared with coverage-based, changed-file and random selection.
- **Use** (``ardlib testsel run --base REV``, ``make test-changed``): the selected tests for
  the working tree against a base revision, with the skipped tests and why.

scikit-learn, cosmic-ray and pytest-cov are the optional ``testsel`` extra.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
