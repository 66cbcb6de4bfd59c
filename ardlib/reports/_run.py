"""Run one report notebook with papermill and render it as HTML.

``run_report("validation", {"budget": 30})`` executes ``notebooks/validation.ipynb`` in
the repository root (so the notebook reads ``data/...`` and writes ``reports/...``),
saves the executed copy to ``reports/executed/validation.ipynb`` and renders
``reports/validation.html``.  A notebook that raises still gets its HTML page, showing the
error, and then :class:`ReportFailed` is raised.  A report that passed is signed:
``reports/validation.html.intoto.jsonl`` is a DSSE envelope whose in-toto statement covers
the page, the metrics JSON and the figures (:func:`ardlib.provenance.sign_report`); without
securesystemslib (the ``provenance`` extra) a note on stderr says it was not signed.

The kernel is the ``python3`` kernelspec of the running interpreter: inside a virtual
environment jupyter_core searches the environment's kernelspecs before the user's, and
jupyter_client replaces the spec's ``python`` with ``sys.executable``, so notebooks run on
the same Python and packages as the caller (``tests/test_reports_run.py`` checks this).
papermill changes the process's working directory while a notebook runs: do not call
:func:`run_report` from several threads at once.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._html import render_html
from ._schema import check_parameters

__all__ = [
    "ReportFailed",
    "ReportResult",
    "notebook_parameters",
    "notebook_path",
    "run_report",
    "sign_outputs",
]

KERNEL_NAME = "python3"


@dataclass(frozen=True)
class ReportResult:
    """Outcome of one report run.

    Attributes
    ----------
    name : str
        Notebook name (file stem).
    html_path, executed_path : Path
        The rendered page and the executed notebook.
    passed : bool
        True when every cell ran without raising.
    error : str or None
        ``"ExceptionName: message"`` of the first failure, None when passed.
    seconds : float
        Wall-clock time of execution and rendering.
    envelope : Path or None
        The provenance envelope ``<name>.html.intoto.jsonl``; None when the run failed,
        signing was turned off or securesystemslib is not installed.
    """

    name: str
    html_path: Path
    executed_path: Path
    passed: bool
    error: str | None
    seconds: float
    envelope: Path | None = None


class ReportFailed(RuntimeError):
    """A report notebook raised (or timed out, or its kernel died).

    The HTML page was written before this was raised; it shows the failing cell's error.

    Parameters
    ----------
    result : ReportResult
        The failed run's details, kept as ``.result``.
    """

    def __init__(self, result: ReportResult) -> None:
        super().__init__(f"report {result.name!r} failed: {result.error}")
        self.result = result


def notebook_parameters(path: str | Path) -> dict[str, str]:
    """Names and default source text of the notebook's ``parameters`` cell ({} without one)."""
    import papermill

    return {k: v["default"] for k, v in papermill.inspect_notebook(str(path)).items()}


def _check_parameters(nb_path: Path, parameters: Mapping[str, Any]) -> None:
    if not parameters:
        return
    valid = notebook_parameters(nb_path)
    for key in parameters:
        if key not in valid:
            raise ValueError(
                f"Unknown parameter {key!r} for notebook {nb_path.stem!r}. "
                f"Valid parameters: {', '.join(sorted(valid)) or '(none)'}."
            )


def notebook_path(name: str, notebooks_dir: str | Path = "notebooks") -> Path:
    """``<notebooks_dir>/<name>.ipynb``; FileNotFoundError listing the notebooks if absent."""
    notebooks_dir = Path(notebooks_dir)
    if not name or Path(name).name != name or name.endswith(".ipynb"):
        raise ValueError(
            f"The 'name' of a report must be a notebook stem like 'validation'. Got {name!r}."
        )
    path = notebooks_dir / f"{name}.ipynb"
    if not path.is_file():
        found = sorted(p.stem for p in notebooks_dir.glob("*.ipynb"))
        raise FileNotFoundError(
            f"No notebook {str(path)!r}. Notebooks in {str(notebooks_dir)!r}: "
            f"{', '.join(found) or '(none)'}."
        )
    return path


def _engine_config() -> Any:
    """Kernel manager settings: CurveZMQ-encrypted transport where pyzmq supports it."""
    import zmq
    from traitlets.config import Config

    config = Config()
    if zmq.has("curve"):
        config.KernelManager.transport_encryption = "auto"
    return config


