"""A researcher's own datasets: any Olympus-layout folder, a CSV plus a spec, the params
file's ``datasets`` section, rounding at the bounds, and emulators found by name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ardlib.cli import main
from ardlib.objectives import (
    BOUNDS_RTOL,
    csv_to_dataset,
    get_problem,
    import_datasets,
    import_from_params,
    list_datasets,
    list_problems,
    load_dataset,
)

SPEC = {
    "parameters": [{"name": "temp", "low": 20, "high": 80}, {"name": "time", "low": 1, "high": 9}],
    "measurement": "yield",
    "goal": "maximize",
    "reference": "our lab, notebook 7",
}


def _own_folder(root: Path, name: str = "reactor", first_temp: str = "20.0") -> Path:
    """An Olympus-layout dataset no ardlib code knows by name (no licence, no README)."""
    folder = root / name
    folder.mkdir(parents=True)
    cfg = {
        "parameters": [
            {"name": "temp", "type": "continuous", "low": 20.0, "high": 80.0},
            {"name": "time", "type": "continuous", "low": 1.0, "high": 9.0},
        ],
        "measurements": [{"name": "yield", "type": "continuous"}],
        "default_goal": "maximize",
    }
    (folder / "config.json").write_text(json.dumps(cfg))
    rng = np.random.default_rng(3)
    rows = [f"{first_temp},5.0,1.5"]
    for t, h in zip(rng.uniform(20, 80, 40), rng.uniform(1, 9, 40), strict=True):
        rows.append(f"{t:.3f},{h:.3f},{np.sin(t / 15) * h:.4f}")
    (folder / "data.csv").write_text("\n".join(rows) + "\n")
    return folder


def _csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_any_olympus_folder_imports_without_a_licence(tmp_path: Path) -> None:
    _own_folder(tmp_path / "src")
    manifest = import_datasets(tmp_path / "src", tmp_path / "raw")
    assert sorted(manifest["files"]) == ["reactor/config.json", "reactor/data.csv"]
    assert list_datasets(tmp_path / "raw") == ["reactor"]
    assert load_dataset("reactor", tmp_path / "raw").n == 41
    assert "Datasets: reactor" in (tmp_path / "raw" / "PROVENANCE.md").read_text()


def test_one_dataset_folder_imports_by_its_name(tmp_path: Path) -> None:
    folder = _own_folder(tmp_path / "src")
    import_datasets(folder, tmp_path / "raw")
    assert list_datasets(tmp_path / "raw") == ["reactor"]
    with pytest.raises(ValueError, match=r"'names'.*\['reactor'\]"):
        import_datasets(folder, tmp_path / "raw2", names=["other"])


def test_csv_and_spec_convert_with_cells_unchanged(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "m.csv", "yield,temp,note,time\n0.5,20.00,a,1\n1.25,79.5,b,9.0\n")
    data, config = csv_to_dataset(csv, SPEC)
    assert data == b"20.00,1,0.5\n79.5,9.0,1.25\n"  # spec order, the cells' own text
    cfg = json.loads(config)
    assert [p["name"] for p in cfg["parameters"]] == ["temp", "time"]
    assert cfg["default_goal"] == "maximize" and cfg["reference"] == "our lab, notebook 7"
    spec = tmp_path / "m.yaml"
    spec.write_text(
        "parameters:\n  - {name: temp, low: 20, high: 80}\n  - {name: time, low: 1, high: 9}\n"
        "measurement: yield\ngoal: maximize\nreference: our lab, notebook 7\n"
    )
    import_datasets(dst=tmp_path / "raw", csv={"mine": (csv, spec)})
    ds = load_dataset("mine", tmp_path / "raw")
    assert ds.X.tolist() == [[20.0, 1.0], [79.5, 9.0]] and ds.y.tolist() == [0.5, 1.25]
    assert ds.reference == "our lab, notebook 7"


@pytest.mark.parametrize(
    ("text", "spec", "message"),
    [
        ("temp,time\n1,2\n", SPEC, r"'yield' that .* does not have; its columns: temp, time"),
        ("temp,time,yield\n30,2,\n", SPEC, r"line 2: column 'yield' is empty"),
        ("temp,time,yield\n", SPEC, r"header row and at least one data row"),
        ("temp,time,yield\n30,2,1\n", {**SPEC, "goal": None} | {"goal": "best"}, r"default_goal"),
        ("temp,time,yield\n30,2,1\n", {"parameters": [], "goal": "maximize"}, r"'measurement'"),
        ("temp,time,yield\n30,2,1\n", {**SPEC, "parameters": [{"name": "temp"}]}, r"low"),
    ],
)
def test_csv_spec_errors_name_the_problem(
    tmp_path: Path, text: str, spec: dict[str, object], message: str
) -> None:
    csv = _csv(tmp_path / "m.csv", text)
    with pytest.raises(ValueError, match=message):
        import_datasets(dst=tmp_path / "raw", csv={"mine": (csv, spec)})


def test_rounding_at_a_bound_is_read_as_the_bound(tmp_path: Path) -> None:
    _own_folder(tmp_path / "ok", first_temp=repr(20.0 - 1e-14))  # lab-file rounding
    ds = load_dataset("reactor", tmp_path / "ok")
    assert ds.X[0, 0] == 20.0 and ds.X.min() >= 1.0
    just_out = 20.0 - 60.0 * BOUNDS_RTOL * 10  # ten times the tolerance
    _own_folder(tmp_path / "bad", first_temp=repr(just_out))
    with pytest.raises(ValueError, match=r"row 0 has temp = .* outside \[20\.0, 80\.0\]"):
        load_dataset("reactor", tmp_path / "bad")
    with pytest.raises(ValueError, match="outside"):  # import checks by loading
        import_datasets(tmp_path / "bad", tmp_path / "raw")


def test_params_section_mixes_folders_and_csv(tmp_path: Path) -> None:
    _own_folder(tmp_path / "src")
    _own_folder(tmp_path / "src", name="second")
    csv = _csv(tmp_path / "m.csv", "temp,time,yield\n30,2,1\n40,3,2\n")
    (tmp_path / "m.json").write_text(json.dumps(SPEC))
    section = {
        "reactor": {"src": str(tmp_path / "src")},
        "mine": {"csv": str(csv), "spec": str(tmp_path / "m.json")},
    }
    import_from_params(section, tmp_path / "raw")
    assert list_datasets(tmp_path / "raw") == ["mine", "reactor"]  # not 'second'
    with pytest.raises(ValueError, match=r"Dataset 'x' .* either 'src'.*'csv' and 'spec'"):
        import_from_params({"x": {"csv": str(csv)}}, tmp_path / "raw")
    with pytest.raises(ValueError, match="lowercase identifier"):
        import_from_params({"Bad-Name": {"src": str(tmp_path / "src")}}, tmp_path / "raw")


def test_a_name_given_twice_is_refused(tmp_path: Path) -> None:
    _own_folder(tmp_path / "a")
    _own_folder(tmp_path / "b")
    with pytest.raises(ValueError, match="more than one source"):
        import_datasets(dst=tmp_path / "raw", sources={tmp_path / "a": None, tmp_path / "b": None})


def test_cli_imports_by_params_and_refuses_mixed_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _own_folder(tmp_path / "src")
    params = tmp_path / "params.yaml"
    params.write_text(f"datasets:\n  reactor: {{src: {tmp_path / 'src'}}}\n")
    assert main(["data", "import", "--params", str(params), "--dst", str(tmp_path / "raw")]) == 0
    assert "imported 1 datasets (reactor)" in capsys.readouterr().out
    bad = ["data", "import", "--params", str(params), "--src", "x"]
    assert main(bad) == 2
    assert "drop --src" in capsys.readouterr().err
    assert main(["data", "import", "--name", "reactor"]) == 2
    assert "give --src too" in capsys.readouterr().err


def test_an_imported_dataset_is_a_problem_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _own_folder(tmp_path / "src")
    monkeypatch.chdir(tmp_path)
    for var in ("ARDLIB_DATA_DIR", "ARDLIB_EMULATOR_DIR", "ARDLIB_DATASETS_SRC"):
        monkeypatch.delenv(var, raising=False)
    assert "emulator:reactor" not in list_problems()
    import_datasets(tmp_path / "src", Path("data", "raw"))  # cwd-relative, as the pipeline
    assert "emulator:reactor" in list_problems()
    problem = get_problem("emulator:reactor")
    assert problem.dim == 2 and problem.goal == "maximize"
