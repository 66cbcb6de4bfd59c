"""Fault injection, the chaos proxy, the load test, the resilience measurements against the
reference service, deployment records and the report's figures."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import matplotlib
import numpy as np
import pandas as pd
import pytest

from ardlib.client import Client
from ardlib.deploy import (
    FAULT_KINDS,
    SPEED_KEY,
    ChaosProxy,
    DeploymentRecord,
    FaultInjectingTransport,
    append_record,
    chaos_client_calls,
    compare_records,
    fill_experiments,
    load_test,
    machine_speed_ms,
    plot_latency_ecdf,
    plot_resilience,
    previous_record,
    proxy_client_calls,
    record_deployment,
)

matplotlib.use("Agg")
pytest.importorskip("fastapi", reason="the service extra is not installed")
pytest_plugins = ["conftest_service"]

BODY = b'{"items": [' + b",".join(b'{"i": %d}' % i for i in range(300)) + b"]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        try:
            self.send_response(404 if self.path.startswith("/missing") else 200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        except OSError:
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def service(
    serve_app: Any, settings_for: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The reference service on loopback (SQLite, auth off); tests wipe it first."""
    from ardlib.service import create_app

    db = tmp_path_factory.mktemp("service") / "service.db"
    with serve_app(create_app(settings_for(f"sqlite:///{db}"))) as live:
        yield live


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=BODY, headers={"content-type": "application/json"})


@pytest.mark.slow
def test_fault_schedule_is_seeded_and_hits_the_requested_share() -> None:
    def run(seed: int, n: int = 2000) -> list[str]:
        tr = FaultInjectingTransport(httpx.MockTransport(_ok), rate=0.2, rng=seed, latency=0.0)
        out = []
        with httpx.Client(transport=tr, base_url="http://test") as c:
            for _ in range(n):
                try:
                    r = c.get("/")
                    out.append(str(r.status_code) if r.status_code != 200 else "ok")
                except httpx.HTTPError as exc:
                    out.append(type(exc).__name__)
        return out

    a, b = run(1), run(1)
    c = run(2, 200)  # another seed differs early on: 200 requests show it (2000 cost ~0.2 s)
    assert a == b and a[:200] != c
    share = 1 - a.count("ok") / len(a)
    # latency faults still answer 200: expected visible share is 0.2 * 7/8
    assert abs(share - 0.2 * 7 / 8) < 0.03
    assert {
        "503",
        "502",
        "504",
        "429",
        "ConnectError",
        "ReadTimeout",
        "RemoteProtocolError",
    } <= set(a)


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_kind_behaves_as_documented(kind: str) -> None:
    tr = FaultInjectingTransport(
        httpx.MockTransport(_ok), rate=1.0, rng=0, kinds=[kind], retry_after="7", latency=0.0
    )
    with httpx.Client(transport=tr, base_url="http://test") as c:
        expected = {
            "connect": httpx.ConnectError,
            "read_timeout": httpx.ReadTimeout,
            "truncate": httpx.RemoteProtocolError,
        }
        if kind in expected:
            with pytest.raises(expected[kind]):
                c.get("/")
            assert tr.log.injected[kind] == 1
            return
        r = c.get("/")
    if kind in ("503", "502", "504", "429"):
        assert r.status_code == int(kind) and r.json()["code"] == "chaos"
        assert kind != "429" or r.headers["retry-after"] == "7"
    elif kind == "truncate":
        raise AssertionError("unreachable")
    else:
        assert r.content == BODY
    assert tr.log.injected[kind] == 1


def test_fault_transport_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="'rate' parameter of FaultInjectingTransport"):
        FaultInjectingTransport(httpx.MockTransport(_ok), rate=1.5)
    with pytest.raises(ValueError, match="'kinds' parameter"):
        FaultInjectingTransport(httpx.MockTransport(_ok), rate=0.1, kinds=["meteor"])


