"""The collection half of ardlib.testsel: mutation sites, code patching, coverage, history.

Fast tests use small temporary modules and git repositories; the slow one collects a whole
dataset on a tiny temporary project (a package, three tests, one of them running the
package in a subprocess) and checks a killed mutant, a survived one and that the
subprocess sees the mutant.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import ardlib.testsel as ts
from ardlib.testsel._plugin import lines_changed, patch_function

cosmic_ray = pytest.importorskip("cosmic_ray")
coverage = pytest.importorskip("coverage")

MODULE = '''"""A module with sites at module level and in functions."""

LIMIT = 3 + 4


def deco(n):
    return lambda f: f


class Box:
    SIZE = 5

    @deco(6)
    def grow(self, x, step=8):
        return x + step

    def nested(self, x):
        def inner(y):
            return y * 2

        return inner(x)


def total(a, b):
    return a + b
'''


def _git(repo: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    proc = subprocess.run([*cmd, *args], cwd=repo, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(MODULE)
    return tmp_path


def test_function_spans_follow_python_qualnames() -> None:
    spans = ts.function_spans(MODULE)
    names = [q for _, _, q in spans]
    assert names == ["deco", "Box.grow", "Box.nested", "Box.nested.<locals>.inner", "total"]
    first, last, _ = spans[names.index("Box.grow")]
    assert MODULE.splitlines()[first - 1].strip() == "return x + step"
    assert first == last


def test_sites_inside_function_bodies_only_and_module_level_ones_are_counted(
    project: Path,
) -> None:
    sites, n_module = ts.enumerate_sites(project, ["pkg/mod.py"])
    lines = MODULE.splitlines()
    bodies = {first: q for first, _, q in ts.function_spans(MODULE)}
    assert set(sites["line"]) <= set(bodies)
    assert set(sites["function"]) == {"Box.grow", "Box.nested.<locals>.inner", "total"}
    # 3 + 4, SIZE = 5, @deco(6), step=8 are module- or class-level: left out, counted.
    numbers = sites[sites["operator"] == "core/NumberReplacer"]
    assert set(numbers["line"]) == {19}  # the 2 in ``y * 2``
    assert n_module >= 4 + 10  # four numbers, ten replacements of the ``+`` in 3 + 4
    assert (sites["module"] == "pkg.mod").all()
    assert lines[int(sites["line"].min()) - 1].startswith(" ")


def test_a_site_applies_with_cosmic_rays_numbering_and_patches_the_live_function(
    project: Path,
) -> None:
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    path = project / "pkg" / "mod.py"
    mod = _load(path, "testsel_patch_mod")
    sites, _ = ts.enumerate_sites(project, ["pkg/mod.py"])
    row = sites[(sites["function"] == "total") & sites["operator"].str.endswith("Add_Sub")]
    assert len(row) == 1
    op = get_operator(row["operator"].iloc[0])()
    mutated = mutate_code(MODULE, op, int(row["occurrence"].iloc[0]))
    assert "return a - b" in mutated and lines_changed(MODULE, mutated) == 1
    before = mod.total
    status = patch_function(str(path), "testsel_patch_mod", mutated, "total", [mod.total])
    assert status == "run" and mod.total is before and mod.total(5, 3) == 2


def test_a_nested_function_is_patched_through_its_outermost_parent(project: Path) -> None:
    path = project / "pkg" / "mod.py"
    mod = _load(path, "testsel_nested_mod")
    mutated = MODULE.replace("return y * 2", "return y * 3")
    live = [mod.Box.nested]
    assert patch_function(str(path), "testsel_nested_mod", mutated, "Box.nested", live) == "run"
    assert mod.Box().nested(2) == 6


def test_what_cannot_be_patched_is_reported(project: Path) -> None:
    path = str(project / "pkg" / "mod.py")
    mod = _load(Path(path), "testsel_unpatch_mod")
    # A module not imported yet reads the mutated file from disk: nothing to patch.
    assert patch_function(path, "testsel_not_imported", MODULE, "total", []) == "run"
    assert patch_function(path, "testsel_unpatch_mod", MODULE, "total", []) == "unpatchable"
    broken = MODULE.replace("return a + b", "return a +")
    assert patch_function(path, "testsel_unpatch_mod", broken, "total", [mod.total]) == (
        "unpatchable"
    )
    # A different closure (one more free variable) cannot replace the code: left unchanged.
    closing = MODULE.replace("return inner(x)", "return inner(x) + (lambda: inner)()")
    closing = closing.replace("def inner(y):", "def inner(y):\n            self")
    old = mod.Box.nested.__code__
    assert patch_function(path, "testsel_unpatch_mod", closing, "Box.nested.<locals>.inner",
                          [mod.Box.nested]) == "unpatchable"  # fmt: skip
    assert mod.Box.nested.__code__ is old


def test_sample_is_seeded_uniform_and_validated(project: Path) -> None:
    sites, _ = ts.enumerate_sites(project, ["pkg/mod.py"])
    a = ts.sample_sites(sites, 5, 7)
    assert a.equals(ts.sample_sites(sites, 5, 7))
    assert len(a) == 5 and not a.equals(ts.sample_sites(sites, 5, 8))
    assert len(ts.sample_sites(sites, 10_000, 0)) == len(sites)
    with pytest.raises(ValueError, match="'n' parameter"):
        ts.sample_sites(sites, 0, 0)


def test_operator_families() -> None:
    assert ts.operator_kind("core/ReplaceBinaryOperator_Add_Sub") == "binary_operator"
    assert ts.operator_kind("core/ReplaceComparisonOperator_Lt_Gt") == "comparison"
    assert ts.operator_kind("core/NumberReplacer") == "number"
    assert ts.operator_kind("core/AddNot") == "boolean"
    assert ts.operator_kind("core/RemoveDecorator") == "other"


def test_history_ranges_blame_and_covering_counts_on_a_small_repo(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (tmp_path / "ardlib").mkdir()
    src = tmp_path / "ardlib" / "m.py"
    src.write_text("a = 1\nb = 2\n")
    (tmp_path / "README").write_text("x\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "one")
    src.write_text("a = 1\nb = 3\nc = 4\nd = 5\n")
    (tmp_path / "README").write_text("y\n")
    _git(tmp_path, "commit", "-q", "-am", "two")
    src.write_text("a = 1\nc = 4\nd = 5\n")  # a pure deletion: no new lines
    _git(tmp_path, "commit", "-q", "-am", "three")
    head = _git(tmp_path, "rev-parse", "HEAD~1")

    changes = ts.changed_lines(tmp_path)
    assert changes[["path", "line_start", "line_end"]].values.tolist() == [
        ["ardlib/m.py", 1, 2],
        ["ardlib/m.py", 2, 4],
    ]
    assert changes["commit"].iloc[1] == head and changes["time"].str.endswith("Z").all()
    cov = pd.DataFrame(
        {"nodeid": ["t1", "t2", "t2"], "path": ["ardlib/m.py"] * 3, "line": [1, 3, 9]}
    )
    table = ts.history_table(changes, cov)
    assert table["n_covering_tests"].tolist() == [1, 1]
    blame = ts.blame_lines(tmp_path, "ardlib/m.py")
    assert blame[2][0] == head and blame[1][0] != head


def test_parse_log_ignores_headers_of_other_files_and_reads_single_line_hunks() -> None:
    sha = "a" * 40
    text = (
        f"commit {sha} 0\n\ndiff --git a/ardlib/x.py b/ardlib/x.py\nnew file mode 100644\n"
        "--- /dev/null\n+++ b/ardlib/x.py\n@@ -0,0 +1 @@\n+x = 1\n"
        "diff --git a/ardlib/y.py b/ardlib/y.py\n--- a/ardlib/y.py\n+++ /dev/null\n"
        "@@ -1,2 +0,0 @@\n-a\n-b\n"
    )
    frame = ts.parse_log(text)
    assert frame.values.tolist() == [[sha, "1970-01-01T00:00:00Z", "ardlib/x.py", 1, 1]]


def test_read_coverage_keeps_test_contexts_relative_to_the_root(tmp_path: Path) -> None:
    from ardlib.testsel._coverage import read_coverage

    data = coverage.CoverageData(basename=str(tmp_path / ".coverage"))
    target = str(tmp_path / "ardlib" / "m.py")
    for ctx, lines in (("", [1, 2]), ("tests/t.py::a", [2, 3]), ("tests/t.py::b", [3])):
        data.set_context(ctx)
        data.add_lines({target: lines})
    data.write()
    data.set_context("fixture:module:tests/t.py::shared")
    data.add_lines({target: [7]})
    data.write()
    uses = {"fixture:module:tests/t.py::shared": ["tests/t.py::b"]}
    frame = read_coverage(tmp_path / ".coverage", tmp_path, uses)
    assert frame.values.tolist() == [
        ["tests/t.py::a", "ardlib/m.py", 2],
        ["tests/t.py::a", "ardlib/m.py", 3],
        ["tests/t.py::b", "ardlib/m.py", 3],
        ["tests/t.py::b", "ardlib/m.py", 7],
    ]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"n_mutants": 0}, "n_mutants"), ({"seed": -1}, "seed"), ({"workers": 0}, "workers"),
     ({"check_sample": -1}, "check_sample"), ({"cost_cap": 0.0}, "cost_cap")],
)  # fmt: skip
def test_collect_names_the_bad_argument(tmp_path: Path, kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        ts.collect(tmp_path / "out", repo=tmp_path, **kwargs)


def test_collect_needs_a_repository_with_ardlib_and_tests(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'repo' parameter"):
        ts.collect(tmp_path / "out", repo=tmp_path)


CALC = """def add(a, b):
    return a + b


