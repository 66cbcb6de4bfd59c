"""Read protection (issue 14, part 2): ``ardlib serve --api-key K --protect-reads``.

Against live services on loopback: the listings need the key (the write key or the read
key), ``/health`` and the dashboard's files stay open, writes still need the write key;
the settings, the environment and the command refuse protection without a key; the smoke
checks cover a protected service, and the dashboard draws in headless Chromium once the key
is in its ``sessionStorage`` (asking for it with a form when it is not).
"""

from __future__ import annotations

import hmac
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from ardlib.cli import main as ardlib_main
from ardlib.client import Client
from ardlib.deploy import smoke
from ardlib.deploy._browser import CHROMIUM_ARGS, check_dashboard
from ardlib.deploy._smoke_checks import Probe, check_read_protection
from ardlib.service import Settings, create_app
from ardlib.service._cli import _environment

if TYPE_CHECKING:
    from conftest_service import LiveServer

# The shared fixtures (serve_app, settings_for, allowed_origin, ...), loaded explicitly.
pytest_plugins = ["conftest_service"]

KEY = "write-key-1"
READ_KEY = "read-key-1"
LISTINGS = ("/api/experiments", "/api/optimization_runs", "/api/ai_queries")
OPEN_FILES = ("/analytics.html", "/static/analytics.js", "/static/analytics.css")
UNAUTHORIZED = {"error": "Unauthorized", "code": "unauthorized"}
EXPERIMENT = {"parameters": {"x": 0.5}, "status": "completed", "method": "sobol"}
RUN = {
    "method": "bayesian_optimization",
    "objective": "branin",
    "status": "completed",
    "results": {"best_so_far": [3.0, 2.0, 1.5, 1.2]},
}
CONTEXT = {
    "parameter_space": {"bounds": [[0, 1], [0, 1]]},
    "observations": {"X": [[0.1, 0.2], [0.5, 0.5], [0.9, 0.1]], "y": [1.0, 0.2, 0.8]},
}


def key(value: str) -> dict[bytes, bytes]:
    """The header as a client sends it (UTF-8 bytes)."""
    return {b"X-API-Key": value.encode()}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'service.db'}"


