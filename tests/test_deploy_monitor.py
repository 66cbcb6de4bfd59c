"""``ardlib monitor``: durations, alert rules, sampling the reference service on loopback,
a rule firing on 5xx (injected at the transport, and from a service whose database is
down), the JSON-lines log and the command's exit status and one-line errors."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import matplotlib
import numpy as np
import pytest

from ardlib.cli import main
from ardlib.deploy import (
    MONITOR_METRICS,
    DeploymentRecord,
    FaultInjectingTransport,
    Rule,
    append_record,
    default_rules,
    load_rules,
    monitor,
    parse_duration,
    parse_rule,
    plot_monitor,
)
from ardlib.deploy._rules import Streaks

matplotlib.use("Agg")
pytest.importorskip("fastapi", reason="the service extra is not installed")
pytest_plugins = ["conftest_service"]


@pytest.fixture(scope="module")
def service(
    serve_app: Any, settings_for: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The reference service on loopback (SQLite, auth off, empty)."""
    from ardlib.service import create_app

    db = tmp_path_factory.mktemp("monitor") / "service.db"
    with serve_app(create_app(settings_for(f"sqlite:///{db}"))) as live:
        yield live


# -- durations and rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("250ms", 0.25),
        ("1.5s", 1.5),
        (" 2m ", 120.0),
        ("45", 45.0),
        (0.5, 0.5),
    ],
)
def test_durations_parse_to_seconds(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "bad", ["", "10x", "h", "1m1h", "1s1s", "-5s", "0s", "0", "nan", "inf", "1 h", True, None]
)
def test_bad_durations_name_the_argument_and_the_form(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"^The 'interval' parameter must be a duration such"):
        parse_duration(bad, "interval")


def test_a_rule_fires_once_per_streak_of_n_breaching_samples() -> None:
    rule = parse_rule("p95_latency_s > 2 for 3 samples", "slow")
    assert rule == Rule("p95_latency_s", ">", 2.0, 3, "slow")
    assert rule.expression == "p95_latency_s > 2 for 3 samples" and rule.label == "slow"
    streaks = Streaks([rule, parse_rule("errors_5xx >= 1")])
    values = [3, 3, 1, 3, 3, 3, 3, 3, math.nan, 3, 3, 3]
    fired = [
        [r.metric for r, _ in streaks.update({"p95_latency_s": v, "errors_5xx": 0.0})]
        for v in values
    ]
    # streak broken at index 2 (1 s) and at index 8 (NaN: not measured): fires at 5 and 11
    assert [i for i, f in enumerate(fired) if f] == [5, 11]
    assert streaks.update({"errors_5xx": 1.0}) == [(streaks.rules[1], 1.0)]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("p95 > 2", "unknown metric 'p95'; known: health_ok"),
        ("p95_latency_s >> 2", "is not of the form METRIC OP NUMBER"),
        ("p95_latency_s > two", "is not of the form"),
        ("errors_5xx > 0 for 0 samples", "needs N >= 1"),
    ],
)
def test_bad_rules_say_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_rule(text)


def test_rules_files_in_yaml_and_json(tmp_path: Path) -> None:
    yml = tmp_path / "rules.yaml"
    yml.write_text(
        "# thresholds\nrules:\n  - name: slow reads\n    when: p95_latency_s > 2 for 3 samples\n"
        "  - errors_5xx > 0\ninclude_defaults: true\n"
    )
    rules = load_rules(yml)
    assert rules[: len(default_rules())] == default_rules()
    assert rules[-2:] == (
        Rule("p95_latency_s", ">", 2.0, 3, "slow reads"),
        Rule("errors_5xx", ">", 0.0),
    )
    js = tmp_path / "rules.json"
    js.write_text(json.dumps(["cost_per_hour > 0.5"]))
    assert load_rules(js) == (Rule("cost_per_hour", ">", 0.5),)
    assert default_rules(budget_per_hour=2)[-1] == Rule("cost_per_hour", ">", 2.0, 1, "over budget")
    assert set(MONITOR_METRICS) >= {r.metric for r in default_rules()}
    for content, why in [
        ("rules: []\n", "expected a non-empty list of rules"),
        ("rules:\n  - when: p95 > 1\n", "rule 1: rule 'p95 > 1' names the unknown metric"),
        ("rules:\n  - {when: errors > 0, level: page}\n", "rule 1: expected an expression"),
        ("rulez: [errors > 0]\n", "expected the keys 'rules' and optionally 'include_defaults'"),
        ("rules: [\n", "is not valid YAML or JSON: line 2"),
    ]:
        yml.write_text(content)
        with pytest.raises(
            ValueError, match=r"rules file '.*rules\.yaml'.*" + why.replace("[", r"\[")
        ):
            load_rules(yml)
    with pytest.raises(FileNotFoundError, match=r"rules file .nosuch\.yaml. does not exist"):
        load_rules("nosuch.yaml")


