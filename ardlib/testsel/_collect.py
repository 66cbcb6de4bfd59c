"""``collect``: the test-selection dataset of this repository, in one bounded run.

Phases (each timed in ``meta.json``):

1. *sandbox*: one private copy of the repository per worker (see ``_sandbox``).
2. *coverage*: the universe (``pytest -m "not slow"``) once under per-test coverage.
3. *sites*: cosmic-ray sites inside function bodies of ``ardlib/`` (``ardlib/testsel`` is
   left out: it is the machinery), a seeded uniform sample, ``git blame`` of each line.
4. *clean*: the universe once in the runner without a mutant: each test's clean outcome
   and duration (setup + call + teardown), which set the per-test time limits.
5. *mutants*: each sampled mutant against every test that executes its line (the tests
   that execute the first line of the statement holding it count too: coverage.py records
   a multi-line statement on its first line).  A mutant is *killed* when one of those
   tests that passed clean fails, errors or times out.
6. *check*: on a seeded sample of killed mutants, every other test of the universe, to
   test the assumption that a test that does not execute the mutated line cannot fail.
7. *history*: every commit's changed lines of ``ardlib/*.py`` with the number of tests
   covering them now.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import git, revision_state, utc_now, write_json
from .._rng import derive_seed
from ._coverage import UNIVERSE_ARGS, pytest_command, read_coverage, run_coverage
from ._history import changed_lines, history_table
from ._mutants import blame_lines, enumerate_sites, operator_kind, sample_sites
from ._sandbox import make_sandbox, sandbox_env

__all__ = ["CollectResult", "collect"]

FAILING = ("failed", "error", "timeout")
UNIVERSE = 'pytest -m "not slow" (the fast tier, as `make test-fast`); slow tests are out'

# Written beside the data as SCHEMA_CHANGES.md: what differs from the agreed schema.
SCHEMA_NOTE = """\
# Schema changes and clarifications of data/testsel (written by `ardlib testsel collect`)

One addition to the agreed schema; everything else is exactly as agreed.

- **`mutants.csv` has one extra column, `weight`** (float >= 1, last column). Sites are
  drawn uniformly (`--mutants` of them, seeded) among the function-body sites of
  `ardlib/`; then a drawn site whose covering tests take more than `--cost-cap` seconds
  (sum of their clean durations) is kept only with probability `cost_cap / cost`.
  `weight` is 1 / that probability (1 for most rows). Reason, measured: a uniform sample
  costs ~6.7 s of covering tests per covered mutant (heavy tail: the top 10% of lines hold
  47% of the cost), 1,000 mutants would not fit the 30-minute budget on 2 cores; the cap
  brings it to ~1.9 s. Population estimates (kill rate, recall, seconds saved) should
  weight mutants by `weight`; unweighted numbers over-represent cheaply tested sites.
  Thinned-out sites are not in the file (`meta.json`: `counts.drawn`, `thinned_out`).

Clarifications (values, not columns):

- `status`: `run` (the covering tests ran), `not_covered` (no test of the universe
  executes the line: no rows in `outcomes.parquet`, `killed` false), `unpatchable` (the
  function's live code could not be replaced: not run), `no_mutation` (cosmic-ray made no
  change), `timeout_all` (the whole child hit its hard limit: tests without a result are
  recorded as `timeout`), `child_exit` (the child died before any result).
- `killed`: at least one covering test **that passed in the clean run** failed, errored or
  timed out (tests failing clean in the runner are in `tests.csv` with `outcome` failed).
- `n_covering`: tests executing the mutated line or the first line of the statement that
  holds it (coverage.py records a multi-line statement on its first line).
