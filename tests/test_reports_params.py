"""load_params: a params.yaml section plus ``-p KEY VALUE`` overrides, typed as YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from ardlib.reports import load_params
from ardlib.reports._params import parse_value

PARAMS = """\
problems:
  max_error_ulps: 64
validation:
  budget: 10
  planners: [random, sobol]
  quick: false
  alpha: 1e-3
  label: '1e-3'
  study:
    budget: 12
    noise: {sd: 0.5}
empty:
"""


@pytest.fixture
def params_file(tmp_path: Path) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(PARAMS)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30", 30),
        ("2.5", 2.5),
        ("1e-3", 1e-3),
        ("-2E5", -2e5),
        ("true", True),
        ("false", False),
        ("[random, gpbo]", ["random", "gpbo"]),
        ("{sd: 0.1}", {"sd": 0.1}),
        ("null", None),
        ("gpbo", "gpbo"),
        ("'30'", "30"),
        ("", ""),
    ],
)
def test_values_are_typed_as_yaml(text: str, expected: object) -> None:
    value = parse_value(text)
    assert value == expected
    assert type(value) is type(expected)


def test_unparseable_value_names_it() -> None:
    with pytest.raises(ValueError, match=r"Cannot parse parameter value '\[a, b' as YAML"):
        parse_value("[a, b")


def test_section_with_overrides(params_file: Path) -> None:
    before = params_file.read_text()
    got = load_params(
        params_file,
        "validation",
        [("budget", "30"), ("planners", "[random, gpbo]"), ("quick", "true")],
    )
    assert got["budget"] == 30
    assert got["planners"] == ["random", "gpbo"]
    assert got["quick"] is True
    assert got["study"] == {"budget": 12, "noise": {"sd": 0.5}}
    assert params_file.read_text() == before


def test_file_reads_exponent_floats_like_dvc(params_file: Path) -> None:
    got = load_params(params_file, "validation")
    assert got["alpha"] == 1e-3 and isinstance(got["alpha"], float)
    assert got["label"] == "1e-3"  # quoted stays a string


def test_later_override_wins(params_file: Path) -> None:
    got = load_params(params_file, "validation", [("budget", "30"), ("budget", "40")])
    assert got["budget"] == 40


def test_dotted_keys_set_nested_values(params_file: Path) -> None:
    got = load_params(params_file, "validation", [("study.budget", "30"), ("study.noise.sd", "2")])
    assert got["study"] == {"budget": 30, "noise": {"sd": 2}}
    # the loaded file is not aliased: a second load sees the original values
    assert load_params(params_file, "validation")["study"]["budget"] == 12


def test_dotted_keys_address_the_whole_file_without_section(params_file: Path) -> None:
    got = load_params(params_file, overrides=[("problems.max_error_ulps", "128")])
    assert got["problems"] == {"max_error_ulps": 128}
    assert got["validation"]["budget"] == 10


def test_dotted_key_unknown_leaf_lists_siblings(params_file: Path) -> None:
    with pytest.raises(ValueError, match=r"'study\.budgte'.*study\.budget, study\.noise"):
        load_params(params_file, "validation", [("study.budgte", "3")])


def test_dotted_key_into_a_non_mapping_says_to_give_the_whole_value(params_file: Path) -> None:
    with pytest.raises(
        ValueError, match=r"-p budget\.x: 'budget' is 10, not a mapping,.*-p budget '\{x: \.\.\.\}'"
    ):
        load_params(params_file, "validation", [("budget.x", "3")])
    with pytest.raises(ValueError, match=r"'newdict' is not set"):
        load_params(params_file, "validation", [("newdict.x", "3")])


def test_malformed_dotted_key(params_file: Path) -> None:
    with pytest.raises(ValueError, match=r"Malformed parameter name 'study\.\.budget'"):
        load_params(params_file, "validation", [("study..budget", "3")])


def test_unknown_override_names_it_and_lists_valid(params_file: Path) -> None:
    valid = ["alpha", "budget", "label", "planners", "quick", "study"]
    with pytest.raises(ValueError) as err:
        load_params(params_file, "validation", [("budgte", "30")], valid=valid)
    msg = str(err.value)
    assert "Unknown parameter 'budgte' (given as -p budgte)" in msg
    assert "Valid parameters: alpha, budget, label, planners, quick, study." in msg


def test_unknown_key_in_the_file_section_is_reported(params_file: Path) -> None:
    with pytest.raises(ValueError, match=r"Unknown parameter 'study' in section 'validation'"):
        load_params(
            params_file, "validation", valid=["alpha", "budget", "label", "planners", "quick"]
        )


def test_valid_names_accept_overrides_not_in_the_file(params_file: Path) -> None:
    got = load_params(params_file, "problems", [("seed", "7")], valid=["max_error_ulps", "seed"])
    assert got == {"max_error_ulps": 64, "seed": 7}


def test_missing_or_empty_section_gives_only_overrides(params_file: Path) -> None:
    assert load_params(params_file, "nosuch") == {}
    assert load_params(params_file, "empty", [("x", "1")]) == {"x": 1}


def test_section_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("validation: [1, 2]\n")
    with pytest.raises(ValueError, match=r"Section 'validation' of .* must be a mapping.*Got list"):
        load_params(path, "validation")


def test_file_must_exist_and_hold_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nosuch\.yaml"):
        load_params(tmp_path / "nosuch.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match=r"must hold a mapping\. Got list"):
        load_params(bad)


def test_no_file_means_only_overrides() -> None:
    assert load_params(None, "x", [("budget", "3")], valid=["budget"]) == {"budget": 3}