# -- monitoring the live service ---------------------------------------------------------


@pytest.mark.slow  # one second of monitoring by design; the fast tier keeps the fail-fast run
def test_monitor_samples_the_service_and_appends_every_sample_to_the_log(
    service: Any, tmp_path: Path
) -> None:
    service.wipe()
    deployments = tmp_path / "log.jsonl"
    record = DeploymentRecord("t", service.url, "1", "abc", {"health": True}, {}, True)
    append_record(deployments, record)
    log = tmp_path / "monitor.jsonl"
    result = monitor(
        service.url,
        duration="1s",
        interval="250ms",
        log=log,
        deployments_log=deployments,
        requests=2,
    )
    s = result.samples
    assert result.passed and result.stopped == "duration" and len(s) == 4
    assert result.seconds < 1.5  # bounded: no sample starts after the duration
    # sample k starts at k * 0.25 s, or as soon as sample k - 1 ended when it overran
    due = 0.25 * s["sample"]
    previous_end = (s["elapsed_s"] + s["sample_s"]).shift(1, fill_value=0.0)
    start = np.maximum(due, previous_end)
    assert (s["elapsed_s"] >= start - 1e-3).all() and (s["elapsed_s"] <= start + 0.05).all()
    assert (s["health_ok"] == 1).all() and (s["stream_ok"] == 1).all()
    assert (s["errors"] == 0).all() and (s["requests"] == 2 * 4 + 1 + 1).all()
    assert (s["stream_ttfb_s"] <= s["stream_first_event_s"]).all()
    assert (s["stream_first_event_s"] <= s["stream_total_s"]).all()
    # the cost analysis counts the monitor's own reasoning queries: one more per sample
    assert s["queries"].tolist() == [0.0, 1.0, 2.0, 3.0] and (s["cost_usd"] == 0).all()
    assert math.isnan(s["cost_per_hour"].iloc[0]) and s["cost_per_hour"].iloc[1] == 0.0
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [x["sample"] for x in lines] == [0, 1, 2, 3]
    assert {x["record_id"] for x in lines} == {record.id} == {result.record_id}
    assert {x["run"] for x in lines} == {result.run_id} and lines[0]["url"] == service.url
    assert lines[0]["metrics"]["cost_per_hour"] is None  # NaN is written as null
    assert set(lines[1]["metrics"]) == set(MONITOR_METRICS)
    assert lines[1]["endpoints"]["GET /health"]["statuses"] == {"200": 2}
    assert lines[1]["stream"]["events"] == ["preliminary", "final", "done"]
    assert len(result.endpoints) == 4 * 6  # health, 3 listings, cost analysis, stream
    fig = plot_monitor(result)
    assert len(fig.axes) == 3 and len(fig.axes[0].get_lines()) == 5 + 2


def test_an_injected_5xx_fires_the_rule_and_fail_fast_ends_the_run(
    service: Any, tmp_path: Path
) -> None:
    faults = FaultInjectingTransport(httpx.HTTPTransport(), rate=0.25, rng=1, kinds=["503"])
    seen: list[str] = []
    result = monitor(
        service.url,
        duration=5,
        interval=0.05,
        rules=["errors_5xx > 0", "health_ok < 0.5"],
        log=None,
        deployments_log=None,
        reasoning=False,
        transport=faults,
        fail_fast=True,
        on_alert=lambda alert: seen.append(alert.message),
    )
    assert not result.passed and result.stopped == "fail_fast"
    first = result.alerts[0]
    assert first.rule.metric == "errors_5xx" and first.sample == len(result.samples) - 1
    assert first.value == result.samples["errors_5xx"].iloc[-1] > 0
    assert (result.samples["errors_5xx"].iloc[:-1] == 0).all()
    assert faults.log.injected is not None and faults.log.injected["503"] == first.value
    assert seen[0].startswith("ALERT errors_5xx > 0: errors_5xx = ") and "-> status 503" in seen[0]
    assert result.record_id is None and result.log is None