@pytest.fixture(scope="module")
def protected_server(
    serve_app: Any, settings_for: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A live service protecting reads, with a write key and a read key; shared by the
    module's tests (starting and stopping a server costs ~0.3 s each)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('protected') / 'service.db'}"
    settings = settings_for(url, api_key=KEY, protect_reads=True, read_key=READ_KEY)
    with serve_app(create_app(settings)) as server:
        yield server


@pytest.fixture
def protected(protected_server: LiveServer) -> str:
    """The shared protected service's URL, its tables just emptied."""
    protected_server.wipe()
    return protected_server.url


# -- the service -----------------------------------------------------------------------------


def test_listings_need_a_key_when_reads_are_protected(protected: str) -> None:
    with httpx.Client(base_url=protected) as c:
        for path in LISTINGS:
            for headers in ({}, key("wrong"), key(KEY[:-1]), key("ключ"), key("")):
                r = c.get(path, headers=headers)
                assert (r.status_code, r.json()) == (401, UNAUTHORIZED), (path, headers)
                assert r.headers["x-content-type-options"] == "nosniff"
            assert c.get(path, headers=key(KEY)).status_code == 200, path
            assert c.get(path, headers=key(READ_KEY)).status_code == 200, path
        # The key is checked before the query: an anonymous bad query learns nothing.
        assert c.get("/api/experiments", params={"limit": 0}).status_code == 401
        assert c.get("/api/experiments", params={"limit": 0}, headers=key(KEY)).status_code == 422


def test_health_and_the_dashboard_files_stay_open(protected: str) -> None:
    with httpx.Client(base_url=protected) as c:
        assert c.get("/health").json()["status"] == "ok"
        for path in OPEN_FILES:
            assert c.get(path).status_code == 200, path
        assert c.get("/", follow_redirects=True).status_code == 200
        listing = c.get("/openapi.json").json()["paths"]["/api/experiments"]["get"]
        assert listing["security"] == [{"APIKeyHeader": []}] and "401" in listing["responses"]


def test_writes_and_reasoning_need_the_write_key_not_the_read_key(protected: str) -> None:
    with httpx.Client(base_url=protected, timeout=60) as c:
        for headers in ({}, key(READ_KEY)):
            assert c.post("/api/experiments", json=EXPERIMENT, headers=headers).status_code == 401
            assert c.post("/api/optimization_runs", json=RUN, headers=headers).status_code == 401
            r = c.post("/api/reasoning/query", json={"query": "next?"}, headers=headers)
            assert (r.status_code, r.json()) == (401, UNAUTHORIZED)
        assert c.post("/api/experiments", json=EXPERIMENT, headers=key(KEY)).status_code == 201
        r = c.post("/api/reasoning/query", json={"query": "next?"}, headers=key(KEY))
        assert r.status_code == 200 and "event: done" in r.text
        listed = c.get("/api/experiments", headers=key(READ_KEY)).json()
        assert listed["count"] == 1 and listed["experiments"][0]["method"] == "sobol"


def test_without_protect_reads_the_listings_stay_open(
    sqlite_url: str, serve_app: Any, settings_for: Any
) -> None:
    with (
        serve_app(create_app(settings_for(sqlite_url, api_key=KEY))) as server,
        httpx.Client(base_url=server.url) as c,
    ):
        for path in LISTINGS:
            assert c.get(path).status_code == 200, path
        assert c.post("/api/experiments", json=EXPERIMENT).status_code == 401
        schema = c.get("/openapi.json").json()["paths"]["/api/experiments"]["get"]
        assert "security" not in schema and "401" not in schema["responses"]


def test_every_accepted_key_is_compared_in_constant_time(
    protected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    with httpx.Client(base_url=protected) as c:
        assert c.get("/api/experiments", headers=key(KEY)).status_code == 200
        # Both keys compared even though the first matched: no early exit on reads.
        assert sorted(b for _, b in calls) == sorted([KEY.encode(), READ_KEY.encode()])
        calls.clear()
        assert c.post("/api/experiments", json=EXPERIMENT, headers=key("x")).status_code == 401
        assert [b for _, b in calls] == [KEY.encode()]  # writes: the write key only


# -- configuration ---------------------------------------------------------------------------


def test_settings_refuse_protection_without_a_key(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match=r"^--protect-reads needs --api-key \(or ARDLIB_API_KEY\)"):
        Settings(database_url=sqlite_url, protect_reads=True)
    with pytest.raises(ValueError, match="--read-key needs --protect-reads"):
        Settings(database_url=sqlite_url, api_key=KEY, read_key=READ_KEY)
    with pytest.raises(ValueError, match="'read_key' parameter of Settings must differ"):
        Settings(database_url=sqlite_url, api_key=KEY, protect_reads=True, read_key=KEY)
    with pytest.raises(ValueError, match="'read_key' parameter of Settings must be a non-empty"):
        Settings(database_url=sqlite_url, api_key=KEY, protect_reads=True, read_key="")
    with pytest.raises(ValueError, match="'protect_reads' parameter of Settings must be a bool"):
        Settings(database_url=sqlite_url, api_key=KEY, protect_reads="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("word", "expected"),
    [("1", True), ("true", True), ("ON", True), ("yes", True), ("0", False), ("off", False),
     ("", False)],
)  # fmt: skip
def test_the_environment_variable_reads_yes_and_no(word: str, expected: bool) -> None:
    env = {"ARDLIB_API_KEY": KEY, "ARDLIB_PROTECT_READS": word}
    assert Settings.from_env(env).protect_reads is expected


def test_the_environment_round_trips_to_worker_processes(sqlite_url: str) -> None:
    env = {"ARDLIB_API_KEY": KEY, "ARDLIB_PROTECT_READS": "1", "ARDLIB_READ_KEY": READ_KEY}
    settings = Settings.from_env(env, database_url=sqlite_url)
    assert (settings.protect_reads, settings.read_key) == (True, READ_KEY)
    assert Settings.from_env(_environment(settings)) == settings  # what --workers hands over
    with pytest.raises(ValueError, match="ARDLIB_PROTECT_READS must be one of"):
        Settings.from_env({"ARDLIB_API_KEY": KEY, "ARDLIB_PROTECT_READS": "maybe"})
    # A command-line option that was not given leaves the environment's choice alone.
    assert Settings.from_env(env, protect_reads=None).protect_reads is True


@pytest.mark.parametrize("via_env", [False, True])
def test_serve_refuses_to_start_protecting_reads_without_a_key(
    via_env: bool, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.delenv("ARDLIB_API_KEY", raising=False)
    monkeypatch.delenv("ARDLIB_READ_KEY", raising=False)
    argv = ["serve", "--database-url", sqlite_url, "--port", "1"]
    if via_env:
        monkeypatch.setenv("ARDLIB_PROTECT_READS", "1")
    else:
        monkeypatch.delenv("ARDLIB_PROTECT_READS", raising=False)
        argv.append("--protect-reads")
    assert ardlib_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --protect-reads needs --api-key")


# -- the smoke checks ------------------------------------------------------------------------


def names(report: Any) -> dict[str, Any]:
    return {c.name: c for c in report.checks}


def test_smoke_with_the_key_passes_a_protected_service(protected: str, allowed_origin: str) -> None:
    report = smoke(
        protected, api_key=KEY, browser=False, n_requests=2,
        origins=(allowed_origin, "https://evil.test"),
    )  # fmt: skip
    assert report.passed, report.render()
    check = names(report)["read protection"]
    assert check.status == "PASS"
    assert check.detail == "GET /api/experiments without the key: 401 (reads protected)"
    assert report.status_counts.get(401) == 1  # only the probe sent without the key


def test_smoke_without_the_key_fails_the_listings_saying_why(
    protected: str, allowed_origin: str
) -> None:
    report = smoke(
        protected, browser=False, n_requests=2, origins=(allowed_origin, "https://evil.test")
    )
    checks = names(report)
    for path in LISTINGS:
        assert checks[f"GET {path}"].status == "FAIL"
        assert checks[f"GET {path}"].detail == (
            "401 Unauthorized: reads need --api-key (the service protects its listings)"
        )
    assert checks["read protection"].status == "SKIP"
    assert checks["reasoning stream"].detail == "401 Unauthorized: needs --api-key"
    assert not report.passed


def test_smoke_with_the_read_key_reads_but_cannot_reason(protected: str) -> None:
    report = smoke(protected, api_key=READ_KEY, browser=False, n_requests=2)
    checks = names(report)
    assert all(checks[f"GET {path}"].passed for path in LISTINGS)
    assert checks["read protection"].passed
    assert checks["reasoning stream"].detail == "401 Unauthorized: the API key was rejected"


def test_smoke_with_a_key_on_open_reads_skips_the_protection_check(
    sqlite_url: str, serve_app: Any, settings_for: Any
) -> None:
    with serve_app(create_app(settings_for(sqlite_url, api_key=KEY))) as server:
        report = smoke(server.url, api_key=KEY, browser=False, n_requests=2)
    check = names(report)["read protection"]
    assert check.status == "SKIP" and "200 (the service does not protect reads)" in check.detail
    assert report.passed, report.render()


def test_the_protection_probe_fails_on_an_unexpected_status() -> None:
    seen: list[httpx.Request] = []

    def broken(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(403, json={"error": "Forbidden"})

    with Client("http://svc.test", transport=httpx.MockTransport(broken)) as client:
        passed, detail = check_read_protection(Probe(client, lambda: 0.0, "k"))
        assert passed is False and "status 403 (expected 401, or 200" in detail
        assert "x-api-key" not in seen[0].headers  # the probe really leaves the key out
        keyed = Client("http://svc.test", "k", transport=httpx.MockTransport(broken))
        passed, detail = check_read_protection(Probe(keyed, lambda: 0.0, "k"))
        assert passed is None and "sends its own key" in detail
        keyed.close()


# -- the dashboard in a real browser ---------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
needs_browser = pytest.mark.skipif(
    not CHROMIUM.is_file() or importlib.util.find_spec("playwright") is None,
    reason=f"needs Debian's chromium at {CHROMIUM} and playwright (ardlib[browser])",
)


def fill(url: str) -> None:
    """One record of each kind, so that every chart has something to draw."""
    with httpx.Client(base_url=url, headers=key(KEY), timeout=60) as c:
        run = c.post("/api/optimization_runs", json=RUN).json()
        for status in ("completed", "failed"):
            body = {**EXPERIMENT, "status": status, "optimization_run_id": run["id"]}
            assert c.post("/api/experiments", json=body).status_code == 201
        query = {"query": "next?", "context": CONTEXT}
        assert c.post("/api/reasoning/query", json=query).status_code == 200


@needs_browser
@pytest.mark.slow  # a browser launch each
def test_smoke_draws_the_protected_dashboard_with_the_key(
    protected: str, allowed_origin: str
) -> None:
    fill(protected)
    report = smoke(protected, api_key=KEY, n_requests=2, origins=(allowed_origin, "https://x.test"))
    assert report.passed, report.render()
    dashboard = names(report)["dashboard in browser"]
    assert dashboard.detail.startswith("5 of 5 charts drawn with data;"), dashboard.detail
    blocked = check_dashboard(f"{protected}/analytics.html")
    assert not blocked.passed and not blocked.skipped
    assert "HTTP 401" in blocked.reason


@needs_browser
@pytest.mark.slow  # a browser launch
def test_the_dashboard_asks_for_the_key_once_and_keeps_it_in_session_storage(
    protected: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    fill(protected)
    page_url = f"{protected}/analytics.html"
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=list(CHROMIUM_ARGS),
        )  # fmt: skip
        try:
            page = context.pages[0] if context.pages else context.new_page()
            sent: list[dict[str, str]] = []
            page.on("request", lambda r: sent.append({"url": r.url, **r.headers}))
            page.goto(page_url)
            page.wait_for_selector('body[data-ready="true"]', state="attached")
            assert page.is_visible("#key-form")
            page.fill("#key-input", "wrong")
            page.click("#key-form button")
            page.wait_for_selector('body[data-ready="true"]', state="attached")
            assert "not accepted" in page.inner_text("#key-message")
            page.fill("#key-input", KEY)
            page.click("#key-form button")
            page.wait_for_selector('body[data-ready="true"]', state="attached")
            assert not page.is_visible("#key-form")
            assert page.get_attribute("#chart-methods", "data-state") == "drawn"
            assert page.evaluate("() => document.body.dataset.error ?? null") is None
            assert page.evaluate("() => sessionStorage.getItem('ardlib-api-key')") == KEY
            assert page.evaluate("() => localStorage.length") == 0
            page.reload()  # the same tab keeps the key: no second prompt
            page.wait_for_selector('body[data-ready="true"]', state="attached")
            assert not page.is_visible("#key-form")
        finally:
            context.close()
    assert all(KEY not in r["url"] and "wrong" not in r["url"] for r in sent)
    listings = [r for r in sent if "/api/" in r["url"]]
    assert any(r.get("x-api-key") == KEY for r in listings)
