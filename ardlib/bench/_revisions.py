"""``ardlib bench compare BASE HEAD``: two revisions measured side by side, alternately.

Each revision is checked out in its own ``git worktree`` and measured in its own runner
process whose ``import ardlib`` resolves to that worktree (``PYTHONPATH``; the runner
checks it and refuses otherwise).  Both runners use this revision's benchmark
definitions, copied next to them, so older revisions are timed on the same work.  For
every benchmark, the calls per sample are calibrated once, then rounds alternate
BASE/HEAD and HEAD/BASE so drifts of a shared, noisy machine hit both sides alike.

Three controls against differences that belong to a process rather than to the code,
measured on this 2-core VM with the same code on both sides (A/A, 10 runner pairs, loaded
by other work): a runner's speed is partly its own (heap layout, page backing): one
process ran ``gp.predict[n=100]`` 4.8 ms per call, the next 6.5 ms, in CPU time, and
single-pair A/A comparisons flagged 8 of 60 benchmarks "slower" at p < 0.002.  So

- each side runs in ``processes`` runners (default 3) and the rounds cycle through them, so
  a runner's own offset is averaged over three;
- samples are CPU seconds of the runner process (``clock="cpu"``), not wall seconds, so
  time spent waiting for a core held by other programs does not count (A/A log-ratio
  spread of ``acquisition.optimize`` 0.082 wall, 0.020 CPU);
- runners allocate with glibc's transparent-huge-page tunable
  (``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``; A/A spread of ``gp.predict[n=100]`` 0.158
  without, 0.041 with).  Both sides get it, so ratios stay comparable; absolute times of
  large-array benchmarks are lower than a default process sees (``gp.predict[n=100]``
  3.3 ms instead of 5.6 ms here).

Both runners use this Python environment: a revision whose dependencies differ from it is
measured with these dependencies (the lock file is compared and a difference is reported).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import git, lock_differs, resolve_commit
from ._compare import compare_samples

__all__ = ["RevisionComparison", "Runner", "compare_revisions", "resolve_revision"]

WORKTREE = "."  # the working tree as it is, uncommitted changes included
_TOOL_FILES = ("_registry.py", "_suite.py", "_session.py", "_runner.py", "_profile.py")
_TOOL_PACKAGE = "_ardlib_bench_tool"
_HUGEPAGE_TUNABLE = "glibc.malloc.hugetlb=1"  # see the module docstring


def _git(repo: Path, *args: str) -> str:
    """``git -C repo args``; ValueError with git's message on failure."""
    return str(git("-C", str(repo), *args, check=True))


def resolve_revision(repo: str | os.PathLike[str], rev: str) -> str:
    """The full commit id of ``rev`` (a branch, tag or commit), or ``"."`` for the
    working tree.

    Parameters
    ----------
    repo : str or path-like
        The git repository.
    rev : str
        A branch, tag, commit, or ``"."``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        Naming the revision when git does not know it.
    """
    if rev == WORKTREE:
        return WORKTREE
    return resolve_commit(repo, rev)


