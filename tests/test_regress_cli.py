"""``ardlib regress check`` / ``update``: exit status, output and argument errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_regress_support import run_cli, write_study

GROUPS = {
    ("branin", "sd0", "gpbo"): [0.01 * (i + 1) for i in range(10)],
    ("branin", "sd0", "random"): [0.3 + 0.1 * i for i in range(10)],
}


@pytest.fixture
def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    studies = tmp_path / "studies"
    write_study(studies, "toy", GROUPS)
    baseline = tmp_path / "b" / "results.json"
    status = run_cli(
        ["regress", "update", "--why", "initial", "--who", "ada", "--kind", "study",
         "--baseline", str(baseline), "--studies", str(studies)]
    )  # fmt: skip
    assert status == 0
    assert f"wrote {baseline}: study:toy (by ada at " in capsys.readouterr().out
    return baseline, studies


def check(baseline: Path, studies: Path, *extra: str) -> int:
    args = ["regress", "check", "--baseline", str(baseline), "--studies", str(studies)]
    return run_cli([*args, "--kind", "study", *extra])


def test_update_then_check_passes(
    setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert check(*setup) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out and "toy: branin/sd0/gpbo" in out


def test_a_regression_exits_1_and_names_the_group(
    setup: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    worse = {
        **GROUPS,
        ("branin", "sd0", "gpbo"): [v * 100 for v in GROUPS[("branin", "sd0", "gpbo")]],
    }
    write_study(tmp_path / "now", "toy", worse)
    out_json = tmp_path / "out" / "report.json"
    assert check(setup[0], tmp_path / "now", "--json", str(out_json)) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "regressed" in out
    report = json.loads(out_json.read_text())
    assert report["passed"] is False
    assert [r["name"] for r in report["rows"] if r["verdict"] == "regressed"] == [
        "toy: branin/sd0/gpbo"
    ]


def test_missing_or_corrupt_baseline_exits_2_with_a_message(
    setup: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check(tmp_path / "absent.json", setup[1]) == 2
    assert "No baseline at" in capsys.readouterr().err
    setup[0].write_text('{"format": 1, "studies": 3}')
    assert check(*setup) == 2
    assert "is corrupt: section 'studies' must be a dict" in capsys.readouterr().err


@pytest.mark.parametrize("alpha", ["0", "1.5", "abc"])
def test_bad_alpha_is_named(
    setup: tuple[Path, Path], alpha: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        check(*setup, "--alpha", alpha)
    assert exc.value.code == 2
    assert "argument --alpha: must be a float in (0, 1)" in capsys.readouterr().err


def test_bad_kind_and_missing_why_are_named(
    setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        run_cli(["regress", "check", "--kind", "everything"])
    assert "argument --kind: invalid choice: 'everything'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_cli(["regress", "update", "--baseline", str(setup[0])])
    assert "the following arguments are required: --why" in capsys.readouterr().err


def test_update_errors_exit_2(setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    args = ["regress", "update", "--why", "x", "--baseline", str(setup[0])]
    assert run_cli([*args, "--studies", str(setup[1]), "--kind", "study", "--only", "nope"]) == 2
    assert "'only' parameter of update_baseline" in capsys.readouterr().err


def test_detector_writes_its_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench" / "regress_detector.json"
    args = "--problems branin --budget 6 --replicates 2 --pool 4 --degraded-pool 2 --draws 3"
    args += " --shift-draws 2 --factors 10"
    assert run_cli(["regress", "detector", "--out", str(out), *args.split()]) == 0
    printed = capsys.readouterr()
    assert "[1/5] honest/branin/random: 4 runs" in printed.err
    assert printed.out.startswith("false-positive rate (check fails on an honest rerun): ")
    assert f"wrote {out} (" in printed.out
    record = json.loads(out.read_text())
    assert record["settings"]["budget"] == 6 and record["false_positive"]["draws"] == 3
    assert sorted(record["power"]) == ["coarse_acqopt", "no_exploit"]
    assert [s["factor"] for s in record["power_vs_regret_factor"]] == [10.0]


def test_detector_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d.json"
    assert run_cli(["regress", "detector", "--out", str(out), "--pool", "10"]) == 2
    err = capsys.readouterr().err
    assert err == "error: The 'pool' parameter of measure_detector must be an int >= 40. Got 10.\n"
    assert not out.exists()
    with pytest.raises(SystemExit) as exc:
        run_cli(["regress", "detector", "--budget", "many"])
    assert exc.value.code == 2
    assert "argument --budget: invalid int value: 'many'" in capsys.readouterr().err