def _execute(
    nb_path: Path,
    executed: Path,
    parameters: dict[str, Any],
    cwd: Path,
    timeout: float | None,
    log_output: bool,
) -> str | None:
    """Run the notebook; the error text on failure, None on success."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    try:
        papermill.execute_notebook(
            str(nb_path),
            str(executed),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=sys.stderr.isatty(),
            log_output=log_output,
            cwd=str(cwd),
            execution_timeout=timeout,
            config=_engine_config(),
        )
    except papermill.PapermillExecutionError as exc:
        return f"{exc.ename}: {exc.evalue}"
    except (CellTimeoutError, DeadKernelError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def sign_outputs(
    name: str,
    out_dir: str | Path,
    root: str | Path,
    parameters: Mapping[str, Any],
    started_on: datetime | None = None,
) -> Path | None:
    """Sign report ``name``'s page, metrics and figures; None (with a note on stderr) when
    securesystemslib is not installed.

    ``parameters`` are the notebook's (their ``metrics_path`` and ``figures_dir``, relative
    to ``root``, locate those files); the key is ``$ARDLIB_PROVENANCE_KEY``, else
    ``<root>/.ardlib/keys/provenance.key``, else an ephemeral one.
    """
    from ..provenance import sign_report

    def where(key: str) -> str | None:
        value = parameters.get(key)
        return str(value) if value else None

    try:
        signed = sign_report(
            name,
            out_dir,
            root=root,
            metrics_path=where("metrics_path"),
            figures_dir=where("figures_dir"),
            params=parameters,
            started_on=started_on,
        )
    except ModuleNotFoundError as exc:
        if exc.name != "securesystemslib":
            raise
        print(f"note: report {name!r} is not signed: {exc}", file=sys.stderr)
        return None
    return signed.envelopes[0]


def run_report(
    name: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    notebooks_dir: str | Path = "notebooks",
    out_dir: str | Path = "reports",
    cwd: str | Path | None = None,
    timeout: float | None = None,
    log_output: bool = False,
    sign: bool = True,
) -> ReportResult:
    """Execute ``<notebooks_dir>/<name>.ipynb`` with papermill and render its HTML.

    Parameters
    ----------
    name : str
        Notebook stem, e.g. ``"validation"``.
    parameters : mapping, optional
        Values injected after the notebook's ``parameters`` cell; every key must be a
        name defined there (ValueError naming it and listing the valid ones otherwise),
        and with a ``<name>.schema.yaml`` beside the notebook every value and input path
        is checked before the kernel starts (:func:`check_parameters`).
    notebooks_dir : str or Path, default "notebooks"
        Where the notebook is.
    out_dir : str or Path, default "reports"
        Receives ``<name>.html`` and ``executed/<name>.ipynb``.
    cwd : str or Path, optional
        Working directory of the kernel; default the parent of ``notebooks_dir`` (the
        repository root), so relative paths in the notebook are repository paths.
    timeout : float, optional
        Seconds allowed per cell; None waits forever.
    log_output : bool, default False
        Also send the notebook's output to the papermill logger.
    sign : bool, default True
        After a successful run, write ``<out_dir>/<name>.html.intoto.jsonl`` over the page,
        the metrics and the figures (:func:`sign_outputs`).

    Returns
    -------
    ReportResult
        For a notebook that ran to the end.

    Raises
    ------
    ParameterError
        A parameter of the wrong type or range, or a missing input (nothing has run).
    ReportFailed
        When a cell raised, timed out or the kernel died, after the HTML (showing the
        error) was written.  ``exc.result`` holds the :class:`ReportResult`.
    """
    start = time.perf_counter()
    started_on = datetime.now(UTC)
    nb_dir = Path(notebooks_dir).resolve()
    nb_path = notebook_path(name, nb_dir)
    params = dict(parameters or {})
    _check_parameters(nb_path, params)
    work = Path(cwd).resolve() if cwd is not None else nb_dir.parent
    check_parameters(nb_path, params, cwd=work)  # types, ranges, inputs: before the kernel
    out = Path(out_dir).resolve()
    executed = out / "executed" / f"{name}.ipynb"
    html = out / f"{name}.html"
    executed.parent.mkdir(parents=True, exist_ok=True)
    executed.unlink(missing_ok=True)  # never render a previous run's notebook as this one's
    error = _execute(nb_path, executed, params, work, timeout, log_output)
    if executed.is_file():
        render_html(executed, html)
    elif error is None:  # pragma: no cover (papermill always writes the output notebook)
        raise RuntimeError(f"papermill wrote no executed notebook for {name!r}")
    result = ReportResult(
        name=name,
        html_path=html,
        executed_path=executed,
        passed=error is None,
        error=error,
        seconds=time.perf_counter() - start,
    )
    if error is not None:
        raise ReportFailed(result)
    if sign:
        envelope = sign_outputs(name, out, work, params, started_on)
        return dataclasses.replace(result, envelope=envelope)
    return result
