"""The baseline file: update records who/why/when, keeps history, and bad files are named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_regress_support import write_study

from ardlib.regress import (
    BaselineError,
    SeededRun,
    check_results,
    load_baseline,
    update_baseline,
)

GROUPS = {("branin", "sd0", "gpbo"): [0.5, 0.25, 0.125, 1.0, 2.0, 0.75]}
CHEAP = [SeededRun("random-branin", "branin", planner="random", budget=4)]


@pytest.fixture
def studies(tmp_path: Path) -> Path:
    directory = tmp_path / "studies"
    write_study(directory, "toy", GROUPS)
    write_study(directory, "other", {("branin", "sd1", "gpbo"): [1.0, 2.0, 3.0]})
    return directory


def test_update_records_who_why_when_and_the_revision(tmp_path: Path, studies: Path) -> None:
    path = tmp_path / "base" / "results.json"
    update_baseline(path, studies, why="  first record  ", who="ada", seeded_runs=CHEAP)
    entry = load_baseline(path).history[-1]
    assert (entry["who"], entry["why"]) == ("ada", "first record")
    when = datetime.strptime(entry["when"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - when) < timedelta(minutes=5)
    assert entry["ardlib_revision"] is None or len(entry["ardlib_revision"]) == 40
    assert entry["updated"] == ["reference", "seeded", "study:other", "study:toy"]


def test_a_second_update_appends_to_the_history_and_keeps_other_sections(
    tmp_path: Path, studies: Path
) -> None:
    path = tmp_path / "results.json"
    update_baseline(path, studies, why="first", who="ada", seeded_runs=CHEAP)
    first = load_baseline(path)
    write_study(studies, "toy", {("branin", "sd0", "gpbo"): [9.0] * 6})
    update_baseline(path, studies, why="toy rerun", who="bob", kinds=["study"], only=["toy"])
    second = load_baseline(path)
    assert [h["why"] for h in second.history] == ["first", "toy rerun"]
    assert second.history[0] == first.history[0]
    assert second.history[1]["updated"] == ["study:toy"]
    assert second.reference == first.reference and second.seeded == first.seeded
    assert second.study_specs("other") == first.study_specs("other")
    (toy,) = second.study_specs("toy").values()  # same specification: replaced in place
    assert toy["groups"][0]["values"] == [9.0] * 6


def test_another_specification_is_recorded_beside_the_first(tmp_path: Path, studies: Path) -> None:
    path = tmp_path / "results.json"
    update_baseline(path, studies, why="default size", who="ada", kinds=["study"])
    paper = tmp_path / "paper"
    write_study(paper, "toy", {("branin", "sd0", "gpbo"): [0.1] * 8}, budget=40)
    before = check_results(path, paper, kinds=["study"], only=["toy"])
    assert before.passed and before.table["verdict"].tolist() == ["no baseline"]
    assert "budget 10, 6 replicates" in before.table["detail"].iloc[0]  # what the baseline holds
    update_baseline(path, paper, why="paper size", who="ada", kinds=["study"], only=["toy"])
    specs = load_baseline(path).study_specs("toy")
    assert len(specs) == 2 and len(load_baseline(path).study_specs("other")) == 1
    for directory in (studies, paper):  # each size is compared with its own baseline
        report = check_results(path, directory, kinds=["study"], only=["toy"])
        assert report.table["verdict"].tolist() == ["pass"], report.table


def test_a_format_1_baseline_is_read_as_format_2(tmp_path: Path, studies: Path) -> None:
    path = tmp_path / "results.json"
    update_baseline(path, studies, why="first", who="ada", kinds=["study"])
    data = json.loads(path.read_text())
    old = {
        e["study"]: {k: v for k, v in e.items() if k != "study"} for e in data["studies"].values()
    }
    path.write_text(json.dumps({**data, "format": 1, "studies": old}))
    migrated = load_baseline(path)
    assert migrated.studies == load_baseline(path).studies
    assert sorted(migrated.studies) == sorted(data["studies"])  # name@hash keys
    assert check_results(path, studies, kinds=["study"]).passed


def test_the_file_is_line_diffable(tmp_path: Path, studies: Path) -> None:
    path = tmp_path / "results.json"
    update_baseline(path, studies, why="first", who="ada", kinds=["study"])
    text = path.read_text()
    assert '"values": [0.5, 0.25, 0.125, 1.0, 2.0, 0.75]' in text  # one line per group
    update_baseline(path, studies, why="again", who="ada", kinds=["study"])
    again = path.read_text()
    # Re-recording the same results changes nothing but the history.
    strip = [json.loads(t) for t in (text, again)]
    for data in strip:
        data.pop("history")
    assert strip[0] == strip[1]


def test_who_defaults_to_user_without_git(
    tmp_path: Path, studies: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    monkeypatch.setenv("USER", "carol")
    path = tmp_path / "results.json"
    update_baseline(path, studies, why="no git", kinds=["study"])
    entry = load_baseline(path).history[-1]
    assert entry["who"] == "carol" and entry["ardlib_revision"] is None
    monkeypatch.delenv("USER")
    with pytest.raises(ValueError, match="'who' parameter of update_baseline must be"):
        update_baseline(path, studies, why="no git", kinds=["study"])


@pytest.mark.parametrize("why", ["", "   ", None])
def test_update_requires_a_reason(tmp_path: Path, studies: Path, why: object) -> None:
    with pytest.raises(ValueError, match="'why' parameter of update_baseline must be a non-empty"):
        update_baseline(tmp_path / "r.json", studies, why=why, who="ada")  # type: ignore[arg-type]
    assert not (tmp_path / "r.json").exists()


def test_update_arguments_are_named(tmp_path: Path, studies: Path) -> None:
    path = tmp_path / "r.json"
    with pytest.raises(ValueError, match=r"'only' parameter .* \['nope'\] are not there"):
        update_baseline(path, studies, why="x", who="ada", kinds=["study"], only=["nope"])
    with pytest.raises(ValueError, match="'studies' parameter of update_baseline must be a dir"):
        update_baseline(path, tmp_path / "empty", why="x", who="ada", kinds=["study"])
    with pytest.raises(ValueError, match="'kinds' parameter of update_baseline"):
        update_baseline(path, studies, why="x", who="ada", kinds="everything")
    with pytest.raises(ValueError, match="'planner' parameter of SeededRun must be one of"):
        update_baseline(
            path, why="x", who="ada", kinds=["seeded"], seeded_runs=[SeededRun("a", "branin", "bo")]
        )
    assert not path.exists()


def test_missing_baseline_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match=r"No baseline at .*r\.json.*regress update --why"):
        load_baseline(tmp_path / "r.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "top level must be a JSON object"),
        ('{"format": 99}', "'format' must be 2; got 99"),
        ('{"format": 1, "studies": []}', "section 'studies' must be a dict"),
        (
            '{"format": 1, "history": [{"who": "a"}]}',
            r"history\[0\] lacks the key\(s\) \['why', 'when'\]",
        ),
        (
            '{"format": 1, "reference": [{"problem": "branin", "bounds": [], '
            '"optimal_value": 0, "points": [{"x": [0, 0], "value": 1}]}]}',
            r"reference\[0\]\.points\[0\] lacks the key\(s\) \['scale'\]",
        ),
        (
            '{"format": 1, "studies": {"s": {"file": "s.parquet", "metric": "regret_rec", '
            '"groups": [{"problem": "p", "noise": "n", "planner": "q", "values": ["x"]}]}}}',
            r"studies\['s'\]\.groups\[0\]\.values must hold numbers or null; got 'x'",
        ),
    ],
)
def test_corrupt_baselines_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(BaselineError, match=message):
        load_baseline(path)


def test_update_does_not_overwrite_a_corrupt_baseline(tmp_path: Path, studies: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text("{truncated")
    with pytest.raises(BaselineError, match="is corrupt"):
        update_baseline(path, studies, why="x", who="ada", kinds=["study"])
    assert path.read_text() == "{truncated"


def test_kinds_the_baseline_did_not_record_are_skipped(tmp_path: Path, studies: Path) -> None:
    path = tmp_path / "r.json"
    update_baseline(path, studies, why="studies only", who="ada", kinds=["study"])
    report = check_results(path, studies)
    assert set(report.table["kind"]) == {"study"} and report.passed
