"""Reports: run parameterized notebooks with papermill, render HTML, style figures, index.

:func:`run_report` executes ``notebooks/<name>.ipynb`` in the repository root and renders
``reports/<name>.html`` with :func:`render_html` (code hidden, figures embedded, no network
resources); a notebook that raises still gets its page and then :class:`ReportFailed`.
:func:`load_params` reads a ``params.yaml`` section with ``-p KEY VALUE`` overrides, and
:func:`check_parameters` checks them against the schema beside the notebook
(``<name>.schema.yaml``: types, ranges, inputs) before a kernel starts.
A notebook follows the :class:`Report` protocol (checks, metrics, figures, inputs and
the verdict in one object, written to ``reports/metrics/<name>.json``, from which
:func:`write_index` builds ``reports/index.html``); it draws with :func:`paper_style` and
:func:`planner_color`, and computes with the functions below (:func:`summarize_study`,
:func:`sentinel_check`, ...), which are tested like the rest of the library.

Importing this package is cheap: every name loads on first access (lazy_loader, SPEC 1),
and papermill, nbconvert, matplotlib and ipywidgets only when a function needs them.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