def test_proxy_forwards_intact_and_injects_resets_and_fragments(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    with ChaosProxy(("127.0.0.1", port), fragment_rate=1.0, latency_rate=1.0, latency=0.001) as p:
        r = httpx.get(f"http://127.0.0.1:{p.port}/", timeout=5)
        assert r.content == BODY and p.stats.fragmented == 1 and p.stats.delayed == 1
    # One client without keep-alive: a new connection per request, as with httpx.get, but
    # without building a new client (and its TLS context, ~25 ms) for each of the 40.
    no_keepalive = httpx.Limits(max_keepalive_connections=0)
    with (
        ChaosProxy(("127.0.0.1", port), reset_rate=0.5, rng=3) as p,
        httpx.Client(timeout=5, limits=no_keepalive) as client,
    ):
        ok = failed = 0
        for _ in range(40):
            try:
                ok += client.get(f"http://127.0.0.1:{p.port}/").content == BODY
            except httpx.HTTPError:
                failed += 1
        assert ok + failed == 40 and failed == p.stats.resets and 0 < failed < 40


def test_proxy_refuses_non_loopback_upstream() -> None:
    with pytest.raises(ValueError, match="must be loopback"):
        ChaosProxy(("10.0.0.1", 80))


@pytest.mark.slow  # a timed load test on a live server
def test_load_test_is_bounded_and_reports_percentiles(server: str) -> None:
    res = load_test(
        server,
        endpoints=("/a", "/b"),
        clients=4,
        duration=0.5,
        max_requests=150,
        generator="threads",
    )
    assert res.generator == "threads"
    t = res.table.set_index("endpoint")
    assert t["requests"].sum() == len(res.samples) <= 300
    assert (t["requests"] <= 150).all()
    assert (t["errors"] == 0).all()
    for ep in ("/a", "/b"):
        ms = res.samples.loc[res.samples["endpoint"] == ep, "ms"].to_numpy()
        assert t.loc[ep, "p95_ms"] == pytest.approx(np.percentile(ms, 95))
    assert t.loc["/a", "p50_ms"] <= t.loc["/a", "p95_ms"] <= t.loc["/a", "p99_ms"]
    with pytest.raises(ValueError, match="must be loopback"):
        load_test("http://192.0.2.1:80", duration=0.1)
    with pytest.raises(ValueError, match=r"'generator'.*one of"):
        load_test(server, duration=0.1, generator="ab")


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (.ci/run installs it)"
)
@pytest.mark.slow  # a 2 s wrk run; the fast tier keeps the threaded load test above
def test_load_test_with_wrk_counts_requests_and_bad_statuses(server: str) -> None:
    res = load_test(server, endpoints=("/a", "/missing"), clients=4, duration=2.0)
    assert res.generator == "wrk" and res.samples.empty
    t = res.table.set_index("endpoint")
    assert (t["requests"] > 50).all()
    assert t.loc["/a", "errors"] == 0
    assert t.loc["/missing", "errors"] == t.loc["/missing", "requests"]
    assert t.loc["/missing", "statuses"]["bad status"] == t.loc["/missing", "requests"]
    assert 0 < t.loc["/a", "p50_ms"] <= t.loc["/a", "p95_ms"] <= t.loc["/a", "p99_ms"]


def _record(
    checks: dict[str, bool], p95: dict[str, float], time: str, speed: float | None = 10.0
) -> DeploymentRecord:
    return DeploymentRecord(
        time=time,
        target="http://127.0.0.1:9",
        service_version="1",
        ardlib_revision="abc",
        checks=checks,
        latency_p95_ms=p95,
        passed=all(checks.values()),
        extra={} if speed is None else {SPEED_KEY: speed},
    )


def test_latencies_are_compared_at_the_machine_speed_of_each_record() -> None:
    before = _record({"health": True}, {"/api/experiments": 3.0}, "t1", speed=10.0)
    # the whole machine 3x slower (other jobs on both cores): 3x the latency is no regression
    busy = compare_records(before, _record({"health": True}, {"/api/experiments": 9.6}, "t2", 30.0))
    assert not busy.rollback and "scaled by 3.00" in busy.message
    # the same latency growth on an equally fast machine is one
    same = compare_records(before, _record({"health": True}, {"/api/experiments": 9.6}, "t3"))
    assert same.rollback and "at today's machine speed" in same.reasons[0]
    # a record without a speed measurement: latencies are not compared, checks still are
    old = _record({"health": True}, {"/api/experiments": 3.0}, "t0", speed=None)
    v = compare_records(old, _record({"health": False}, {"/api/experiments": 90.0}, "t4"))
    assert v.rollback and v.reasons == ["check 'health' passed before and fails now"]
    assert v.notes == [
        "latencies not compared: the previous record has no machine-speed measurement"
    ]


def test_machine_speed_is_a_positive_median_and_validates_repeat() -> None:
    assert 0.01 < machine_speed_ms(repeat=3) < 10_000
    with pytest.raises(ValueError, match="'repeat' parameter of machine_speed_ms"):
        machine_speed_ms(repeat=1)


def test_records_append_and_rollback_rule(tmp_path: Path) -> None:
    log = tmp_path / "deployments" / "log.jsonl"
    first = _record({"health": True, "sse": True}, {"/api/experiments": 10.0}, "t1")
    assert compare_records(previous_record(log, first.target), first).previous is None
    append_record(log, first)
    other = DeploymentRecord(**{**first.__dict__, "target": "http://127.0.0.1:8", "time": "t0"})
    append_record(log, other)
    prev = previous_record(log, first.target)
    assert prev == first
    same = _record({"health": True, "sse": True}, {"/api/experiments": 12.0}, "t2")
    assert not compare_records(prev, same).rollback
    broken = _record({"health": True, "sse": False}, {"/api/experiments": 12.0}, "t3")
    v = compare_records(prev, broken)
    assert v.rollback and v.message.startswith("rollback recommended") and "'sse'" in v.message
    slow = _record({"health": True, "sse": True}, {"/api/experiments": 40.0}, "t4")
    assert compare_records(prev, slow).rollback
    # a sub-millisecond endpoint growing 5x but by < 5 ms is noise, not a regression
    fast = _record({"health": True}, {"/health": 0.8}, "t5")
    assert not compare_records(fast, _record({"health": True}, {"/health": 4.0}, "t6")).rollback
    assert json.loads(log.read_text().splitlines()[0])["time"] == "t1"
    log.write_text(log.read_text() + "not json\n")
    with pytest.raises(ValueError, match=r"line 3 is not a deployment record \(not JSON"):
        previous_record(log, first.target)


