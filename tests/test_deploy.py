"""Fault injection, the chaos proxy, the load test and deployment records."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from ardlib.deploy import (
    FAULT_KINDS,
    ChaosProxy,
    DeploymentRecord,
    FaultInjectingTransport,
    append_record,
    compare_records,
    load_test,
    previous_record,
)

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


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=BODY, headers={"content-type": "application/json"})


def test_fault_schedule_is_seeded_and_hits_the_requested_share() -> None:
    def run(seed: int) -> list[str]:
        tr = FaultInjectingTransport(httpx.MockTransport(_ok), rate=0.2, rng=seed, latency=0.0)
        out = []
        with httpx.Client(transport=tr, base_url="http://test") as c:
            for _ in range(2000):
                try:
                    r = c.get("/")
                    out.append(str(r.status_code) if r.status_code != 200 else "ok")
                except httpx.HTTPError as exc:
                    out.append(type(exc).__name__)
        return out

    a, b, c = run(1), run(1), run(2)
    assert a == b and a != c
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
    with ChaosProxy(("127.0.0.1", port), reset_rate=0.5, rng=3) as p:
        ok = failed = 0
        for _ in range(40):
            try:
                ok += httpx.get(f"http://127.0.0.1:{p.port}/", timeout=5).content == BODY
            except httpx.HTTPError:
                failed += 1
        assert ok + failed == 40 and failed == p.stats.resets and 0 < failed < 40


def test_proxy_refuses_non_loopback_upstream() -> None:
    with pytest.raises(ValueError, match="must be loopback"):
        ChaosProxy(("10.0.0.1", 80))


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
def test_load_test_with_wrk_counts_requests_and_bad_statuses(server: str) -> None:
    res = load_test(server, endpoints=("/a", "/missing"), clients=4, duration=2.0)
    assert res.generator == "wrk" and res.samples.empty
    t = res.table.set_index("endpoint")
    assert (t["requests"] > 50).all()
    assert t.loc["/a", "errors"] == 0
    assert t.loc["/missing", "errors"] == t.loc["/missing", "requests"]
    assert t.loc["/missing", "statuses"]["bad status"] == t.loc["/missing", "requests"]
    assert 0 < t.loc["/a", "p50_ms"] <= t.loc["/a", "p95_ms"] <= t.loc["/a", "p99_ms"]


def _record(checks: dict[str, bool], p95: dict[str, float], time: str) -> DeploymentRecord:
    return DeploymentRecord(
        time=time,
        target="http://127.0.0.1:9",
        service_version="1",
        ardlib_revision="abc",
        checks=checks,
        latency_p95_ms=p95,
        passed=all(checks.values()),
    )


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
    with pytest.raises(ValueError, match="line 3 is not JSON"):
        previous_record(log, first.target)
