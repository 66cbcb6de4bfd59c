"""The pytest plugin the collection loads into its workers (``-p ardlib.testsel._plugin``).

Two modes, chosen by option:

- ``--testsel-coverage DIR``: line coverage of ``ardlib/`` with one coverage.py context per
  test, the test's node id (:meth:`coverage.Coverage.switch_context`), in this process and,
  through ``COVERAGE_PROCESS_START`` and a static context read from ``$TESTSEL_NODEID``, in
  every Python subprocess and multiprocessing child a test starts.  The setup of a fixture
  broader than a function gets its own context, which :func:`read_coverage
  <ardlib.testsel._coverage.read_coverage>` gives to every test using the fixture.  Lines
  run outside a test (imports, collection) keep the empty context.
- ``--testsel-jobs FILE --testsel-results FILE``: the mutant runner.  Collection is paid
  once; then for each job (a mutant, or none for a clean run) the worker writes the mutated
  module into its private copy of the repository, forks, and the child replaces the code of
  the mutated function in every live function object (the mutated file on disk serves
  modules imported later and subprocesses), runs the job's tests in collected order with
  :func:`_pytest.runner.runtestprotocol` under a per-test alarm, appends one JSON line per
  test to the results file and exits.  The parent waits with a hard limit, kills the
  child's process group and restores the file.

Both modes turn hypothesis's example database off and derandomize it, so that outcomes do
not depend on which mutant ran before.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import json
import os
import signal
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

__all__: list[str] = []

_ARDLIB = Path(__file__).resolve().parents[1]
# Coverage context of a module-, class-, package- or session-scoped fixture's setup.
FIXTURE_PREFIX = "fixture:"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("testsel", "ardlib testsel collection (internal)")
    group.addoption("--testsel-coverage", default=None, help="folder for coverage data")
    group.addoption("--testsel-jobs", default=None, help="JSON file of mutant jobs")
    group.addoption("--testsel-results", default=None, help="JSON Lines results file")


def pytest_configure(config: pytest.Config) -> None:
    _quiet_hypothesis()
    cov_dir = config.getoption("--testsel-coverage")
    if cov_dir:
        config.pluginmanager.register(_CoverageRecorder(Path(cov_dir)), "testsel-coverage")
    jobs = config.getoption("--testsel-jobs")
    if jobs:
        results = config.getoption("--testsel-results")
        if not results:
            raise pytest.UsageError("--testsel-jobs needs --testsel-results")
        config.pluginmanager.register(_Runner(Path(jobs), Path(results)), "testsel-runner")


def _quiet_hypothesis() -> None:
    try:
        from hypothesis import settings
    except ImportError:  # pragma: no cover - hypothesis is a dev dependency
        return
    settings.register_profile(
        "ardlib-testsel", settings.get_profile("default"), database=None, derandomize=True
    )
    settings.load_profile("ardlib-testsel")


class _CoverageRecorder:
    """Per-test line coverage in this process and in the subprocesses tests start."""

    def __init__(self, folder: Path) -> None:
        import coverage

        folder.mkdir(parents=True, exist_ok=True)
        rc = folder / "subprocess.rc"
        rc.write_text(
            "[run]\n"
            f"source = {_ARDLIB}\n"
            "parallel = true\n"
            f"data_file = {folder / '.coverage'}\n"
            "context = ${TESTSEL_NODEID}\n"
            "concurrency = thread,multiprocessing\n"
            "sigterm = true\n",
            encoding="utf-8",
        )
        os.environ["COVERAGE_PROCESS_START"] = str(rc)
        # The same settings here: multiprocessing children (forked pools included) are
        # measured too and get the test's node id as their static context.
        self._cov = coverage.Coverage(data_suffix=True, config_file=str(rc))
        self._folder = folder
        self._uses: dict[str, list[str]] = {}
        self._stack: list[str] = []
        self._cov.start()

    def _switch(self, label: str) -> None:
        self._cov.switch_context(label)
        if label:
            os.environ["TESTSEL_NODEID"] = label
        else:
            os.environ.pop("TESTSEL_NODEID", None)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Any:
        uses = []
        info = getattr(item, "_fixtureinfo", None)
        for defs in info.name2fixturedefs.values() if info is not None else ():
            if defs and defs[-1].scope != "function":
                uses.append(FIXTURE_PREFIX + _fixture_key(defs[-1]))
        self._uses[item.nodeid] = uses
        self._stack = [item.nodeid]
        self._switch(item.nodeid)
        try:
            yield
        finally:
            self._stack = []
            self._switch("")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Any:
        # A module/class/session fixture runs once, inside the first test that needs it:
        # its lines get their own context, later given to every test that uses it.
        if fixturedef.scope == "function" or not self._stack:
            yield
            return
        self._stack.append(FIXTURE_PREFIX + _fixture_key(fixturedef))
        self._switch(self._stack[-1])
        try:
            yield
        finally:
            self._stack.pop()
            self._switch(self._stack[-1] if self._stack else "")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._cov.stop()
        self._cov.save()
        target = self._folder / f"fixture-uses-{os.getpid()}.json"
        target.write_text(json.dumps(self._uses), encoding="utf-8")


class _TestTimeout(BaseException):
    """Raised by the per-test alarm (a BaseException, so ``except Exception`` lets it by)."""


def _fixture_key(fixturedef: Any) -> str:
    return f"{fixturedef.scope}:{fixturedef.baseid}::{fixturedef.argname}"


def _outcome(reports: list[pytest.TestReport], timed_out: bool) -> str:
    if timed_out:
        return "timeout"
    for rep in reports:
        if rep.failed:
            return "failed" if rep.when == "call" else "error"
    if any(rep.skipped for rep in reports):
        return "skipped"
    return "passed"


def _functions_by_code(filenames: set[str]) -> dict[tuple[str, str], list[types.FunctionType]]:
    """Every live function object defined in ``filenames``, by (file, qualname)."""
    index: dict[tuple[str, str], list[types.FunctionType]] = {}
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType):
            code = obj.__code__
            if code.co_filename in filenames:
                index.setdefault((code.co_filename, code.co_qualname), []).append(obj)
    return index


def _find_code(code: types.CodeType, qualname: str) -> types.CodeType | None:
    if code.co_qualname == qualname and code.co_name != "<module>":
        return code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found = _find_code(const, qualname)
            if found is not None:
                return found
    return None


def patch_function(
    path: str, module: str, source: str, qualname: str, live: list[types.FunctionType]
) -> str:
    """Give the live functions ``qualname`` of ``module`` the code compiled from ``source``.

    Parameters
    ----------
    path : str
        The module's file (the ``co_filename`` of its code).
    module : str
        Dotted module name.
    source : str
        The mutated module source.
    qualname : str
        Qualified name of the outermost function enclosing the mutation (a nested function
        or lambda is rebuilt from its patched parent's constants at each call).
    live : list of function
        The function objects whose code is replaced.

    Returns
    -------
    str
        ``"run"`` when patched (or when the module is not imported yet, so the mutated file
        on disk is what it will import), ``"unpatchable"`` when the code cannot be compiled
        or found, no live function exists, or the closure cells do not match.
    """
    if module not in sys.modules:
        return "run"
    try:
        top = compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return "unpatchable"
    new = _find_code(top, qualname)
    if new is None or not live:
        return "unpatchable"
    done: list[tuple[types.FunctionType, types.CodeType]] = []
    for fn in live:
        old = fn.__code__
        try:
            fn.__code__ = new
        except ValueError:  # different number of free variables
            for f, c in done:
                f.__code__ = c
            return "unpatchable"
        done.append((fn, old))
    return "run"


def lines_changed(before: str, after: str) -> int:
    """Number of lines that differ between two versions of a source (a diff's larger side).

    Parameters
    ----------
    before, after : str
        The original and the mutated source.

    Returns
    -------
    int
        Sum over the diff's changed blocks of the larger of the removed and added counts.
    """
    a, b = before.splitlines(), after.splitlines()
    ops = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")


class _Runner:
    """Runs mutant jobs in forked children (see the module docstring)."""

    def __init__(self, jobs: Path, results: Path) -> None:
        spec = json.loads(jobs.read_text(encoding="utf-8"))
        self.jobs: list[dict[str, Any]] = spec["jobs"]
        self.root = Path(spec["root"])
        self.results = results
        self._write_no = 0

    def _write(self, path: Path, text: str, base: float) -> None:
        # A new mtime on every write: a cached .pyc of a same-sized mutant is never reused.
        self._write_no += 1
        path.write_text(text, encoding="utf-8")
        stamp = base + 2 * self._write_no
        os.utime(path, (stamp, stamp))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        from cosmic_ray.mutating import mutate_code  # type: ignore[import-untyped]
        from cosmic_ray.plugins import get_operator  # type: ignore[import-untyped]

        items = {item.nodeid: item for item in session.items}
        order = {nodeid: i for i, nodeid in enumerate(items)}
        files = {str(self.root / job["path"]) for job in self.jobs if job.get("path")}
        live = _functions_by_code(files)
        base = time.time()
        with open(self.results, "a", encoding="utf-8") as out:
            for job in self.jobs:
                path = self.root / job["path"] if job.get("path") else None
                original = path.read_text(encoding="utf-8") if path else None
                mutated = None
                if path is not None and original is not None:
                    op = get_operator(job["operator"])()
                    try:
                        mutated = mutate_code(original, op, job["occurrence"])
                    except Exception as exc:  # cosmic-ray fails on some sites (dotted except)
                        self._line(out, job, status="no_mutation", note=repr(exc)[:200])
                        continue
                    if mutated is None:
                        self._line(out, job, status="no_mutation")
                        continue
                    self._line(out, job, lines_changed=lines_changed(original, mutated))
                    self._write(path, mutated, base)
                try:
                    self._fork(job, items, order, mutated, live, out)
                finally:
                    if path is not None and original is not None:
                        self._write(path, original, base)
        return True

    def _line(self, out: Any, job: dict[str, Any], **fields: Any) -> None:
        out.write(json.dumps({"mutant_id": job["mutant_id"], **fields}) + "\n")
        out.flush()

    def _fork(
        self,
        job: dict[str, Any],
        items: dict[str, pytest.Item],
        order: dict[str, int],
        mutated: str | None,
        live: dict[tuple[str, str], list[types.FunctionType]],
        out: Any,
    ) -> None:
        if job.get("nodeids") is None:  # a contiguous part of the whole universe
            every, part, parts = list(items), job["part"], job["parts"]
            chosen = every[part * len(every) // parts : (part + 1) * len(every) // parts]
            limits = dict.fromkeys(chosen, float(job["limit"]))
            missing: list[str] = []
        else:
            chosen = sorted((n for n in job["nodeids"] if n in items), key=order.__getitem__)
            limits = dict(zip(job["nodeids"], job["limits"], strict=True))
            missing = [n for n in job["nodeids"] if n not in items]
        for nodeid in missing:
            self._line(out, job, nodeid=nodeid, outcome="error", duration_s=0.0, note="absent")
        out.flush()
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                os.setpgid(0, 0)
                code = self._child(job, items, chosen, limits, mutated, live, out)
            finally:
                os._exit(code)
        hard = sum(limits[n] for n in chosen) + 30.0
        deadline = time.monotonic() + hard
        status = None
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.005)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self._line(out, job, status="timeout_all")
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # subprocesses the tests left behind
        if status is not None and status != 0:
            self._line(out, job, status="child_exit", code=status)

    def _child(
        self,
        job: dict[str, Any],
        items: dict[str, pytest.Item],
        chosen: list[str],
        limits: dict[str, float],
        mutated: str | None,
        live: dict[tuple[str, str], list[types.FunctionType]],
        out: Any,
    ) -> int:
        if mutated is not None:
            path = str(self.root / job["path"])
            key = (path, job["qualname"])
            status = patch_function(
                path, job["module"], mutated, job["qualname"], live.get(key, [])
            )
            self._line(out, job, status=status)
            if status != "run":
                return 0
        fired = {"now": False}

        def alarm(signum: int, frame: Any) -> None:
            fired["now"] = True
            raise _TestTimeout()

        signal.signal(signal.SIGALRM, alarm)
        for i, nodeid in enumerate(chosen):
            nextitem = items[chosen[i + 1]] if i + 1 < len(chosen) else None
            fired["now"] = False
            start = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, limits[nodeid])
            try:
                reports = runtestprotocol(items[nodeid], nextitem=nextitem, log=False)
            except _TestTimeout:
                reports = []
                fired["now"] = True
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            took = sum(r.duration for r in reports) if reports else time.perf_counter() - start
            outcome = _outcome(reports, fired["now"])
            extra = {}
            if outcome in ("failed", "error"):  # for whoever reads the raw results
                crash = [getattr(r.longrepr, "reprcrash", None) for r in reports if r.failed]
                extra["message"] = str(getattr(crash[0], "message", ""))[:300] if crash else ""
            self._line(out, job, nodeid=nodeid, outcome=outcome, duration_s=round(took, 6), **extra)
        return 0