class Runner:
    """A runner process measuring the ardlib source tree at ``source``.

    Parameters
    ----------
    source : path
        The root of an ardlib source tree (a worktree or this checkout).
    tool_dir : path
        The directory holding the copied benchmark tool package.
    label : str
        For error messages.
    """

    def __init__(self, source: Path, tool_dir: Path, label: str) -> None:
        self.label = label
        env = {**os.environ, "PYTHONPATH": f"{tool_dir}{os.pathsep}{source}"}
        env.pop("PYTHONSTARTUP", None)
        tunables = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]
        env["GLIBC_TUNABLES"] = ":".join([*tunables, _HUGEPAGE_TUNABLE])
        self._proc = subprocess.Popen(
            [sys.executable, "-m", f"{_TOOL_PACKAGE}._runner"],
            cwd=source,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.source = source

    def check(self) -> None:
        """Wait until the runner answers and make sure it imports ardlib from ``source``.

        Raises
        ------
        RuntimeError
            When an installed ardlib shadows the source tree.
        """
        hello = self.request({"op": "hello"})
        where = Path(hello["ardlib_file"]).resolve()
        if not where.is_relative_to(self.source.resolve()):
            raise RuntimeError(
                f"The {self.label} runner imported ardlib from {where}, not from "
                f"{self.source}: an installed copy shadows the source tree."
            )

    def request(self, req: dict[str, Any]) -> Any:
        """Send one request; return its result or raise RuntimeError with the error."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        try:
            self._proc.stdin.write(json.dumps(req) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        except (BrokenPipeError, OSError) as exc:
            raise RuntimeError(f"The {self.label} runner died: {exc}") from None
        if not line:
            raise RuntimeError(
                f"The {self.label} runner exited (code {self._proc.poll()}) during {req['op']}."
            )
        reply = json.loads(line)
        if not reply["ok"]:
            raise RuntimeError(f"{self.label}: {req.get('name', req['op'])}: {reply['error']}")
        return reply["result"]

    def close(self) -> None:
        """Stop the process."""
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write('{"op": "exit"}\n')
                self._proc.stdin.flush()
                self._proc.wait(timeout=30)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                stream.close()


@dataclass
class RevisionComparison:
    """Outcome of :func:`compare_revisions`.

    Attributes
    ----------
    table : DataFrame
        One row per benchmark: ``benchmark``, ``group``, ``number`` (calls per sample),
        ``base_median``, ``head_median`` (seconds per call), ``ratio``, ``ci_low``,
        ``ci_high``, ``p_value``, ``verdict`` (``slower``, ``faster``, ``same`` or
        ``unavailable``), ``error``.
    samples : dict
        Benchmark -> ``{"base": [...], "head": [...]}`` seconds per call.
    base, head : str
        Commit ids (``"."`` for the working tree).
    settings : dict
    notes : list of str
        E.g. a lock file that differs between the revisions.
    profiles : dict
        With ``profile_dir``: benchmark -> ``{"base": {kind: path}, "head": {kind: path},
        "diff": DataFrame}`` (``diff``: :func:`~ardlib.bench.diff_top_frames`, the frames
        whose share of self time moved most).
    """

    table: pd.DataFrame
    samples: dict[str, dict[str, list[float]]]
    base: str
    head: str
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def regressed(self) -> bool:
        """Whether any benchmark is significantly and substantially slower on HEAD."""
        return bool((self.table["verdict"] == "slower").any())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary of everything (samples included).

        Returns
        -------
        dict
        """
        return {
            "base": self.base,
            "head": self.head,
            "settings": self.settings,
            "notes": self.notes,
            "table": json.loads(self.table.to_json(orient="records")),
            "samples": self.samples,
            "profiles": {
                name: {
                    "base": p["base"],
                    "head": p["head"],
                    "diff": json.loads(p["diff"].to_json(orient="records")),
                }
                for name, p in self.profiles.items()
            },
        }


def _tool_dir(into: Path) -> Path:
    pkg = into / _TOOL_PACKAGE
    pkg.mkdir(parents=True)
    here = Path(__file__).parent
    for name in _TOOL_FILES:
        shutil.copy2(here / name, pkg / name)
    (pkg / "__init__.py").write_text('"""A copy of ardlib.bench\'s runner for one comparison."""\n')
    return into


def _checkout(repo: Path, rev: str, into: Path, stack: ExitStack) -> Path:
    if rev == WORKTREE:
        return repo
    _git(repo, "worktree", "add", "--detach", "--quiet", str(into), rev)
    stack.callback(git, "-C", str(repo), "worktree", "remove", "--force", str(into))
    return into


def _lock_note(base_src: Path, head_src: Path) -> list[str]:
    if lock_differs(base_src, head_src):
        return [
            "requirements/lock.txt differs between the revisions; both were measured with "
            "this environment's packages."
        ]
    return []


def compare_revisions(
    base: str,
    head: str,
    *,
    repo: str | os.PathLike[str] = ".",
    benchmarks: Sequence[str],
    rounds: int = 12,
    repeat: int = 2,
    processes: int = 3,
    clock: str = "cpu",
    min_time: float = 0.02,
    alpha: float = 0.002,
    threshold: float = 0.10,
    head_slowdown: float = 0.0,
    profile_dir: str | os.PathLike[str] | None = None,
    profile_seconds: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> RevisionComparison:
    """Measure ``benchmarks`` on ``base`` and ``head`` side by side and compare them.

    Parameters
    ----------
    base, head : str
        Revisions git knows, or ``"."`` for the working tree with its uncommitted changes.
    repo : path, default "."
        The git repository.
    benchmarks : sequence of str
        Registered benchmark names (see :func:`~ardlib.bench.list_benchmarks`).
    rounds : int, default 12
        Alternating rounds; each takes ``repeat`` samples per side, so each side gets
        ``rounds * repeat`` samples (at least 7 are needed for p to reach 0.002).  Round
        ``k`` uses runner pair ``k % processes``.
    repeat : int, default 2
        Samples per side in each round.
    processes : int, default 3
        Runner processes per side (see the module docstring: a process's own speed
        offset is averaged over them).
    clock : {"cpu", "wall"}, default "cpu"
        CPU seconds of the runner process, or wall seconds (for code that waits on I/O).
    min_time : float, default 0.02
        Seconds per sample at least (calls per sample are calibrated on BASE).
    alpha, threshold : float
        See :func:`~ardlib.bench.compare_samples`.
    head_slowdown : float, default 0
        Inject a slowdown into HEAD (busy-waiting this fraction of each call's time); for
        measuring the detector, never for real comparisons.
    profile_dir : path, optional
        Also profile every measured benchmark on both sides (after the timing, for
        ``profile_seconds`` each) and keep the flame graphs in ``<profile_dir>/base`` and
        ``<profile_dir>/head``.
    profile_seconds : float, default 1.0
        Profiling time per benchmark and side.
    progress : callable, optional
        Called with a line of text as each benchmark finishes.

    Returns
    -------
    RevisionComparison
    """
    if rounds < 1 or repeat < 1 or processes < 1 or min_time <= 0 or head_slowdown < 0:
        raise ValueError(
            "compare_revisions needs rounds >= 1, repeat >= 1, processes >= 1, min_time > 0 "
            f"and head_slowdown >= 0. Got rounds={rounds}, repeat={repeat}, "
            f"processes={processes}, min_time={min_time}, head_slowdown={head_slowdown}."
        )
    if clock not in ("cpu", "wall"):
        raise ValueError(
            f"The 'clock' parameter of compare_revisions must be 'cpu' or 'wall'. Got {clock!r}."
        )
    if not benchmarks:
        raise ValueError("The 'benchmarks' parameter of compare_revisions is empty.")
    root = Path(_git(Path(repo), "rev-parse", "--show-toplevel"))
    base_id, head_id = resolve_revision(root, base), resolve_revision(root, head)
    rows: list[dict[str, Any]] = []
    samples: dict[str, dict[str, list[float]]] = {}
    profiles: dict[str, dict[str, Any]] = {}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ardlib-compare-")))
        tool = _tool_dir(tmp / "tool")
        base_src = _checkout(root, base_id, tmp / "base", stack)
        head_src = _checkout(root, head_id, tmp / "head", stack)
        notes = _lock_note(base_src, head_src)
        pool: list[dict[str, Runner]] = [{} for _ in range(processes)]
        for i, pair in enumerate(pool):
            for side, src in (("base", base_src), ("head", head_src)):
                pair[side] = Runner(src, tool, f"{side} #{i + 1}")  # all start importing at once
                stack.callback(pair[side].close)
        for pair in pool:
            for r in pair.values():
                r.check()
        runners = pool[0]
        for name in benchmarks:
            row: dict[str, Any] = {"benchmark": name, "error": ""}
            try:
                calibrated = []  # calibrating also warms every runner up
                for pair in pool:
                    for r in pair.values():
                        r.request({"op": "setup", "name": name})
                        calibrated.append(
                            r.request({"op": "calibrate", "name": name, "min_time": min_time})
                        )
                number = int(calibrated[0])  # BASE's first runner decides
                got: dict[str, list[float]] = {"base": [], "head": []}
                for k in range(rounds):
                    pair = pool[k % processes]
                    order = ("base", "head") if (k // processes) % 2 == 0 else ("head", "base")
                    for side in order:
                        req = {
                            "op": "sample",
                            "name": name,
                            "number": number,
                            "repeat": repeat,
                            "slowdown": head_slowdown if side == "head" else 0.0,
                            "clock": clock,
                        }
                        got[side].extend(pair[side].request(req))
            except RuntimeError as exc:
                row.update(verdict="unavailable", error=str(exc))
                rows.append(row)
                if progress:
                    progress(f"{name}: unavailable ({exc})")
                continue
            change = compare_samples(got["base"], got["head"], alpha=alpha, threshold=threshold)
            row.update(number=number, **change.to_dict())
            rows.append(row)
            samples[name] = got
            if progress:
                progress(
                    f"{name}: {change.ratio:.3f}x [{change.ci_low:.3f}, {change.ci_high:.3f}] "
                    f"p={change.p_value:.2g} {change.verdict}"
                )
        if profile_dir is not None:
            profiles = _profile_both(runners, samples, Path(profile_dir).resolve(), profile_seconds)
    columns = [
        "benchmark", "number", "base_median", "head_median", "ratio", "ci_low", "ci_high",
        "p_value", "verdict", "n_base", "n_head", "error",
    ]  # fmt: skip
    table = pd.DataFrame(rows).reindex(columns=columns)
    settings: dict[str, Any] = {
        "rounds": rounds,
        "repeat": repeat,
        "processes": processes,
        "clock": clock,
        "min_time": min_time,
        "alpha": alpha,
        "threshold": threshold,
        "head_slowdown": head_slowdown,
    }
    return RevisionComparison(table, samples, base_id, head_id, settings, notes, profiles)


def _profile_both(
    runners: dict[str, Runner],
    measured: dict[str, Any],
    directory: Path,
    seconds: float,
) -> dict[str, dict[str, Any]]:
    from ._profile import diff_top_frames, load_top_frames

    out: dict[str, dict[str, Any]] = {}
    for name in measured:
        entry: dict[str, Any] = {}
        for side, runner in runners.items():
            req = {"op": "profile", "name": name, "seconds": seconds, "out": str(directory / side)}
            entry[side] = runner.request(req)
        entry["diff"] = diff_top_frames(
            load_top_frames(entry["base"]["frames"]), load_top_frames(entry["head"]["frames"])
        )
        out[name] = entry
    return out
