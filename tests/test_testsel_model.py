"""Test selection's model half (issue 11): features, splits without leakage, the
recall-calibrated model, the evaluation's bootstrap, and ``ardlib testsel run`` against a
temporary git repository.  Everything here is built by hand (tiny frames, a tiny package);
the measured numbers come from the report on the real mutants."""

from __future__ import annotations

import functools
import json
import os
import subprocess
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ardlib import cli
from ardlib.testsel import (
    FEATURES,
    UNREACHABLE,
    FailureHistory,
    SelectionData,
    SelectionModel,
    build_features,
    catch_threshold,
    coverage_index,
    evaluate_selection,
    heuristic_match,
    import_distances,
    import_graph,
    line_kinds,
    line_map,
    load_selector,
    module_grouped_split,
    plan_selection,
    save_selector,
    statement_lines,
    time_ordered_split,
    train_selector,
)

# skipped without scikit-learn, which the tests import only when they fit (~0.5-2 s to
# import; every xdist worker imports every test module at collection)
pytestmark = pytest.mark.skipif(find_spec("sklearn") is None, reason="could not import 'sklearn'")

FAST = {"max_iter": 10, "inner_splits": 2}  # a small learner: these tests check logic


# -- source: import graph, line kinds ---------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def test_import_distance_is_the_shortest_static_path(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "ardlib/__init__.py": "",
            "ardlib/pkg/__init__.py": "import lazy_loader\n",
            "ardlib/pkg/__init__.pyi": "from ._a import f\n",  # lazy_loader's stub: real edge
            "ardlib/pkg/_a.py": "from ._b import g\n",
            "ardlib/pkg/_b.py": "def g():\n    from ardlib import _c\n",  # import in a function
            "ardlib/_c.py": "",
            "ardlib/_lonely.py": "",
            "tests/conftest.py": "",
            "tests/helper.py": "import ardlib._lonely\n",
            "tests/test_pkg.py": "from ardlib.pkg import f\nfrom helper import x\n",
        },
    )
    d = import_distances(import_graph(tmp_path), "tests.test_pkg")
    assert d["ardlib.pkg"] == 1 and d["ardlib.pkg._a"] == 2 and d["ardlib.pkg._b"] == 3
    assert d["ardlib._c"] == 4
    assert d["tests.helper"] == 1 and d["ardlib._lonely"] == 2  # bare-name helper import
    assert d["tests.conftest"] == 1  # pytest loads it for every test module
    assert "ardlib" not in d or d["ardlib"] >= 1
    assert max(d.values()) < UNREACHABLE


SOURCE = '''"""Module docstring."""
SCALE = 2  # import time


def f(x,
      y=1):
    """Docstring."""
    # a comment
    z = (x +
         y)
    if z > 0:
        return z * SCALE
    return 0
'''


def test_line_kinds_and_statements() -> None:
    kinds = line_kinds(SOURCE, range(1, 14))
    assert kinds[2] == "import" and kinds[5] == "import" and kinds[6] == "import"
    assert kinds[7] == "import"  # the docstring: no test's coverage holds it
    assert kinds[4] == "none" and kinds[8] == "none"
    assert kinds[9] == kinds[10] == kinds[12] == kinds[13] == "body"
    assert statement_lines(SOURCE, 10) == [9, 10]  # a multi-line statement
    assert statement_lines(SOURCE, 11) == [11]  # a compound statement's header


def test_line_map_moves_lines_through_unchanged_blocks() -> None:
    old = "a\nb\nc\nd\n"
    new = "new\na\nb\nC\nd\n"
    assert line_map(old, new) == {1: 2, 2: 3, 4: 5}  # 'c' changed: no image


@pytest.mark.parametrize(
    ("test_file", "path", "expected"),
    [
        ("tests/test_gp.py", "ardlib/gp/_model.py", True),
        ("tests/test_gp_large.py", "ardlib/gp/_kernels.py", True),
        ("tests/test_client_models.py", "ardlib/gp/_model.py", False),  # model != models
        ("tests/test_stats_power.py", "ardlib/stats/_power.py", True),
        ("tests/test_planner_benchmark.py", "ardlib/bench/_suite.py", False),
        ("tests/test_io_revision.py", "ardlib/_io.py", True),
        ("tests/test_reports_revision.py", "ardlib/_io.py", False),  # whole tokens only
        ("tests/test_emulators.py", "ardlib/objectives/_emulator_fit.py", False),
        ("tests/conftest.py", "ardlib/gp/_model.py", False),
    ],
)
def test_heuristic_rule(test_file: str, path: str, expected: bool) -> None:
    assert heuristic_match(test_file, path) is expected


