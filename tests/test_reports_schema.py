"""Report parameters are checked against the schema beside each notebook before a kernel
starts: wrong type, out of range, missing input, unknown name, each in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ardlib.cli import main
from ardlib.reports import ParameterError, check_parameters, load_schema
from ardlib.reports._run import notebook_parameters

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("name", NAMES)
def test_every_notebook_has_a_schema_of_exactly_its_parameters(name: str) -> None:
    schema = load_schema(NOTEBOOKS / f"{name}.ipynb")
    assert schema is not None, f"notebooks/{name}.schema.yaml is missing"
    assert sorted(schema) == sorted(notebook_parameters(NOTEBOOKS / f"{name}.ipynb"))


def _make_inputs(root: Path, schema: dict[str, Any], values: dict[str, Any]) -> None:
    """Create every input the values name, as the pipeline's earlier stages would."""
    for name, entry in schema.items():
        value, kind = values.get(name), entry["type"]
        items = entry.get("items", {}) if kind == "list" else entry
        for v in value if kind == "list" else [value]:
            if items.get("type") == "file":
                (root / v).parent.mkdir(parents=True, exist_ok=True)
                (root / v).touch()
            elif items.get("type") == "dir":
                (root / v).mkdir(parents=True, exist_ok=True)
            elif items.get("type") == "study":
                folder = root / values[items["dir"]]
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{v}.parquet").touch()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "source",
    ["params.yaml", "tests/notebook_smoke_params.yaml", "tests/pipeline_smoke_params.yaml"],
)
def test_the_pipeline_and_smoke_values_fit_their_schema(
    name: str, source: str, tmp_path: Path
) -> None:
    section = yaml.safe_load((NOTEBOOKS.parent / source).read_text()).get(name) or {}
    notebook = NOTEBOOKS / f"{name}.ipynb"
    params = {k: v for k, v in section.items() if k in notebook_parameters(notebook)}
    schema = load_schema(notebook)
    assert schema is not None
    _make_inputs(tmp_path, schema, {**_literal_defaults(notebook), **params})
    values = check_parameters(notebook, params, cwd=tmp_path)
    assert {k: values[k] for k in params} == params


def _literal_defaults(notebook: Path) -> dict[str, Any]:
    import ast

    return {k: ast.literal_eval(v) for k, v in notebook_parameters(notebook).items()}


def run(capsys: pytest.CaptureFixture[str], out: Path, *args: str) -> tuple[int, str]:
    code = main(["report", *args, "--notebooks", str(NOTEBOOKS), "--out", str(out)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["validation", "-p", "sentinel_budget", "abc"],
            "Parameter 'sentinel_budget' of report 'validation' must be an integer >= 2; "
            "got 'abc' (str).",
        ),
        (
            ["validation", "-p", "sentinel_alpha", "1.5"],
            "'sentinel_alpha' of report 'validation' must be a number in (0, 1); got 1.5",
        ),
        (  # studies_dir: a folder every checkout has (a fresh clone has no data/studies)
            ["validation", "-p", "studies_dir", "notebooks", "-p", "branin_study", "nosuch"],
            "names study 'nosuch', but notebooks/nosuch.parquet does not exist",
        ),
        (
            ["validation", "-p", "studies_dir", "nosuch_dir"],
            "'studies_dir' of report 'validation' names 'nosuch_dir', which is not an existing "
            "dir; make it with `ardlib study run` or `dvc repro studies` first.",
        ),
        (
            ["benchmark", "-p", "detector_path", "data/nosuch.json"],
            "'detector_path' of report 'benchmark' names 'data/nosuch.json', which is not an "
            "existing file; make it with `ardlib bench detector` or `dvc repro bench-detector`",
        ),
        (
            ["benchmark", "-p", "regress_kinds", "[reference, studies]"],
            "must be a list of 1 or more items, each a string (one of reference, seeded, "
            "study); got the item 'studies' (str).",
        ),
        (["deployment", "-p", "chaos_rates", "[]"], "got [] (list)."),
        (["deployment", "-p", "service_workers", "true"], "got True (bool)."),
        (["validation", "-p", "sentinel_budgte", "3"], "Unknown parameter 'sentinel_budgte'"),
    ],
)
def test_bad_parameters_fail_in_one_line_before_any_cell_runs(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(capsys, tmp_path, *args)
    assert code == 2
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "executed").exists()  # no kernel was started


def test_the_study_message_says_how_to_make_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(
        capsys,
        tmp_path,
        "validation",
        "-p",
        "studies_dir",
        str(tmp_path),
        "-p",
        "branin_study",
        "nosuch",
    )
    assert code == 2
    assert (
        "(studies there: none); run `ardlib study run --only nosuch` or `dvc repro studies`" in err
    )


def _notebook(folder: Path, source: str, schema: dict[str, Any] | None) -> Path:
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["parameters"]})
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nb = nbformat.v4.new_notebook(cells=[cell], metadata=kernel)
    path = folder / "demo.ipynb"
    nbformat.write(nb, path)
    if schema is not None:
        path.with_suffix(".schema.yaml").write_text(yaml.safe_dump(schema))
    return path


def test_defaults_are_checked_and_null_is_allowed_only_where_declared(tmp_path: Path) -> None:
    nb = _notebook(
        tmp_path,
        "n = 0\npattern = None\n",
        {"n": {"type": "int", "min": 1}, "pattern": {"type": "str", "nullable": True}},
    )
    with pytest.raises(
        ParameterError, match=r"'n' of report 'demo' must be an integer >= 1; got 0"
    ):
        check_parameters(nb, {})
    assert check_parameters(nb, {"n": 3}) == {"n": 3, "pattern": None}
    with pytest.raises(ParameterError, match=r"'pattern' .* must be a string, or null; got 3"):
        check_parameters(nb, {"n": 3, "pattern": 3})


def test_types_are_checked_before_inputs(tmp_path: Path) -> None:
    schema = {"src": {"type": "file"}, "k": {"type": "float", "max": 1}}
    nb = _notebook(tmp_path, "src = 'nosuch.csv'\nk = 2\n", schema)
    with pytest.raises(ParameterError, match=r"'k' .* must be a number <= 1; got 2"):
        check_parameters(nb, {}, cwd=tmp_path)
    with pytest.raises(
        ParameterError, match=r"'src' .* names 'nosuch.csv', which is not an existing file"
    ):
        check_parameters(nb, {"k": 0.5}, cwd=tmp_path)
    (tmp_path / "nosuch.csv").touch()
    assert check_parameters(nb, {"k": 0.5}, cwd=tmp_path)["k"] == 0.5


def test_without_a_schema_nothing_is_checked(tmp_path: Path) -> None:
    nb = _notebook(tmp_path, "n = 0\n", None)
    assert load_schema(nb) is None and check_parameters(nb, {"n": "x"}) == {"n": "x"}


@pytest.mark.parametrize(
    ("schema", "match"),
    [
        ({"n": {"type": "integer"}}, r"entry 'n': must be a mapping with 'type' one of"),
        ({"n": {"type": "int", "minimum": 1}}, r"entry 'n': .* keys from"),
        ({"m": {"type": "int"}}, r"lacks the parameter\(s\) \['n'\] of demo.ipynb"),
    ],
)
def test_a_broken_schema_is_named(tmp_path: Path, schema: dict[str, Any], match: str) -> None:
    nb = _notebook(tmp_path, "n = 1\n", schema)
    with pytest.raises(ValueError, match=match):
        check_parameters(nb, {})