def weak(x):
    if x > 100:
        return 1
    return 0


def unused(x):
    return x * 2
"""

TESTS = """import subprocess
import sys

import pytest

from ardlib.calc import add, weak


def test_add():
    assert add(2, 3) == 5


def test_weak():
    assert weak(0) == 0


@pytest.fixture(scope="module")
def five():
    return add(2, 3)


def test_uses_a_shared_fixture(five):
    assert five == 5


def test_also_uses_it(five):
    assert five + 0 == 5


def test_add_in_a_subprocess():
    code = "from ardlib.calc import add; assert add(2, 3) == 5"
    subprocess.run([sys.executable, "-c", code], check=True)
"""


@pytest.mark.slow
def test_collect_end_to_end_on_a_tiny_project(tmp_path: Path) -> None:
    repo = tmp_path / "proj"
    pkg = repo / "ardlib"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "calc.py").write_text(CALC)
    here = Path(ts.__file__).parent
    shutil.copytree(here, pkg / "testsel", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "tests").mkdir()
    (repo / "tests" / "test_calc.py").write_text(TESTS)
    (repo / "pyproject.toml").write_text('[tool.pytest.ini_options]\nmarkers = ["slow: slow"]\n')
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "tiny")

    out = tmp_path / "out"
    result = ts.collect(out, repo=repo, n_mutants=10_000, seed=1, workers=2, check_sample=2,
                        cost_cap=1e6, progress=False)  # fmt: skip
    tests = pd.read_csv(out / "tests.csv")
    assert sorted(tests["outcome"]) == ["passed"] * 5
    mutants = pd.read_csv(out / "mutants.csv")
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    assert list(mutants.columns[:14]) == [
        "mutant_id", "path", "module", "function", "line", "operator", "occurrence", "kind",
        "lines_changed", "line_commit", "line_time", "n_covering", "status", "killed",
    ]  # fmt: skip
    assert set(mutants["path"]) == {"ardlib/calc.py"}  # the machinery is never mutated
    add_sub = mutants[(mutants["function"] == "add") & mutants["operator"].str.endswith("Add_Sub")]
    mid = int(add_sub["mutant_id"].iloc[0])
    assert bool(add_sub["killed"].iloc[0])
    got = outcomes[outcomes["mutant_id"] == mid].set_index("nodeid")["outcome"].to_dict()
    # the subprocess imports the mutated file from the worker's copy
    assert got["tests/test_calc.py::test_add_in_a_subprocess"] == "failed"
    assert got["tests/test_calc.py::test_add"] == "failed"
    assert "tests/test_calc.py::test_weak" not in got  # it does not execute add()
    # a module fixture runs add() once, in the first test's setup: both users cover it
    assert got["tests/test_calc.py::test_also_uses_it"] == "failed"
    gt_ge = mutants[mutants["operator"] == "core/ReplaceComparisonOperator_Gt_GtE"]
    assert (gt_ge["status"] == "run").all() and not gt_ge["killed"].any()  # survives
    unused = mutants[mutants["function"] == "unused"]
    assert (unused["status"] == "not_covered").all() and (unused["n_covering"] == 0).all()
    check = result.meta and pd.read_json(out / "check.json", typ="series")
    assert bool(check["holds"]) and len(check["mutant_ids"]) == 2
    assert result.meta["counts"]["run"] == int((mutants["status"] == "run").sum())
    history = pd.read_csv(out / "history.csv").set_index("path")
    assert history.loc["ardlib/calc.py", ["line_start", "line_end"]].tolist() == [1, 12]