# -- features ---------------------------------------------------------------------------------

MOD_SRC = "def f(x):\n    a = x + 1\n    b = a * 2\n    return b\n"


T3 = ["x.py::t3"]


def _tiny_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    tests = pd.DataFrame(
        {
            "nodeid": ["tests/test_m.py::t1", "tests/test_m.py::t2", "tests/test_x.py::t3"],
            "file": ["tests/test_m.py", "tests/test_m.py", "tests/test_x.py"],
            "duration_s": [1.0, 2.0, 4.0],
        }
    )
    coverage = pd.DataFrame(
        {
            "nodeid": [f"tests/test_{n}" for n in ["m.py::t1"] * 3 + ["m.py::t2"] + T3 * 2],
            "path": ["ardlib/m.py"] * 6,
            "line": [2, 3, 4, 2, 2, 3],
        }
    )  # fmt: skip
    return tests, coverage


def test_features_on_hand_built_frames() -> None:
    tests, coverage = _tiny_frames()
    index = coverage_index(coverage, tests, {"ardlib/m.py": MOD_SRC}, root=None)
    changes = pd.DataFrame({"change_id": ["c", "c"], "path": ["ardlib/m.py"] * 2, "line": [3, 4]})
    attrs = pd.DataFrame(
        {"module": ["ardlib.m"], "kind": ["number"]}, index=pd.Index(["c"], name="change_id")
    )
    f = build_features(changes, attrs, index, FailureHistory.empty()).set_index("nodeid")
    assert list(f.index) == ["tests/test_m.py::t1", "tests/test_x.py::t3"]  # t2 covers neither
    assert f.loc["tests/test_m.py::t1", "n_lines_covered"] == 2
    assert f.loc["tests/test_x.py::t3", "frac_lines_covered"] == 0.5
    assert f.loc["tests/test_m.py::t1", "function_share"] == 1.0  # all 3 covered lines of f
    assert f.loc["tests/test_x.py::t3", "function_share"] == pytest.approx(2 / 3)
    assert (f["n_covering"] == 2).all() and (f["lines_changed"] == 2).all()
    assert f.loc["tests/test_m.py::t1", "name_match"] == 1.0  # test_m for ardlib/m.py
    assert f.loc["tests/test_x.py::t3", "name_match"] == 0.0
    assert (f["import_distance"] == UNREACHABLE).all()  # root=None: no graph
    assert f["past_failure_rate"].isna().all() and (f["past_runs"] == 0).all()
    assert f.loc["tests/test_x.py::t3", "duration_s"] == 4.0


def test_past_failure_rates_leave_out_the_changes_own_module() -> None:
    outcomes = pd.DataFrame(
        {
            "mutant_id": ["a1", "a2", "b1", "b2", "c1"],
            "nodeid": ["t"] * 5,
            "failed": [True, True, False, True, False],
        }
    )
    modules = pd.Series({"a1": "ardlib.p.a", "a2": "ardlib.p.a", "b1": "ardlib.p.b",
                         "b2": "ardlib.p.b", "c1": "ardlib.q.c"})  # fmt: skip
    hist = FailureHistory.from_outcomes(outcomes, modules)
    nodeids = pd.Series(["t", "t", "t"])
    rate, runs, pkg = hist.rates(nodeids, pd.Series(["ardlib.p.a", "ardlib.q.c", "ardlib.x.new"]))
    # For a change in module a: only b and c count (1 failure in 3 runs); package p without a:
    # b only (1 of 2).  A held-out module sees everything (3 of 5).
    assert rate.tolist() == pytest.approx([1 / 3, 3 / 4, 3 / 5])
    assert runs.tolist() == [3, 4, 5]
    assert pkg[0] == pytest.approx(1 / 2) and np.isnan(pkg[1]) and np.isnan(pkg[2])


