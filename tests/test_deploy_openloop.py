"""Open-loop load: seeded arrival schedules, latency from the scheduled time (queueing at a
saturated server and at the client's connection limit both count), the achieved rate at a
low target, the search for the sustainable rate, and ``ardlib deploy load``."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
from scipy import stats

from ardlib.cli import main
from ardlib.deploy import ChaosProxy, arrival_times, open_loop_load, plot_open_loop

matplotlib.use("Agg")
pytest.importorskip("fastapi", reason="the service extra is not installed")
pytest_plugins = ["conftest_service"]

SERVICE_S = 0.01  # the serial server's time per request


class _Serial(http.server.BaseHTTPRequestHandler):
    """One request at a time (HTTPServer without threads), SERVICE_S each, then close."""

    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        time.sleep(SERVICE_S)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _SerialServer(http.server.HTTPServer):
    request_queue_size = 512  # a deep accept queue: no SYN is dropped, requests wait


@pytest.fixture(scope="module")
def serial() -> Iterator[str]:
    srv = _SerialServer(("127.0.0.1", 0), _Serial)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    thread.join()
    srv.server_close()


@pytest.fixture(scope="module")
def service(
    serve_app: Any, settings_for: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    from ardlib.service import create_app

    db = tmp_path_factory.mktemp("openloop") / "service.db"
    with serve_app(create_app(settings_for(f"sqlite:///{db}"))) as live:
        yield live


def test_arrival_schedules_are_exact_or_seeded_poisson() -> None:
    assert arrival_times(4, 1.0, arrivals="constant").tolist() == [0, 0.25, 0.5, 0.75]
    assert arrival_times(0.1, 1.0, arrivals="constant").tolist() == [0.0]  # at least one
    a, b = arrival_times(50, 100, rng=7), arrival_times(50, 100, rng=7)
    assert np.array_equal(a, b) and not np.array_equal(a, arrival_times(50, 100, rng=8))
    assert a[0] == 0 and np.all(np.diff(a) > 0) and a[-1] < 100
    # 5000 expected arrivals: the count within 4 sd, the gaps exponential with mean 1/50
    assert abs(len(a) - 5000) < 4 * np.sqrt(5000)
    assert stats.kstest(np.diff(a), stats.expon(scale=1 / 50).cdf).pvalue > 1e-3
    with pytest.raises(ValueError, match="'arrivals' parameter of arrival_times must be one of"):
        arrival_times(1, 1, arrivals="burst")


@pytest.mark.slow  # open-loop load for wall-clock seconds
def test_latency_counts_queueing_at_a_saturated_server_and_the_search_stops_there(
    serial: str,
) -> None:
    # Capacity 1 / SERVICE_S = 100/s.  At 400/s for 0.15 s the 60 requests are all sent on
    # time but served one by one, so request i ends near (i + 1) * 10 ms while it was due at
    # i * 2.5 ms: its latency grows by 7.5 ms per request.  A measurement from when a
    # closed-loop client got its answer would report ~10 ms for every request.
    result = open_loop_load(
        serial,
        rates=[5, 400],
        duration=0.15,
        arrivals="constant",
        endpoints=["/x"],
        p99_bound=0.1,
        refine=1,
    )
    t = result.table.set_index("target_rps")
    assert t["phase"].tolist() == ["scan", "scan", "bisect"] and t.index[-1] == 202.5
    assert bool(t.loc[5, "sustainable"]) and t.loc[5, "p99_ms"] < 100
    hot = result.samples[result.samples["target_rps"] == 400].sort_values("i")
    assert len(hot) == 60 and (hot["status"] == 200).all()
    due = hot["i"].to_numpy()
    ideal = 1e3 * ((due + 1) * SERVICE_S - due / 400)  # queueing delay + service time
    latency = hot["latency_ms"].to_numpy()
    # sent about on time (tens of ms late on a busy machine): the generator did not wait for
    # answers, which would have made the last requests ~400 ms late
    assert hot["lag_ms"].max() < latency[-1] / 4
    assert np.all(latency >= 0.9 * ideal - 5)
    assert np.corrcoef(due, latency)[0, 1] > 0.95 and latency[-1] > 400
    assert t.loc[400, "p99_ms"] > 400 and not t.loc[400, "sustainable"]
    assert t.loc[400, "achieved_rps"] < 150  # the server's capacity, not the target
    # the bisection's midpoint (202.5/s, twice the capacity) fails too
    assert result.sustainable_rps == 5 and result.first_failing_rps == 202.5
    fig = plot_open_loop(result)
    assert [line.get_label() for line in fig.axes[0].get_lines()][:3] == ["p50", "p95", "p99"]


@pytest.mark.slow  # open-loop load for wall-clock seconds
def test_waiting_for_a_connection_behind_a_slowed_proxy_counts(service: Any) -> None:
    # One connection through a proxy delaying every response chunk by 50 ms: requests due
    # every 25 ms queue for the connection; wire_ms (from getting it) misses that wait.
    port = int(service.url.rsplit(":", 1)[1])
    with ChaosProxy(("127.0.0.1", port), latency_rate=1.0, latency=0.05) as proxy:
        result = open_loop_load(
            f"http://127.0.0.1:{proxy.port}",
            rates=[40],
            duration=0.25,
            arrivals="constant",
            endpoints=["/health"],
            max_connections=1,
        )
    s = result.samples.sort_values("i")
    assert len(s) == 10 and (s["status"] == 200).all()
    assert (s["wire_ms"] >= 50).all() and (s["latency_ms"] >= s["wire_ms"]).all()
    waited = (s["latency_ms"] - s["wire_ms"]).to_numpy()
    assert waited[-1] > waited[0] + 120 and np.corrcoef(np.arange(10), waited)[0, 1] > 0.8
    assert result.table["p99_ms"].iloc[0] > result.table["wire_p99_ms"].iloc[0] + 150


@pytest.mark.slow  # open-loop load for wall-clock seconds
def test_a_low_rate_is_achieved_on_the_reference_service(service: Any) -> None:
    result = open_loop_load(service.url, rates=[20], duration=1.0, arrivals="constant")
    row = result.table.iloc[0]
    assert row["requests"] == 20 and row["errors"] == 0 and row["statuses"] == {200: 20}
    assert abs(row["achieved_rps"] - 20) <= 2 and row["lag_p99_ms"] < 200
    assert result.sustainable_rps == 20 and result.first_failing_rps is None
    assert set(result.samples["endpoint"]) == {
        "/api/experiments",
        "/api/optimization_runs",
        "/api/ai_queries",
    }


def test_open_loop_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="'base_url' parameter of open_loop_load must be loopback"):
        open_loop_load("http://192.0.2.1", rates=[1])
    with pytest.raises(ValueError, match="'rates' parameter of open_loop_load must be a finite"):
        open_loop_load("http://127.0.0.1:9", rates=[10, -1])
    with pytest.raises(ValueError, match="needs at least one rate"):
        open_loop_load("http://127.0.0.1:9", rates=[])
    with pytest.raises(ValueError, match="'duration' parameter must be a duration"):
        open_loop_load("http://127.0.0.1:9", rates=[1], duration="0s")


@pytest.mark.slow  # open-loop load for wall-clock seconds
def test_deploy_load_command_reports_the_sustainable_rate(
    serial: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "load.json"
    status = main(
        [
            "deploy",
            "load",
            serial,
            "--open-loop",
            "--rates",
            "5,20",
            "--duration",
            "0.2s",
            "--endpoint",
            "/x",
            "--json",
            str(out),
            "--require-rps",
            "20",
            "--seed",
            "3",
        ]
    )
    text = capsys.readouterr().out
    assert status == 0, text
    assert "sustainable rate (p99 < 2 s, no errors): 20/s (every rate passed" in text
    data = json.loads(out.read_text())
    assert data["sustainable_rps"] == 20 and [r["target_rps"] for r in data["table"]] == [5, 20]
    assert (
        main(
            [
                "deploy",
                "load",
                serial,
                "--open-loop",
                "--rates",
                "5",
                "--duration",
                "0.1s",
                "--endpoint",
                "/x",
                "--require-rps",
                "10",
            ]
        )
        == 1
    )
    closed = ["deploy", "load", serial, "--clients", "2", "--duration", "0.3s", "--endpoint", "/x"]
    assert main([*closed, "--generator", "threads"]) == 0
    assert "2 clients (threads)" in capsys.readouterr().out
    assert main(["deploy", "load", serial, "--rates", "5"]) == 2
    assert "--rates, --require-rps and --api-key need --open-loop" in capsys.readouterr().err