def test_record_deployment_appends_and_recommends_a_rollback(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    common: dict[str, Any] = {"target": "svc", "service_version": "1", "extra": {"k": 1}}
    first = record_deployment(
        log, **common, checks={"health": True}, latency_p95_ms={"GET /health": 2.0}
    )
    assert first.previous is None and not first.rollback
    second = record_deployment(
        log, **common, checks={"health": False}, latency_p95_ms={"GET /health": 2.0}
    )
    assert second.rollback and second.reasons == ["check 'health' passed before and fails now"]
    assert second.previous is not None and second.previous.passed
    last = previous_record(log, "svc")
    assert last is not None and not last.passed and last.extra["k"] == 1
    assert last.extra[SPEED_KEY] > 0  # measured when the record was made
    assert last.ardlib_revision and len(log.read_text().splitlines()) == 2


def test_fill_experiments_tops_up_to_n_and_never_removes(service: Any) -> None:
    service.wipe()
    with Client(service.url) as client:
        assert fill_experiments(client, 5) == 5
        assert fill_experiments(client, 3) == 0  # already enough
        assert fill_experiments(client, 8, created_by="more") == 3
        assert len(client.experiments(created_by="load-fill")) == 5
        assert len(client.experiments(created_by="more")) == 3
        with pytest.raises(ValueError, match="'n' parameter of fill_experiments"):
            fill_experiments(client, 1001)


@pytest.mark.slow  # retries through injected faults on a live server
def test_chaos_client_calls_retries_through_faults_without_duplicating_writes(
    service: Any,
) -> None:
    service.wipe()
    table = chaos_client_calls(service.url, rates=(0.0, 0.2), calls=24, seed=3, retry_after="0")
    clean, faulty = table.to_dict(orient="records")
    assert clean["success_rate"] == 1.0 and clean["retries"] == 0 and clean["injected"] == {}
    assert clean["writes"] == 6 and clean["duplicated_writes"] == 0
    assert sum(faulty["injected"].values()) > 0 and faulty["attempts"] > faulty["calls"]
    assert faulty["duplicated_writes"] == 0
    assert faulty["succeeded"] + sum(faulty["failures"].values()) == faulty["calls"]


@pytest.mark.slow  # a live server behind the fault proxy; the forwarding test stays fast
def test_proxy_client_calls_counts_connections_and_failures(service: Any) -> None:
    table = proxy_client_calls(service.url, rates=(0.0,), calls=6)
    row = table.iloc[0]
    assert row["succeeded"] == 6 and row["success_rate"] == 1.0 and row["failures"] == {}
    assert row["connections"] == 6 and row["resets"] == 0  # one connection per call
    broken = proxy_client_calls(service.url, rates=(1.0,), calls=1).iloc[0]
    assert broken["succeeded"] == 0 and sum(broken["failures"].values()) == 1
    assert broken["resets"] == broken["connections"] > 1  # every retry reset too
    with pytest.raises(ValueError, match="'base_url' parameter of proxy_client_calls"):
        proxy_client_calls("http://127.0.0.1/")


def test_latency_ecdf_draws_one_rising_line_per_endpoint() -> None:
    samples = pd.DataFrame({"endpoint": ["/a"] * 3 + ["/b"] * 2, "ms": [3.0, 1.0, 2.0, 5.0, 4.0]})
    fig = plot_latency_ecdf(samples)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines["/a"].get_xdata()) == [1.0, 2.0, 3.0]
    assert list(lines["/a"].get_ydata()) == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert list(lines["/b"].get_ydata()) == [0.5, 1.0]
    assert fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="'samples' parameter of plot_latency_ecdf"):
        plot_latency_ecdf(samples.rename(columns={"ms": "latency"}))


def test_resilience_plot_draws_both_measurements() -> None:
    chaos = pd.DataFrame({"rate": [0.0, 0.1], "success_rate": [1.0, 0.9]})
    proxy = pd.DataFrame({"fault_rate": [0.0, 0.3], "success_rate": [1.0, 0.5]})
    a, b = plot_resilience(chaos, proxy).axes[0].get_lines()
    assert list(a.get_ydata()) == [1.0, 0.9] and list(b.get_xdata()) == [0.0, 0.3]