# -- splits and the model ----------------------------------------------------------------------


@functools.cache  # built once (read-only in the tests)
def _synthetic(seed: int = 0, n_mod: int = 4, per_mod: int = 10) -> SelectionData:
    """Modules of ten 2-line functions; per module four tests covering random functions;
    tests named ``*_0`` fail on most mutants they execute, others rarely."""
    rng = np.random.default_rng(seed)
    tests, cov, muts, outs, sources = [], [], [], [], {}
    for m in range(n_mod):
        path = f"ardlib/p{m}/_mod{m}.py"
        sources[path] = "".join(
            f"def f{j}(x):\n    y = x + {j}\n    return y\n\n" for j in range(10)
        )
        for t in range(4):
            nid = f"tests/test_p{m}.py::test_{t}"
            tests.append((nid, f"tests/test_p{m}.py", float(rng.uniform(0.1, 1.0))))
            for j in np.flatnonzero(rng.random(10) < 0.6):
                cov += [(nid, path, 4 * j + 2), (nid, path, 4 * j + 3)]
    cov_df = pd.DataFrame(cov, columns=["nodeid", "path", "line"])
    for m in range(n_mod):
        path = f"ardlib/p{m}/_mod{m}.py"
        for k in range(per_mod):
            line = int(4 * rng.integers(10) + 2 + rng.integers(2))
            mid = f"m{m}_{k}"
            covering = cov_df.loc[(cov_df["path"] == path) & (cov_df["line"] == line), "nodeid"]
            killed = False
            for nid in covering:
                fail = bool(rng.random() < (0.9 if nid.endswith("_0") else 0.05))
                killed |= fail
                outs.append((mid, nid, "failed" if fail else "passed", fail))
            muts.append((mid, path, f"ardlib.p{m}._mod{m}", line, ["number", "comparison"][k % 2],
                         1, pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=10 * m + k),
                         len(covering), killed))  # fmt: skip
    mutants = pd.DataFrame(
        muts,
        columns=["mutant_id", "path", "module", "line", "kind", "lines_changed", "line_time",
                 "n_covering", "killed"],
    )  # fmt: skip
    return SelectionData(
        tests=pd.DataFrame(tests, columns=["nodeid", "file", "duration_s"]),
        coverage=cov_df,
        mutants=mutants,
        outcomes=pd.DataFrame(outs, columns=["mutant_id", "nodeid", "outcome", "failed"]),
        meta={"revision": "0" * 40},
        digest="synthetic",
        sources=sources,
    )


def test_grouped_split_never_shares_a_module() -> None:
    data = _synthetic()
    split = module_grouped_split(data.mutants, n_splits=3)
    modules = data.mutants.set_index("mutant_id")["module"]
    held = np.concatenate([te for _, te in split.folds])
    assert sorted(held) == sorted(data.mutants["mutant_id"])  # each change held out once
    for train, test in split.folds:
        assert not set(modules[train]) & set(modules[test])
    with pytest.raises(ValueError, match="'n_splits' parameter of module_grouped_split"):
        module_grouped_split(data.mutants, n_splits=7)


def test_time_split_trains_on_earlier_lines() -> None:
    data = _synthetic()
    split = time_ordered_split(data.mutants, train_share=0.5)
    times = data.mutants.set_index("mutant_id")["line_time"]
    ((train, test),) = split.folds
    assert times[train].max() < times[test].min()
    with pytest.raises(ValueError, match="'train_share' parameter"):
        time_ordered_split(data.mutants, train_share=1.0)


def test_catch_threshold_is_the_recall_quantile() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.1])
    assert catch_threshold(scores, 0.75) == 0.7  # 3 of 4 at or above
    assert catch_threshold(scores, 1.0) == 0.1
    assert catch_threshold(scores, 0.5) == 0.8
    assert catch_threshold(np.array([]), 0.99) == 0.0
    # Sampling weights: the cheap site stands for 9 like it, so half the weight needs it.
    assert catch_threshold(np.array([0.9, 0.1]), 0.5, np.array([1.0, 9.0])) == 0.1
    assert catch_threshold(np.array([0.9, 0.1]), 0.5, np.array([9.0, 1.0])) == 0.9


