"""profile_call and friends: frames found, offline HTML, speedscope, files, diffs, checks."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

import ardlib

pytest.importorskip("pyinstrument", reason="pyinstrument (ardlib[bench]) not installed")
from ardlib.bench._profile import (
    FRAME_COLUMNS,
    ProfileResult,
    _path_roots,
    _short_path,
    diff_top_frames,
    load_top_frames,
    profile_call,
    save_profile,
)

# XML namespace names: identifiers inside the page's script, never fetched.
NAMESPACES = {
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/1999/xlink",
}


# Busy loops with distinct names, so the profile can tell them apart. Each pass of the loop
# costs about the same in every helper; the workloads below set the shares by their sizes.
# pyinstrument samples at the first call or return after each interval (1 ms), so every
# call is made to last about a millisecond or more: shorter calls are attributed unevenly.
def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def _steady(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def _grow(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def _recurse(depth: int) -> int:
    return _spin(20_000) if depth == 0 else _recurse(depth - 1)


def _mostly_spin() -> None:
    _spin(100_000)
    _steady(10_000)


@pytest.fixture(scope="module")
def spin_profile() -> ProfileResult:
    return profile_call(_mostly_spin, name="spin", min_seconds=0.3)


# ----------------------------------------------------------------------------- frames
def test_the_busy_helper_tops_the_self_time_table(spin_profile):
    frames = spin_profile.top_frames
    assert tuple(frames.columns) == FRAME_COLUMNS
    top = frames.iloc[0]
    assert top["function"] == "_spin"
    assert top["self_share"] > 0.5
    assert top["line"] == _spin.__code__.co_firstlineno
    # relative to the folder pytest put on sys.path, not absolute
    assert top["file"].endswith("test_bench_profile.py")
    assert not Path(top["file"]).is_absolute()
    assert frames["self_s"].is_monotonic_decreasing
    assert frames["self_share"].sum() == pytest.approx(1.0)
    assert (frames["total_s"] >= frames["self_s"] - 1e-12).all()


def test_the_caller_of_fn_and_the_profiler_are_left_out(spin_profile):
    frames = spin_profile.top_frames
    assert "_mostly_spin" in set(frames["function"])
    harness = {"_call_target", "_sample", "profile_call", "perf_counter", "stop"}
    assert harness.isdisjoint(frames["function"])
    assert not frames["file"].str.contains("pyinstrument").any()
    assert not frames["function"].str.startswith("[").any()  # [self], [await], ...


def test_calls_and_seconds(spin_profile):
    assert spin_profile.calls >= 1
    assert spin_profile.seconds >= 0.3
    # the sampled time is the profiled time, less the loop around fn
    assert spin_profile.top_frames["self_s"].sum() == pytest.approx(spin_profile.seconds, rel=0.2)


def test_max_calls_and_zero_min_seconds_bound_the_calls():
    calls = []
    res = profile_call(lambda: calls.append(1), name="noop", min_seconds=60.0, max_calls=5)
    assert res.calls == len(calls) == 5
    assert profile_call(lambda: None, name="once", min_seconds=0).calls == 1


def test_recursion_counts_each_sample_once_in_total_time():
    res = profile_call(lambda: _recurse(30), name="recurse", min_seconds=0.15)
    frames = res.top_frames.set_index("function")
    assert frames.index[0] == "_spin"
    # 31 nested _recurse frames on every sample: counted once, total_s cannot exceed the
    # time of fn (the sum of all self times)
    assert frames.loc["_recurse", "total_s"] <= frames["self_s"].sum() + 1e-9
    assert frames.loc["_recurse", "total_s"] >= frames.loc["_spin", "self_s"]


def test_an_exception_in_fn_propagates_and_stops_the_profiler():
    def boom() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        profile_call(boom, name="boom")
    assert profile_call(lambda: None, name="after", min_seconds=0).calls == 1


def test_paths_are_shortened_against_the_deepest_root():
    roots = ["/w/venv/site-packages/pkg", "/w/venv/site-packages", "/w"]
    assert _short_path("/w/venv/site-packages/numpy/linalg/x.py", roots) == "numpy/linalg/x.py"
    assert _short_path("/w/ardlib/gp/_model.py", roots) == "ardlib/gp/_model.py"
    assert _short_path("/wx/y.py", roots) == "/wx/y.py"  # /w is not a folder of /wx
    assert _short_path("<built-in>", roots) == "<built-in>"
    # an editable install is found through its package, not sys.path
    assert str(Path(ardlib.__file__).resolve().parents[1]) in _path_roots([])


# ------------------------------------------------------------------------------- pages
def test_html_is_the_interactive_page_and_loads_nothing_from_the_network(spin_profile):
    html = spin_profile.html
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert '<div id="app">' in html
    assert "pyinstrumentHTMLRenderer.render" in html
    assert "_spin" in html  # the embedded session data
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= NAMESPACES, urls - NAMESPACES
    # no fetched reference, absolute or protocol-relative, as attribute or DOM property
    assert not re.search(r"(?:src|href)\s*=\s*[\"'](?:https?:)?//", html)
    assert not re.search(r"<script[^>]*\ssrc=|<link\b|@import", html)


def test_speedscope_follows_the_file_format(spin_profile):
    doc = json.loads(spin_profile.speedscope)
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    assert doc["profiles"][0]["type"] == "evented"
    assert doc["profiles"][0]["unit"] == "seconds"
    assert "_spin" in {frame["name"] for frame in doc["shared"]["frames"]}


# ------------------------------------------------------------------------------- files
def test_save_and_load_round_trip(spin_profile, tmp_path):
    res = dataclasses.replace(spin_profile, name="gp fit/d=6")
    paths = save_profile(res, tmp_path / "rev")
    assert {k: p.name for k, p in paths.items()} == {
        "html": "gp_fit_d_6.html",
        "speedscope": "gp_fit_d_6.speedscope.json",
        "frames": "gp_fit_d_6.frames.csv",
    }
    assert paths["html"].read_text(encoding="utf-8") == res.html
    assert paths["speedscope"].read_text(encoding="utf-8") == res.speedscope
    pd.testing.assert_frame_equal(load_top_frames(paths["frames"]), res.top_frames)
    pd.testing.assert_frame_equal(load_top_frames(str(paths["frames"])), res.top_frames)


def test_names_cannot_leave_the_folder_and_odd_function_names_survive(spin_profile, tmp_path):
    frames = pd.DataFrame(
        {
            "function": ["NA", "null", "<genexpr>"],
            "file": ["a.py", "<built-in>", "b c.py"],
            "line": [1, 0, 3],
            "self_s": [0.5, 0.25, 0.25],
            "self_share": [0.5, 0.25, 0.25],
            "total_s": [1.0, 0.25, 0.25],
        }
    )
    res = dataclasses.replace(spin_profile, name="../up", top_frames=frames)
    paths = save_profile(res, tmp_path)
    assert all(p.parent == tmp_path for p in paths.values())
    assert paths["frames"].name == "_up.frames.csv"
    pd.testing.assert_frame_equal(load_top_frames(paths["frames"]), frames)


def test_load_names_the_missing_columns(tmp_path):
    path = tmp_path / "bad.frames.csv"
    path.write_text("function,file,line\nf,a.py,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.frames\.csv.*lacks \['self_s', 'self_share'"):
        load_top_frames(path)


# ------------------------------------------------------------------------------- diffs
def _base_workload() -> None:
    _spin(50_000)
    _steady(50_000)


def _head_workload() -> None:
    _spin(50_000)
    _steady(50_000)
    _grow(300_000)


@pytest.mark.slow
def test_diff_ranks_the_frame_that_grew_first():
    base = profile_call(_base_workload, name="base", min_seconds=0.2).top_frames
    head = profile_call(_head_workload, name="head", min_seconds=0.2).top_frames
    diff = diff_top_frames(base, head)
    assert list(diff.columns) == [
        "function",
        "file",
        "base_self_share",
        "head_self_share",
        "change",
    ]
    # about 0 -> 3/4 for _grow, 1/2 -> 1/8 for _spin and _steady: margins wide enough for
    # the wall-clock noise of a busy machine (one preemption can move a share by 0.1-0.2)
    first = diff.iloc[0]
    assert first["function"] == "_grow"
    assert first["base_self_share"] == 0.0
    assert first["change"] > 0.5
    change = diff.set_index("function")["change"]
    assert change["_spin"] < 0
    assert change["_steady"] < 0
    assert diff["change"].abs().is_monotonic_decreasing
    assert len(diff_top_frames(base, head, n=2)) == 2


def test_diff_by_hand_sums_duplicates_and_fills_missing_frames():
    base = pd.DataFrame(
        {"function": ["f", "g", "g"], "file": ["a.py"] * 3, "self_share": [0.5, 0.3, 0.2]}
    )
    head = pd.DataFrame(
        {"function": ["h", "f", "g"], "file": ["a.py"] * 3, "self_share": [0.5, 0.2, 0.3]}
    )
    diff = diff_top_frames(base, head)
    assert diff["function"].tolist() == ["h", "f", "g"]
    assert diff["base_self_share"].tolist() == pytest.approx([0.0, 0.5, 0.5])
    assert diff["head_self_share"].tolist() == pytest.approx([0.5, 0.2, 0.3])
    assert diff["change"].tolist() == pytest.approx([0.5, -0.3, -0.2])
    assert diff_top_frames(base, head, n=1)["function"].tolist() == ["h"]


# ------------------------------------------------------------------------------ checks
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"fn": 3}, TypeError, "The 'fn' parameter of profile_call must be callable. Got int."),
        ({"name": ""}, ValueError, "The 'name' parameter of profile_call must be a non-empty"),
        ({"name": None}, ValueError, "'name' parameter of profile_call .* Got None"),
        (
            {"min_seconds": -1},
            ValueError,
            "The 'min_seconds' parameter of profile_call must be a finite float >= 0. Got -1.",
        ),
        ({"min_seconds": math.nan}, ValueError, "'min_seconds' .* finite float >= 0. Got nan"),
        (
            {"max_calls": 0},
            ValueError,
            "The 'max_calls' parameter of profile_call must be an int >= 1. Got 0.",
        ),
        ({"max_calls": 2.5}, ValueError, "'max_calls' .* must be an int >= 1. Got 2.5"),
        (
            {"interval": 0},
            ValueError,
            "The 'interval' parameter of profile_call must be a finite float > 0. Got 0.",
        ),
    ],
)
def test_profile_call_checks_its_arguments(kwargs, error, message):
    args = {"fn": lambda: None, "name": "ok", **kwargs}
    fn = args.pop("fn")
    with pytest.raises(error, match=message):
        profile_call(fn, **args)


def test_diff_and_save_check_their_arguments(spin_profile, tmp_path):
    frames = spin_profile.top_frames
    with pytest.raises(ValueError, match="The 'n' parameter of diff_top_frames must be an int"):
        diff_top_frames(frames, frames, n=0)
    with pytest.raises(ValueError, match=r"The 'head' parameter .* lacks \['self_share'\]"):
        diff_top_frames(frames, frames.drop(columns="self_share"))
    with pytest.raises(ValueError, match=r"The 'base' parameter .* must be a DataFrame"):
        diff_top_frames({"function": []}, frames)
    with pytest.raises(TypeError, match="'result' parameter of save_profile must be a Prof"):
        save_profile(frames, tmp_path)
    with pytest.raises(ValueError, match=r"must contain a letter or digit.*Got '///'"):
        save_profile(dataclasses.replace(spin_profile, name="///"), tmp_path)