def test_the_api_key_reaches_the_reasoning_stream(
    serve_app: Any, settings_for: Any, tmp_path: Path
) -> None:
    from ardlib.service import create_app

    app = create_app(settings_for(f"sqlite:///{tmp_path / 'k.db'}", api_key="k"))
    common: dict[str, Any] = {"duration": 0.1, "log": None, "deployments_log": None,
                              "requests": 1, "rules": ["stream_ok < 1"]}  # fmt: skip
    with serve_app(app) as server:
        keyed = monitor(server.url, api_key="k", **common)
        keyless = monitor(server.url, **common)
    assert keyed.passed and keyed.samples["stream_ok"].tolist() == [1.0]
    assert keyless.samples["stream_ok"].tolist() == [0.0] and keyless.samples["errors"][0] == 1
    assert "POST /api/reasoning/query -> status 401 (needs the API key)" in keyless.alerts[0].detail


def test_monitor_refuses_bad_settings_before_sending_anything() -> None:
    with pytest.raises(ValueError, match=r"'base_url' parameter of monitor must be http\(s\)"):
        monitor("ftp://example.org", duration=1)
    with pytest.raises(ValueError, match="'duration' parameter must be a duration"):
        monitor("http://127.0.0.1:9", duration="soon")
    with pytest.raises(ValueError, match="'requests' parameter of monitor must be an int >= 1"):
        monitor("http://127.0.0.1:9", duration=1, requests=0)


# -- the command -------------------------------------------------------------------------


def test_monitor_command_exits_1_when_the_database_is_down(
    serve_app: Any, settings_for: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ardlib.service import create_app

    down = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"  # /health and data calls: 503
    log = tmp_path / "monitor.jsonl"
    with serve_app(create_app(settings_for(down)), healthy=False) as server:
        status = main(
            [
                "monitor",
                server.url,
                "--duration",
                "0.4s",
                "--interval",
                "0.2s",
                "--log",
                str(log),
                "--deployments-log",
                str(tmp_path / "none.jsonl"),
                "--record-id",
                "rec123",
                "--quiet",
                "--no-reasoning",
            ]
        )
    out = capsys.readouterr().out
    assert status == 1
    assert "ALERT any 5xx: errors_5xx = " in out and "-> status 503" in out
    assert "ALERT health down: health_ok = 0 < 1 for 2 samples at sample 1" in out
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 2 and {x["record_id"] for x in lines} == {"rec123"}
    assert lines[0]["alerts"] == ["any 5xx"] and lines[0]["metrics"]["errors_5xx"] > 0


def test_monitor_command_exits_0_without_alerts(
    service: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "m.jsonl"
    status = main(
        [
            "monitor",
            service.url,
            "--duration",
            "0.2s",
            "--interval",
            "0.1s",
            "--log",
            str(log),
            "--deployments-log",
            str(tmp_path / "none.jsonl"),
            "--budget",
            "1.5",
        ]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.out
    n = len(log.read_text().splitlines())  # 2, or 1 when the first sample overran 0.2 s
    assert n in (1, 2) and f"{n} samples in" in captured.out
    assert "no alerts (7 rules)" in captured.out
    assert "monitor http://127.0.0.1" in captured.err  # the progress line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--duration", "10x"], "argument --duration: expected a duration such as 90s"),
        (["--duration", "1s", "--interval", "0s"], "argument --interval: expected a duration"),
        (
            ["--duration", "1s", "--rules", "nosuch.yaml"],
            "argument --rules: rules file 'nosuch.yaml' does not exist",
        ),
        (
            ["--duration", "1s", "--rules", "bad.yaml"],
            "argument --rules: rules file 'bad.yaml': rule 1: rule 'p95 > 2' names the unknown",
        ),
        (
            ["--duration", "1s", "--rules", "broken.yaml"],
            "argument --rules: rules file 'broken.yaml' is not valid YAML or JSON",
        ),
    ],
)
def test_bad_monitor_arguments_are_one_error_line(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text("- p95 > 2\n")
    (tmp_path / "broken.yaml").write_text("rules: [\n")
    with pytest.raises(SystemExit) as exc:
        main(["monitor", "http://127.0.0.1:9", *args])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and lines[0].startswith("usage: ardlib monitor")
    assert [line for line in lines if "error:" in line] == [lines[-1]]
    assert lines[-1].startswith("ardlib monitor: error: " + message), lines[-1]
    assert not (tmp_path / "data").exists()  # nothing was logged
