"""Per-test line coverage of ``ardlib/``: which test executes which line.

:func:`run_coverage` runs the test universe once, in a sandbox copy of the repository, with
the collection's pytest plugin in coverage mode (one coverage.py context per test, named by
its node id, in the test process and in the Python subprocesses it starts), then
:func:`read_coverage` turns the combined coverage.py data file into a tidy table.  Lines run
at import or collection time carry the empty context and belong to no test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

__all__ = ["UNIVERSE_ARGS", "pytest_command", "read_coverage", "run_coverage"]

# The test universe: pytest's fast tier, as ``make test-fast`` selects it.
UNIVERSE_ARGS: tuple[str, ...] = ("-m", "not slow")


def pytest_command(*extra: str, xdist: int = 0) -> list[str]:
    """The pytest command line of a collection worker (the universe plus ``extra``).

    Parameters
    ----------
    *extra : str
        Further pytest arguments (the plugin's options).
    xdist : int
        Number of pytest-xdist workers; 0 disables xdist.

    Returns
    -------
    list of str
        ``python -m pytest -m "not slow" -p ardlib.testsel._plugin ...`` with the cache
        provider and pytest-randomly off and collection errors tolerated.
    """
    cmd = [sys.executable, "-m", "pytest", *UNIVERSE_ARGS, "-q", "-p", "ardlib.testsel._plugin"]
    cmd += ["-p", "no:cacheprovider", "-p", "no:randomly", "--continue-on-collection-errors"]
    cmd += ["-n", str(xdist)] if xdist > 0 else ["-p", "no:xdist"]
    return [*cmd, *extra]


def run_coverage(
    sandbox: Path, folder: Path, env: dict[str, str], *, workers: int = 2, timeout: float = 1800
) -> Path:
    """Run the universe under per-test coverage in ``sandbox``; return the combined data file.

    Parameters
    ----------
    sandbox : Path
        Repository copy (see :func:`ardlib.testsel._sandbox.make_sandbox`).
    folder : Path
        Where the coverage data files are written and combined.
    env : dict of str to str
        The worker environment (see :func:`ardlib.testsel._sandbox.sandbox_env`).
    workers : int
        pytest-xdist workers (the contexts are recorded in each worker process).
    timeout : float
        Seconds before the run is abandoned.

    Returns
    -------
    Path
        The combined ``.coverage`` SQLite file.

    Raises
    ------
    OSError
        If pytest could not run the universe (exit status other than 0 or 1) or no
        coverage data was written.
    """
    import coverage

    folder.mkdir(parents=True, exist_ok=True)
    cmd = pytest_command(
        f"--testsel-coverage={folder}", f"--basetemp={folder / 'tmp'}", xdist=workers
    )
    proc = subprocess.run(
        cmd, cwd=sandbox, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode not in (0, 1):
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise OSError(f"the coverage run exited with {proc.returncode}:\n{tail}")
    parts = sorted(str(p) for p in folder.glob(".coverage.*"))
    if not parts:
        raise OSError(f"the coverage run wrote no data in {folder}")
    data = coverage.CoverageData(basename=str(folder / ".coverage"))
    coverage.data.combine_parallel_data(data, data_paths=parts, keep=False)
    data.write()
    uses: dict[str, list[str]] = {}
    for part in sorted(folder.glob("fixture-uses-*.json")):
        for nodeid, labels in json.loads(part.read_text(encoding="utf-8")).items():
            for label in labels:
                uses.setdefault(label, []).append(nodeid)
    (folder / "fixture_uses.json").write_text(json.dumps(uses), encoding="utf-8")
    return folder / ".coverage"


def read_coverage(
    data_file: Path, root: Path, fixture_uses: dict[str, list[str]] | None = None
) -> pd.DataFrame:
    """The lines each test executes, from a coverage.py data file with per-test contexts.

    Parameters
    ----------
    data_file : Path
        A coverage.py SQLite data file whose contexts are pytest node ids (a subprocess's
        lines carry the node id of the test that started it).
    root : Path
        Repository root the measured files are reported relative to.
    fixture_uses : dict of str to list of str, optional
        Context of a broader-than-function fixture's setup (``fixture:...``) to the node
        ids of the tests using it (``fixture_uses.json`` beside the data file when None):
        those tests are given the fixture's lines.

    Returns
    -------
    pandas.DataFrame
        Columns ``nodeid``, ``path`` (repository-relative, ``/``-separated) and ``line``
        (int), sorted and without duplicates; the empty context (imports, collection) is
        left out, a shared fixture's lines belong to every test using the fixture.
    """
    import coverage

    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    if fixture_uses is None:
        beside = Path(data_file).parent / "fixture_uses.json"
        fixture_uses = json.loads(beside.read_text(encoding="utf-8")) if beside.exists() else {}
    root = Path(root).resolve()
    rows: list[tuple[str, str, int]] = []
    for measured in sorted(data.measured_files()):
        try:
            rel = Path(measured).resolve().relative_to(root).as_posix()
        except ValueError:
            continue
        for line, contexts in data.contexts_by_lineno(measured).items():
            for ctx in contexts:
                if ctx.startswith("fixture:"):
                    rows.extend((n, rel, line) for n in fixture_uses.get(ctx, []))
                elif ctx:
                    rows.append((ctx, rel, line))
    frame = pd.DataFrame(rows, columns=["nodeid", "path", "line"])
    frame["line"] = frame["line"].astype("int64")
    frame = frame.drop_duplicates().sort_values(["nodeid", "path", "line"])
    return frame.reset_index(drop=True)
