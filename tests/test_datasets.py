"""Laboratory datasets: byte-exact import with provenance, loading, replicate noise."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ardlib.objectives import (
    DATASET_NAMES,
    Dataset,
    import_datasets,
    list_datasets,
    load_dataset,
    replicate_noise_sd,
)
from ardlib.objectives._datasets import default_data_root

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared" / "datasets"

pytestmark = pytest.mark.skipif(
    not (SHARED / "README.md").is_file(),
    reason=f"the shared datasets are not beside the repository ({SHARED})",
)

# From the citation table of the source README (dims, rows, goal) and config.json.
EXPECTED = {
    "hplc": (6, 1386, "maximize", None),
    "fullerenes": (3, 246, "maximize", None),
    "crossed_barrel": (4, 600, "maximize", None),
    "photo_pce10": (4, 1040, "minimize", "simplex"),
    "suzuki": (4, 247, "maximize", None),
}
SOURCE_FILES = [f"{n}/{f}" for n in EXPECTED for f in ("data.csv", "config.json")] + [
    "LICENSE-olympus"
]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def src_copy(tmp_path: Path) -> Path:
    """A private, modifiable copy of the shared source folder."""
    return Path(shutil.copytree(SHARED, tmp_path / "src"))


# ---------------------------------------------------------------------------------- import
def test_import_copies_bytes_and_records_provenance(tmp_path: Path) -> None:
    dst = tmp_path / "raw"
    manifest = import_datasets(SHARED, dst)
    assert sorted(manifest["files"]) == sorted(SOURCE_FILES)
    for rel, digest in manifest["files"].items():
        assert (dst / rel).read_bytes() == (SHARED / rel).read_bytes(), rel
        assert digest == _sha(SHARED / rel)
    assert json.loads((dst / "manifest.json").read_text()) == manifest
    provenance = (dst / "PROVENANCE.md").read_text()
    assert "Source commit: 440b6b58" in provenance
    for citation in ("Roch et al.", "Walker et al.", "Gongora et al.", "Langner et al."):
        assert citation in provenance
    for rel, digest in manifest["files"].items():
        assert f"| `{rel}` | `{digest}` |" in provenance
    assert manifest["dataset_hash"] in provenance
    assert list_datasets(dst) == sorted(EXPECTED)


def test_import_is_deterministic_and_hash_tracks_content(src_copy: Path, tmp_path: Path) -> None:
    first = import_datasets(src_copy, tmp_path / "a")
    again = import_datasets(src_copy, tmp_path / "b")
    assert again == first
    assert (tmp_path / "a" / "PROVENANCE.md").read_bytes() == (
        tmp_path / "b" / "PROVENANCE.md"
    ).read_bytes()
    with (src_copy / "suzuki" / "data.csv").open("ab") as fh:
        fh.write(b"80.0,1.0,1.2,2.0,50.0\n")
    changed = import_datasets(src_copy, tmp_path / "c")
    assert changed["dataset_hash"] != first["dataset_hash"]
    assert changed["files"]["suzuki/data.csv"] != first["files"]["suzuki/data.csv"]
    unchanged = {k: v for k, v in changed["files"].items() if k != "suzuki/data.csv"}
    assert unchanged == {k: v for k, v in first["files"].items() if k != "suzuki/data.csv"}


@pytest.mark.parametrize("missing", ["hplc/config.json", "LICENSE-olympus", "README.md"])
def test_import_names_the_missing_file(src_copy: Path, tmp_path: Path, missing: str) -> None:
    (src_copy / missing).unlink()
    with pytest.raises(FileNotFoundError, match=f"missing {missing}"):
        import_datasets(src_copy, tmp_path / "raw")
    assert not (tmp_path / "raw").exists()  # nothing half-copied


def test_import_missing_source_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"'src' parameter of import_datasets.*nowhere"):
        import_datasets(tmp_path / "nowhere", tmp_path / "raw")


# ---------------------------------------------------------------------------------- loading
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_dataset_shapes_goal_bounds(name: str) -> None:
    dim, rows, goal, constraint = EXPECTED[name]
    ds = load_dataset(name, SHARED)
    assert isinstance(ds, Dataset) and ds.name == name
    assert ds.X.shape == (rows, dim) and ds.y.shape == (rows,)
    assert (ds.n, ds.dim) == (rows, dim)
    assert ds.goal == goal and ds.constraint == constraint
    assert len(ds.parameter_names) == dim
    assert ds.bounds.shape == (dim, 2) and np.all(ds.bounds[:, 0] < ds.bounds[:, 1])
    lo, hi = ds.bounds[:, 0], ds.bounds[:, 1]
    assert np.all(ds.X.min(axis=0) >= lo) and np.all(ds.X.max(axis=0) <= hi)
    cfg = json.loads((SHARED / name / "config.json").read_text())
    assert ds.bounds.tolist() == [[p["low"], p["high"]] for p in cfg["parameters"]]
    assert dict(ds.sha256) == {f: _sha(SHARED / name / f) for f in ("data.csv", "config.json")}
    assert ds.reference
    with pytest.raises(ValueError, match="read-only"):
        ds.X[0, 0] = 0.0


def test_known_values() -> None:
    hplc = load_dataset("hplc", SHARED)
    assert hplc.parameter_names[4] == "push_speed"
    assert hplc.bounds[4].tolist() == [80.0, 150.0]
    assert hplc.y[1] == 174.69128
    photo = load_dataset("photo_pce10", SHARED)
    np.testing.assert_allclose(photo.X.sum(axis=1), 1.0, atol=1e-12)
    assert photo.measurement_name == "degradation"


def test_default_root_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ARDLIB_DATA_DIR", raising=False)
    monkeypatch.delenv("ARDLIB_DATASETS_SRC", raising=False)
    work = tmp_path / "work" / "repo"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)  # nothing is found relative to the installed package
    with pytest.raises(FileNotFoundError, match=r"No datasets folder: .*ARDLIB_DATA_DIR"):
        default_data_root()
    monkeypatch.setenv("ARDLIB_DATASETS_SRC", str(SHARED))
    assert default_data_root() == SHARED
    (work / "data" / "raw").mkdir(parents=True)
    assert default_data_root() == Path("data", "raw")  # the project's own copy wins
    root = Path(shutil.copytree(SHARED / "suzuki", tmp_path / "suzuki")).parent
    monkeypatch.setenv("ARDLIB_DATA_DIR", str(root))
    assert default_data_root() == root
    assert list_datasets() == ["suzuki"]
    assert load_dataset("suzuki").root == root
    with pytest.raises(FileNotFoundError, match=r"'hplc'.*data\.csv.*Datasets under .*: suzuki"):
        load_dataset("hplc")


def test_names_constant_matches_the_shared_folder() -> None:
    assert list_datasets(SHARED) == sorted(DATASET_NAMES)


def _write_dataset(root: Path, rows: list[list[float]], goal: str = "maximize") -> None:
    folder = root / "toy"
    folder.mkdir(parents=True)
    cfg = {
        "parameters": [
            {"name": "a", "low": 0.0, "high": 10.0},
            {"name": "b", "low": 0.0, "high": 10.0},
        ],
        "measurements": [{"name": "m"}],
        "default_goal": goal,
    }
    (folder / "config.json").write_text(json.dumps(cfg))
    (folder / "data.csv").write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n")


def test_malformed_files_are_rejected(tmp_path: Path) -> None:
    _write_dataset(tmp_path / "cols", [[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"'toy'.*must have 3 columns"):
        load_dataset("toy", tmp_path / "cols")
    _write_dataset(tmp_path / "out", [[1.0, 20.0, 3.0]])
    with pytest.raises(ValueError, match=r"row 0 has b = 20\.0 outside \[0\.0, 10\.0\]"):
        load_dataset("toy", tmp_path / "out")
    _write_dataset(tmp_path / "goal", [[1.0, 2.0, 3.0]], goal="best")
    with pytest.raises(ValueError, match=r"default_goal.*'best'"):
        load_dataset("toy", tmp_path / "goal")


# ---------------------------------------------------------------------------------- replicates
def test_replicate_sd_closed_form(tmp_path: Path) -> None:
    # groups {1, 3} and {2, 4, 6} plus a singleton: SS = 2 + 8, dof = 1 + 2
    rows = [[1, 1, 1.0], [1, 1, 3.0], [2, 2, 2.0], [2, 2, 4.0], [2, 2, 6.0], [3, 3, 100.0]]
    _write_dataset(tmp_path, rows)
    sd, groups = replicate_noise_sd(load_dataset("toy", tmp_path))
    assert groups == 2
    assert sd == pytest.approx(np.sqrt(10.0 / 3.0), rel=1e-14)


@pytest.mark.parametrize(
    ("name", "has_replicates"),
    [(n, n in ("hplc", "fullerenes", "photo_pce10")) for n in sorted(EXPECTED)],
)
def test_replicate_sd_on_real_data(name: str, has_replicates: bool) -> None:
    ds = load_dataset(name, SHARED)
    sd, groups = replicate_noise_sd(ds)
    if has_replicates:
        assert sd is not None and sd > 0 and groups > 0
        assert sd < np.std(ds.y)  # noise, not the whole spread of the measurements
    else:
        assert (sd, groups) == (None, 0)