- `lines_changed`: -1 for mutants that were not run.
- `tests.csv` `outcome`: clean outcomes `error`/`timeout` are folded into `failed`.
- `coverage.parquet` lines are as coverage.py recorded them (statement first lines).
"""


@dataclass
class CollectResult:
    """What :func:`collect` wrote.

    Attributes
    ----------
    out : Path
        The output folder (``tests.csv``, ``coverage.parquet``, ``mutants.csv``,
        ``outcomes.parquet``, ``history.csv``, ``check.json``, ``meta.json``).
    meta : dict
        The content of ``meta.json``: counts, timings, load averages.
    """

    out: Path
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Clock:
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        def cpu() -> float:
            own = resource.getrusage(resource.RUSAGE_SELF)
            kids = resource.getrusage(resource.RUSAGE_CHILDREN)
            return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

        wall0, cpu0, load0 = time.perf_counter(), cpu(), os.getloadavg()
        yield
        self.phases[name] = {
            "wall_s": round(time.perf_counter() - wall0, 2),
            "cpu_s": round(cpu() - cpu0, 2),
            "loadavg_start": [round(x, 2) for x in load0],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        }


def _check_args(n_mutants: int, seed: int, workers: int, check_sample: int) -> None:
    for name, value, low in (
        ("n_mutants", n_mutants, 1),
        ("seed", seed, 0),
        ("workers", workers, 1),
        ("check_sample", check_sample, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(
                f"The '{name}' parameter of collect must be an int >= {low}. Got {value!r}."
            )


def _first_lines(root: Path, paths: set[str]) -> dict[str, dict[int, int]]:
    """For each file, line -> first line of the statement holding it (coverage's parser)."""
    from coverage.parser import PythonParser

    out: dict[str, dict[int, int]] = {}
    for rel in paths:
        text = (root / rel).read_text(encoding="utf-8")
        parser = PythonParser(text=text)
        parser.parse_source()
        out[rel] = {ln: parser.first_line(ln) for ln in range(1, text.count("\n") + 2)}
    return out


def _covering(
    sites: pd.DataFrame, cov: pd.DataFrame, first: dict[str, dict[int, int]], universe: list[str]
) -> list[list[str]]:
    """The universe's tests executing each site's line (or its statement's first line)."""
    rank = {nodeid: i for i, nodeid in enumerate(universe)}
    by_line = cov.groupby(["path", "line"], sort=False)["nodeid"].agg(list).to_dict()
    result = []
    for path, line in zip(sites["path"], sites["line"], strict=True):
        lines = {int(line), first.get(path, {}).get(int(line), int(line))}
        tests = {n for ln in lines for n in by_line.get((path, ln), []) if n in rank}
        result.append(sorted(tests, key=rank.__getitem__))
    return result


def _read_results(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _run_workers(
    work: Path,
    phase: str,
    sandboxes: list[Path],
    job_lists: list[list[dict[str, Any]]],
    total: int,
    progress: bool,
    timeout: float,
) -> list[dict[str, Any]]:
    """Run one pytest runner per sandbox on its jobs; return every result line."""
    from tqdm.auto import tqdm

    procs, results = [], []
    for k, (sandbox, jobs) in enumerate(zip(sandboxes, job_lists, strict=True)):
        spec, res = work / f"{phase}-jobs-{k}.json", work / f"{phase}-results-{k}.jsonl"
        spec.write_text(json.dumps({"root": str(sandbox), "jobs": jobs}), encoding="utf-8")
        res.unlink(missing_ok=True)
        results.append(res)
        if not jobs:
            continue
        cmd = pytest_command(
            f"--testsel-jobs={spec}", f"--testsel-results={res}", f"--basetemp={work / f'bt{k}'}"
        )
        env = sandbox_env(sandbox, work / f"pycache{k}")
        log = open(work / f"{phase}-worker-{k}.log", "w", encoding="utf-8")  # noqa: SIM115
        procs.append((subprocess.Popen(cmd, cwd=sandbox, env=env, stdout=log, stderr=log), log))
    deadline = time.monotonic() + timeout
    with tqdm(total=total, desc=phase, disable=not progress, unit="job") as bar:
        while any(p.poll() is None for p, _ in procs):
            crashed = [log.name for p, log in procs if p.poll() not in (None, 0, 1, 5)]
            if crashed or time.monotonic() > deadline:
                for p, _ in procs:
                    p.kill()
                    p.wait()
                why = f"a worker failed; see {crashed[0]}" if crashed else "timed out"
                raise OSError(f"the {phase} phase stopped: {why} (limit {timeout:.0f} s)")
            time.sleep(1.0)
            done = sum(len({r["mutant_id"] for r in _read_results(res)}) for res in results)
            bar.update(max(0, min(done, total) - bar.n))
        bar.update(total - bar.n)
    for p, log in procs:
        log.close()
        if p.returncode not in (0, 1, 5):
            raise OSError(f"a {phase} worker exited with {p.returncode}; see {log.name}")
    return [line for res in results for line in _read_results(res)]


def _balance(costs: list[float], workers: int) -> list[list[int]]:
    """Longest-processing-time-first assignment of jobs to workers (deterministic)."""
    loads = [0.0] * workers
    parts: list[list[int]] = [[] for _ in range(workers)]
    for i in sorted(range(len(costs)), key=lambda j: (-costs[j], j)):
        k = int(np.argmin(loads))
        parts[k].append(i)
        loads[k] += costs[i]
    return [sorted(p) for p in parts]


def _limit(duration: float) -> float:
    return round(max(5.0, 10.0 * duration), 3)


def collect(
    out: str | os.PathLike[str],
    *,
    repo: str | os.PathLike[str] = ".",
    n_mutants: int = 1700,
    seed: int = 0,
    workers: int = 2,
    check_sample: int = 4,
    cost_cap: float = 2.0,
    progress: bool = True,
    timeout: float = 3600.0,
) -> CollectResult:
    """Collect the test-selection dataset of the repository at ``repo`` into ``out``.

    Parameters
    ----------
    out : path
        Output folder (created; its dataset files are replaced).
    repo : path
        Root of the repository (a git work tree with ``ardlib/`` and ``tests/``).
    n_mutants : int
        Mutation sites sampled uniformly (without replacement) among the function-body
        sites of ``ardlib/``; sites no test executes are kept with status ``not_covered``.
    seed : int
        Seed of the site sample and of the check sample.
    workers : int
        Worker processes (and pytest-xdist workers of the coverage run).
    check_sample : int
        Killed mutants re-run against every other test of the universe (0: no check).
    cost_cap : float
        Seconds: a drawn site whose covering tests take longer (clean) is kept with
        probability ``cost_cap / cost`` and weighted by the inverse (column ``weight``).
    progress : bool
        Show tqdm progress bars.
    timeout : float
        Seconds any one phase may take before the collection fails.

    Returns
    -------
    CollectResult
        The output folder and the content of its ``meta.json``.

    Raises
    ------
    ValueError
        If an argument is out of range, or ``repo`` has no ``ardlib/`` and ``tests/``.
    OSError
        If a phase's test run fails or times out.
    """
    _check_args(n_mutants, seed, workers, check_sample)
    if isinstance(cost_cap, bool) or not isinstance(cost_cap, int | float) or not cost_cap > 0:
        raise ValueError(
            f"The 'cost_cap' parameter of collect must be a float > 0. Got {cost_cap!r}."
        )
    root = Path(repo).resolve()
    if not (root / "ardlib").is_dir() or not (root / "tests").is_dir():
        raise ValueError(f"The 'repo' parameter of collect must hold ardlib/ and tests/: {root}")
    out_dir = Path(out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    clock = _Clock()
    work = Path(tempfile.mkdtemp(prefix="ardlib-testsel-")).resolve()
    try:
        return _collect(root, out_dir, work, clock, n_mutants, seed, workers, check_sample,
                        cost_cap, progress, timeout)  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _collect(
    root: Path,
    out: Path,
    work: Path,
    clock: _Clock,
    n_mutants: int,
    seed: int,
    workers: int,
    check_sample: int,
    cost_cap: float,
    progress: bool,
    timeout: float,
) -> CollectResult:
    wall0 = time.perf_counter()
    exclude: tuple[str, ...] = ()
    if out.is_relative_to(root):
        exclude = (out.relative_to(root).as_posix(),)
    with clock.phase("sandbox"):
        sandboxes = [
            make_sandbox(root, work / f"w{k}" / root.name, exclude=exclude) for k in range(workers)
        ]
    base = sandboxes[0]
    with clock.phase("coverage"):
        env = sandbox_env(base, work / "pycache-cov")
        data = run_coverage(base, work / "coverage", env, workers=workers, timeout=timeout)
        cov = read_coverage(data, base)

    with clock.phase("clean"):
        jobs = [[{"mutant_id": -1, "part": k, "parts": workers, "limit": 120.0}]
                for k in range(workers)]  # fmt: skip
        clean = _run_workers(work, "clean", sandboxes, jobs, workers, progress, timeout)
        rows = [r for r in clean if "nodeid" in r]
        if not rows:
            raise OSError(f"the clean run ran no test; see {work}/clean-worker-0.log")
        tests = pd.DataFrame(rows)[["nodeid", "duration_s", "outcome"]]
        tests.insert(1, "file", tests["nodeid"].str.split("::").str[0])
        tests["outcome"] = tests["outcome"].replace({"error": "failed", "timeout": "failed"})
    universe = tests["nodeid"].tolist()
    duration = dict(zip(tests["nodeid"], tests["duration_s"], strict=True))
    clean_ok = set(tests.loc[tests["outcome"] == "passed", "nodeid"])

    with clock.phase("sites"):
        paths = sorted(
            p.relative_to(base).as_posix()
            for p in (base / "ardlib").rglob("*.py")
            if "testsel" not in p.relative_to(base / "ardlib").parts[:1]
        )
        all_sites, n_module = enumerate_sites(base, paths)
        drawn = sample_sites(all_sites, n_mutants, derive_seed(seed, "testsel-sites"))
        first = _first_lines(base, set(drawn["path"]))
        drawn_covering = _covering(drawn, cov, first, universe)
        # Cost-capped Poisson thinning: a drawn site whose covering tests take longer than
        # cost_cap seconds (clean) is kept with probability cost_cap / cost, weight 1 / p.
        cost = np.array([sum(duration[n] for n in c) for c in drawn_covering], dtype=float)
        keep_p = np.minimum(1.0, cost_cap / np.maximum(cost, 1e-12))
        u = np.random.default_rng(derive_seed(seed, "testsel-thin")).random(len(drawn))
        kept = np.flatnonzero(u < keep_p)
        sites = drawn.iloc[kept].reset_index(drop=True)
        sites["weight"] = 1.0 / keep_p[kept]
        covering = [drawn_covering[i] for i in kept]
        blames = {p: blame_lines(base, p) for p in sorted(set(sites["path"]))}

    with clock.phase("mutants"):
        job_list = []
        for mid in range(len(sites)):
            if covering[mid]:
                job_list.append(_job(mid, sites.iloc[mid], covering[mid], duration))
        costs = [sum(duration[n] for n in j["nodeids"]) + 0.5 for j in job_list]
        parts = [[job_list[i] for i in p] for p in _balance(costs, workers)]
        lines = _run_workers(work, "mutants", sandboxes, parts, len(job_list), progress, timeout)
    mutants, outcomes = _tables(sites, covering, lines, blames, clean_ok)

    with clock.phase("check"):
        check = _check(work, sandboxes, mutants, covering, universe, duration, clean_ok,
                       seed, check_sample, progress, timeout, sites)  # fmt: skip

    with clock.phase("history"):
        history = history_table(changed_lines(base), cov)

    tests.to_csv(out / "tests.csv", index=False)
    cov.to_parquet(out / "coverage.parquet", index=False)
    mutants.to_csv(out / "mutants.csv", index=False)
    outcomes.to_parquet(out / "outcomes.parquet", index=False)
    history.to_csv(out / "history.csv", index=False)
    write_json(out / "check.json", check)
    (out / "SCHEMA_CHANGES.md").write_text(SCHEMA_NOTE, encoding="utf-8")
    status = mutants["status"]
    ran = status == "run"
    state = revision_state(root, short=False)
    meta = {
        "created": utc_now(),
        "git_revision": git("rev-parse", "HEAD", cwd=root),
        "git_dirty_files": list(state.dirty_files),
        "seed": seed,
        "universe": UNIVERSE,
        "universe_pytest_args": list(UNIVERSE_ARGS),
        "n_tests": len(tests),
        "clean_outcomes": tests["outcome"].value_counts().to_dict(),
        "counts": {
            "sites_enumerated": len(all_sites) + n_module,
            "sites_in_functions": len(all_sites),
            "excluded_module_level": n_module,
            "drawn": len(drawn),
            "thinned_out": len(drawn) - len(sites),
            "sampled": len(sites),
            "not_covered": int((status == "not_covered").sum()),
            "run": int(ran.sum()),
            "killed": int((ran & mutants["killed"]).sum()),
            "survived": int((ran & ~mutants["killed"]).sum()),
            "timeouts": int((outcomes["outcome"] == "timeout").sum()),
            "mutants_with_a_timeout": int(
                outcomes.loc[outcomes["outcome"] == "timeout", "mutant_id"].nunique()
            ),
            "status": status.value_counts().to_dict(),
        },
        "cost_cap_s": cost_cap,
        "sampling": "uniform draw of n_mutants function-body sites (seeded), then each kept "
        "with probability min(1, cost_cap_s / clean seconds of its covering tests); "
        "mutants.csv's weight = 1 / that probability (unbiased population estimates weight "
        "by it; unweighted data over-represent cheaply tested sites)",
        "time_limit": "per test max(5 s, 10 x clean duration); per mutant their sum + 30 s",
        "workers": workers,
        "cpu_count": os.cpu_count(),
        "phases": clock.phases,
        "wall_s": round(time.perf_counter() - wall0, 2),
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
    }
    write_json(out / "meta.json", meta)
    return CollectResult(out=out, meta=meta)


def _job(mid: int, row: pd.Series, nodeids: list[str], duration: dict[str, float]) -> dict:
    outer = str(row["function"]).split(".<locals>")[0]
    return {
        "mutant_id": mid,
        "path": row["path"],
        "module": row["module"],
        "qualname": outer,
        "operator": row["operator"],
        "occurrence": int(row["occurrence"]),
        "nodeids": nodeids,
        "limits": [_limit(duration[n]) for n in nodeids],
    }


def _tables(
    sites: pd.DataFrame,
    covering: list[list[str]],
    lines: list[dict[str, Any]],
    blames: dict[str, dict[int, tuple[str, str]]],
    clean_ok: set[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """mutants.csv and outcomes.parquet from the runner's result lines."""
    status: dict[int, str] = {}
    changed: dict[int, int] = {}
    got: dict[int, dict[str, tuple[str, float]]] = {}
    for r in lines:
        mid = int(r["mutant_id"])
        if "nodeid" in r:
            got.setdefault(mid, {})[r["nodeid"]] = (r["outcome"], float(r["duration_s"]))
        elif "status" in r and (status.get(mid) in (None, "run")):
            status[mid] = r["status"]
        if "lines_changed" in r:
            changed[mid] = int(r["lines_changed"])
    rows, out_rows = [], []
    for m in range(len(sites)):
        site = sites.iloc[m]
        tests = covering[m]
        st = status.get(m, "run") if tests else "not_covered"
        ran = st in ("run", "timeout_all", "child_exit")
        # A test without a result line: the child was killed (timeout) or died (error).
        fill = "timeout" if st == "timeout_all" else "error"
        results = got.get(m, {})
        killed = False
        for n in tests if ran else []:
            outcome, took = results.get(n, (fill, 0.0))
            out_rows.append((m, n, outcome, took))
            killed = killed or (outcome in FAILING and n in clean_ok)
        if st == "child_exit" and results:
            st = "run"
        sha, when = blames.get(str(site["path"]), {}).get(int(site["line"]), ("", ""))
        rows.append({
            "mutant_id": m, "path": site["path"], "module": site["module"],
            "function": site["function"], "line": int(site["line"]),
            "operator": site["operator"], "occurrence": int(site["occurrence"]),
            "kind": operator_kind(str(site["operator"])),
            "lines_changed": changed.get(m, -1),
            "line_commit": sha, "line_time": when, "n_covering": len(tests),
            "status": st, "killed": bool(killed), "weight": float(site["weight"]),
        })  # fmt: skip
    mutants = pd.DataFrame(rows)
    outcomes = pd.DataFrame(out_rows, columns=["mutant_id", "nodeid", "outcome", "duration_s"])
    return mutants, outcomes


def _check(
    work: Path,
    sandboxes: list[Path],
    mutants: pd.DataFrame,
    covering: list[list[str]],
    universe: list[str],
    duration: dict[str, float],
    clean_ok: set[str],
    seed: int,
    n: int,
    progress: bool,
    timeout: float,
    sites: pd.DataFrame,
) -> dict[str, Any]:
    """Run every non-covering test on a seeded sample of killed mutants."""
    killed = mutants.loc[(mutants["status"] == "run") & mutants["killed"], "mutant_id"]
    rng = np.random.default_rng(derive_seed(seed, "testsel-check"))
    k = min(n, len(killed))
    chosen = sorted(int(x) for x in rng.choice(killed.to_numpy(), size=k, replace=False))
    workers = len(sandboxes)
    parts: list[list[dict[str, Any]]] = [[] for _ in range(workers)]
    planned: dict[int, int] = {}
    for mid in chosen:
        others = [t for t in universe if t not in set(covering[mid])]
        planned[mid] = len(others)
        for w in range(workers):  # each worker runs a contiguous share of the tests
            share = others[w * len(others) // workers : (w + 1) * len(others) // workers]
            job = _job(mid, sites.iloc[mid], share, duration)
            parts[w].append(job)
    lines = _run_workers(work, "check", sandboxes, parts, len(chosen), progress, timeout)
    ran: dict[int, int] = dict.fromkeys(chosen, 0)
    failing = []
    for r in lines:
        if "nodeid" not in r:
            continue
        ran[int(r["mutant_id"])] += 1
        if r["outcome"] in FAILING and r["nodeid"] in clean_ok:
            failing.append({"mutant_id": int(r["mutant_id"]), "nodeid": r["nodeid"],
                            "outcome": r["outcome"]})  # fmt: skip
    return {
        "assumption": "a test that does not execute the mutated line (nor the first line of "
        "its statement) cannot fail because of the mutant",
        "mutant_ids": chosen,
        "tests_planned": {str(m): planned[m] for m in chosen},
        "tests_run": {str(m): ran[m] for m in chosen},
        "failing_non_covering": failing,
        "holds": not failing,
    }