def _pairs(n_changes: int, informative: bool, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Ten candidate tests per change, one failing; ``name_match`` marks it when informative."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_changes):
        bad = int(rng.integers(10))
        for t in range(10):
            hint = float(t == bad) if informative else float(rng.random() < 0.5)
            rows.append(
                {"change_id": f"c{c}", "nodeid": f"t{t}", "fail": t == bad, "name_match": hint}
            )
    frame = pd.DataFrame(rows)
    for col in FEATURES:
        if col not in frame:
            frame[col] = rng.random(len(frame)) if col == "duration_s" else 0.0
    return frame, frame.pop("fail").to_numpy()


def test_perfect_information_selects_only_the_failing_test() -> None:
    train, y = _pairs(40, informative=True, seed=0)
    groups = train["change_id"].str[1:].astype(int) % 4
    model = SelectionModel(random_state=0, **FAST).fit(train, y, groups)
    test, y_test = _pairs(20, informative=True, seed=1)
    sel = model.select(test)
    assert (sel == y_test).all()  # recall 1 at a tenth of the tests


def test_uninformative_features_make_the_model_lose_recall() -> None:
    train, y = _pairs(40, informative=False, seed=0)
    groups = train["change_id"].str[1:].astype(int) % 4
    model = SelectionModel(target_recall=0.5, random_state=0, **FAST).fit(train, y, groups)
    test, y_test = _pairs(40, informative=False, seed=1)
    caught = pd.Series(model.select(test) & y_test).groupby(test["change_id"]).any()
    assert caught.mean() < 0.9  # coverage selection (every candidate) catches all of them


def test_model_refuses_bad_settings_and_early_use() -> None:
    train, y = _pairs(4, informative=True, seed=0)
    with pytest.raises(ValueError, match="'target_recall' parameter of SelectionModel"):
        SelectionModel(target_recall=0.0).fit(train, y, np.zeros(len(y)))
    with pytest.raises(ValueError, match="not fitted yet; call fit"):
        SelectionModel().predict_proba(train)


@pytest.mark.slow
def test_evaluation_is_deterministic_for_a_seed() -> None:
    data = _synthetic()
    kw = {"n_splits": 2, "n_resamples": 200, "root": None, "model_options": FAST,
          "splits": ("module_grouped",)}  # fmt: skip
    a = evaluate_selection(data, rng=3, **kw).to_metrics()  # type: ignore[arg-type]
    b = evaluate_selection(data, rng=3, **kw).to_metrics()  # type: ignore[arg-type]
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)
    m = a["module_grouped"]
    assert set(m) >= {"model", "coverage", "heuristic", "random", "split", "counts"}
    assert m["coverage"]["recall"] == 1.0  # a killing test executes the line, by construction
    for method in ("model", "coverage", "heuristic", "random"):
        r = m[method]
        assert 0 <= r["recall_ci"][0] <= r["recall"] <= r["recall_ci"][1] <= 1
        assert 0 <= r["seconds_share_ci"][0] <= r["seconds_share"] <= r["seconds_share_ci"][1]
    assert m["random"]["seconds_share"] == m["model"]["seconds_share"]  # equal budget
    assert m["coverage"]["seconds_share"] >= m["model"]["seconds_share"]


# -- ardlib testsel run against a temporary git repository -------------------------------------

OPS = "SCALE = 1\n\n\ndef add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
REPO_FILES = {
    "ardlib/__init__.py": "",
    "ardlib/calc/__init__.py": "from ._ops import add, mul\n",
    "ardlib/calc/_ops.py": OPS,
    "ardlib/_other.py": "def g():\n    return 1\n",
    "tests/test_calc.py": (
        "from ardlib.calc import add, mul\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\n"
        "def test_mul():\n    assert mul(2, 3) == 6\n"
    ),
    "tests/test_other.py": "from ardlib._other import g\n\n\ndef test_g():\n    assert g() == 1\n",
}


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}  # fmt: skip
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with a tiny ``ardlib`` and its selection data at HEAD."""
    root = tmp_path / "repo"
    _write(root, {**REPO_FILES, ".gitignore": "data/\n__pycache__/\n"})
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "init")
    data = root / "data" / "testsel"
    data.mkdir(parents=True)
    ids = [
        "tests/test_calc.py::test_add",
        "tests/test_calc.py::test_mul",
        "tests/test_other.py::test_g",
    ]
    tests = pd.DataFrame({"nodeid": ids, "file": [i.split("::")[0] for i in ids],
                          "duration_s": [1.0, 2.0, 3.0], "outcome": "passed"})  # fmt: skip
    tests.to_csv(data / "tests.csv", index=False)
    pd.DataFrame({"nodeid": ids, "path": ["ardlib/calc/_ops.py"] * 2 + ["ardlib/_other.py"],
                  "line": [5, 9, 2]}).to_parquet(data / "coverage.parquet")  # fmt: skip
    mutants = pd.DataFrame({"mutant_id": ["m1", "m2", "m3"], "path": ["ardlib/calc/_ops.py"] * 3,
                  "module": ["ardlib.calc._ops"] * 3, "function": ["add", "mul", "add"],
                  "line": [5, 9, 5], "kind": ["binary_operator", "binary_operator", "number"],
                  "line_time": ["2024-01-01T00:00:00Z"] * 3, "n_covering": [1, 1, 1],
                  "killed": [True, True, False]})  # fmt: skip
    mutants.to_csv(data / "mutants.csv", index=False)
    pd.DataFrame({"mutant_id": ["m1", "m2", "m3"], "nodeid": [*ids[:2], ids[0]],
                  "outcome": ["failed", "failed", "passed"],
                  "duration_s": [1.0, 2.0, 1.0]}).to_parquet(data / "outcomes.parquet")  # fmt: skip
    (data / "meta.json").write_text(json.dumps({"revision": _git(root, "rev-parse", "HEAD")}))
    return root


def _run_cli(root: Path, args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.chdir(root)
    return cli.main(["testsel", "run", "--dry-run", *args])


def test_changed_line_selects_its_covering_tests(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "ardlib/calc/_ops.py").write_text(OPS.replace("a + b", "a - b"))
    (repo / "ardlib/_other.py").write_text("def g():\n    # a comment\n    return 1\n")
    plan = plan_selection("HEAD", model=None, repo=repo)
    assert plan.fallback is None
    assert plan.targets == ["tests/test_calc.py::test_add"]
    assert plan.seconds == 1.0 and plan.total_seconds == 6.0
    assert "tests/test_calc.py::test_mul" in plan.skipped
    assert any("comments or blank" in n for n in plan.notes)
    assert _run_cli(repo, [], monkeypatch) == 0  # coverage by default: no model needed
    out = capsys.readouterr().out
    assert "selected 1 target(s), 1.0 s of 6.0 s" in out and "skipped 2 test(s)" in out
    assert "tests/test_calc.py::test_add" in out.splitlines()[-1]  # the pytest command


def test_new_test_file_and_import_time_change_always_run(repo: Path) -> None:
    (repo / "tests/test_new.py").write_text("def test_new():\n    assert True\n")
    (repo / "ardlib/calc/_ops.py").write_text(OPS.replace("SCALE = 1", "SCALE = 2"))
    plan = plan_selection("HEAD", model=None, repo=repo)
    assert plan.fallback is None
    assert set(plan.targets) == {"tests/test_new.py", "tests/test_calc.py"}
    assert "import time" in plan.reasons["tests/test_calc.py"]
    assert "tests/test_other.py::test_g" in plan.skipped


def test_stale_data_falls_back_to_the_full_suite_and_says_why(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "ardlib/calc/_ops.py").write_text(OPS.replace("a + b", "a - b"))
    meta = repo / "data/testsel/meta.json"
    meta.write_text(json.dumps({"revision": "f" * 40}))
    plan = plan_selection("HEAD", model=None, repo=repo)
    assert plan.fallback is not None and "not a commit of this repository" in plan.fallback
    assert _run_cli(repo, ["--method", "coverage"], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "full fast tier (-m not slow): the data's revision ffffffffffff" in out
    assert "would run: " in out and "::" not in out.splitlines()[-1]
    assert _run_cli(repo, ["--method", "model", "--fallback", "none"], monkeypatch) == 0
    assert "no usable model" in capsys.readouterr().out


def test_lines_changed_since_the_data_revision_fall_back(repo: Path) -> None:
    (repo / "ardlib/calc/_ops.py").write_text(
        OPS.replace("return a + b", "c = a\n    return c + b")
    )
    _git(repo, "commit", "-qam", "later")
    (repo / "ardlib/calc/_ops.py").write_text(
        OPS.replace("return a + b", "c = a\n    return c - b")
    )
    plan = plan_selection("HEAD", model=None, repo=repo)
    assert (
        plan.fallback is not None and "_ops.py:6 changed since the data's revision" in plan.fallback
    )


def test_data_that_do_not_match_their_revision_fall_back(repo: Path) -> None:
    """A commit landing during collection makes the recorded revision wrong: the mutants'
    functions then do not match the source at it."""
    mutants = repo / "data/testsel/mutants.csv"
    mutants.write_text(mutants.read_text().replace(",mul,", ",div,"))
    (repo / "ardlib/calc/_ops.py").write_text(OPS.replace("a * b", "a ** b"))
    plan = plan_selection("HEAD", model=None, repo=repo)
    assert plan.fallback is not None
    assert (
        "do not match their revision" in plan.fallback
        and "_ops.py:9 is in mul, not div" in plan.fallback
    )


def test_model_selection_and_digest_check(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ardlib.testsel import load_selection_data

    data = load_selection_data(repo / "data/testsel", repo=repo)
    # Two mutants, one per module group, are too few for the inner split: threshold 0.
    sel = train_selector(data, root=repo, model_options=FAST)
    path = save_selector(sel, repo / "data/model.joblib")
    assert load_selector(path).data_digest == data.digest
    (repo / "ardlib/calc/_ops.py").write_text(OPS.replace("a * b", "a ** b"))
    plan = plan_selection("HEAD", model=path, repo=repo)
    assert plan.fallback is None and plan.targets == ["tests/test_calc.py::test_mul"]
    (repo / "data/testsel/tests.csv").write_text(
        (repo / "data/testsel/tests.csv").read_text().replace("3.0", "3.5")
    )
    plan = plan_selection("HEAD", model=path, repo=repo)
    assert plan.fallback is not None and "trained on other data" in plan.fallback


def test_bad_base_is_bad_input(repo: Path) -> None:
    with pytest.raises(ValueError, match="'base' parameter names 'nosuch'"):
        plan_selection("nosuch", model=None, repo=repo)


@pytest.mark.slow  # runs pytest in the temporary repository (~3 s)
def test_make_test_changed_runs_a_small_failing_subset(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """As `make test-changed` does: one function broken, the selection runs and fails."""
    (repo / "ardlib/calc/_ops.py").write_text(OPS.replace("a * b", "a * b + 1"))
    monkeypatch.chdir(repo)  # pytest runs there, and imports the tiny ardlib from it
    status = cli.main(["testsel", "run", "--base", "HEAD", "--method", "coverage", "--",
                       "-q", "-p", "no:cacheprovider"])  # fmt: skip
    out = capfd.readouterr().out
    assert "selected 1 target(s), 2.0 s of 6.0 s" in out, out
    assert status == 1, out  # pytest's status: a test failed
    assert "1 failed" in out and "passed" not in out.split("short test summary")[-1], out


def test_threshold_is_calibrated_with_the_miss_safety_margin() -> None:
    train, y = _pairs(40, informative=False, seed=0)
    groups = train["change_id"].str[1:].astype(int) % 4
    plain = SelectionModel(target_recall=0.6, miss_safety=1.0, random_state=0, **FAST)
    safe = SelectionModel(target_recall=0.6, miss_safety=2.0, random_state=0, **FAST)
    plain.fit(train, y, groups)
    safe.fit(train, y, groups)
    assert plain.calibration_["target"] == pytest.approx(0.6)
    assert safe.calibration_["target"] == pytest.approx(0.8)  # misses at most 0.2, not 0.4
    assert safe.calibration_["recall"] >= 0.8 and plain.calibration_["recall"] >= 0.6
    assert safe.threshold_ < plain.threshold_  # a lower bar: more candidates selected
    with pytest.raises(ValueError, match="'miss_safety' parameter of SelectionModel"):
        SelectionModel(miss_safety=0.5).fit(train, y, groups)
