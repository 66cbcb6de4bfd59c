"""Auth, rate limiting, CORS, security headers, request ids and failure modes of the
reference service, against live servers."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from ardlib.service import create_app
from ardlib.service._middleware import SECURITY_HEADERS

# The shared fixtures (api, api_server, backend, postgres, ...), loaded explicitly.
pytest_plugins = ["conftest_service"]

KEY = "s3cret-key"


def _assert_security_headers(r: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, (r.status_code, name)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "max-age=" in r.headers["strict-transport-security"]
    assert "x-request-id" in r.headers


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'service.db'}"


def test_auth_guards_writes_and_reasoning_but_not_reads(
    sqlite_url: str, serve_app: Any, settings_for: Any
) -> None:
    app = create_app(settings_for(sqlite_url, api_key=KEY))
    with serve_app(app) as server, httpx.Client(base_url=server.url) as c:
        for path in ("/health", "/api/experiments", "/api/optimization_runs", "/api/ai_queries"):
            assert c.get(path).status_code == 200, path
        body = {"parameters": {"x": 1}}
        for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": "ключ".encode()}):
            r = c.post("/api/experiments", json=body, headers=headers)
            assert r.status_code == 401
            assert r.json() == {"error": "Unauthorized", "code": "unauthorized"}
            _assert_security_headers(r)
        # Auth is checked before the body: an anonymous bad body is 401, not 422.
        assert c.post("/api/experiments", json={"status": "?"}).status_code == 401
        assert c.post("/api/optimization_runs", json={"method": "sobol"}).status_code == 401
        r = c.post("/api/reasoning/query", json={"query": "next?"})
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
        assert c.get("/api/experiments").json()["count"] == 0
        assert c.get("/api/ai_queries").json()["count"] == 0

        ok = {"X-API-Key": KEY}
        assert c.post("/api/experiments", json=body, headers=ok).status_code == 201
        assert (
            c.post("/api/optimization_runs", json={"method": "sobol"}, headers=ok).status_code
            == 201
        )
        r = c.post("/api/reasoning/query", json={"query": "next?"}, headers=ok)
        assert r.status_code == 200 and "event: done" in r.text
        schema = c.get("/openapi.json").json()
        assert schema["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"


def test_without_an_api_key_setting_auth_is_off(api: httpx.Client) -> None:
    assert api.post("/api/experiments", json={"parameters": {}}).status_code == 201
    assert "securitySchemes" not in api.get("/openapi.json").json().get("components", {})


def test_rate_limit_answers_429_with_retry_after(
    sqlite_url: str, serve_app: Any, settings_for: Any
) -> None:
    app = create_app(settings_for(sqlite_url, rate_limit_per_minute=5, api_key=KEY))
    with serve_app(app) as server, httpx.Client(base_url=server.url) as c:
        codes = [c.get("/api/experiments").status_code for _ in range(5)]
        assert codes == [200] * 5
        r = c.get("/api/experiments")
        assert r.status_code == 429
        assert r.json() == {"error": "Too Many Requests", "code": "rate_limited"}
        assert re.fullmatch(r"[0-9]+", r.headers["retry-after"])
        assert 1 <= int(r.headers["retry-after"]) <= 12  # one token per 12 s at 5/min
        _assert_security_headers(r)
        assert c.post("/api/experiments", json={"parameters": {}}).status_code == 429
        # Health checks are never limited; a client with the valid key has its own budget.
        assert c.get("/health").status_code == 200
        assert c.get("/api/experiments", headers={"X-API-Key": KEY}).status_code == 200
        assert c.get("/api/experiments", headers={"X-API-Key": "other"}).status_code == 429


def test_cors_allows_configured_origins_only(api: httpx.Client, allowed_origin: str) -> None:
    pre = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-api-key,idempotency-key",
    }
    r = api.options("/api/experiments", headers={"Origin": allowed_origin, **pre})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == allowed_origin
    allowed = r.headers["access-control-allow-headers"].lower()
    assert {"x-api-key", "idempotency-key", "content-type"} <= set(allowed.split(", "))
    assert "POST" in r.headers["access-control-allow-methods"]
    _assert_security_headers(r)

    r = api.options("/api/experiments", headers={"Origin": "http://evil.example", **pre})
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers
    assert r.json()["code"] == "cors_rejected" and "origin" in r.json()["error"]
    _assert_security_headers(r)

    r = api.get("/api/experiments", headers={"Origin": allowed_origin})
    assert r.headers["access-control-allow-origin"] == allowed_origin
    assert "x-request-id" in r.headers["access-control-expose-headers"].lower()
    r = api.get("/api/experiments", headers={"Origin": "http://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


def test_every_response_carries_security_headers_and_json_errors(
    sqlite_url: str, caplog: pytest.LogCaptureFixture, serve_app: Any, settings_for: Any
) -> None:
    app = create_app(settings_for(sqlite_url, max_body_bytes=1000))

    def boom() -> None:
        raise RuntimeError("kaboom")

    app.add_api_route("/boom", boom)
    with serve_app(app) as server, httpx.Client(base_url=server.url) as c:
        ok = c.get("/health")
        missing = c.get("/nope")
        invalid = c.get("/api/experiments", params={"limit": 0})
        wrong_method = c.get("/api/reasoning/query")
        too_big = c.post("/api/experiments", json={"parameters": {"x": "a" * 5000}})
        chunks = iter([b'{"parameters": {"x": "', b"a" * 3000, b'"}}'])  # no Content-Length
        too_big_chunked = c.post(
            "/api/experiments", content=chunks, headers={"content-type": "application/json"}
        )
        with caplog.at_level(logging.ERROR, logger="ardlib.service"):
            crash = c.get("/boom")
        after = c.get("/health")
    expected = [
        (ok, 200, None),
        (missing, 404, "not_found"),
        (invalid, 422, "validation_error"),
        (wrong_method, 405, "method_not_allowed"),
        (too_big, 413, "payload_too_large"),
        (too_big_chunked, 413, "payload_too_large"),
        (crash, 500, "internal_error"),
    ]
    for r, status, code in expected:
        assert r.status_code == status
        _assert_security_headers(r)
        if code is not None:
            assert r.headers["content-type"].startswith("application/json")
            assert r.json()["code"] == code and r.json()["error"]
    assert crash.json() == {"error": "Internal Server Error", "code": "internal_error"}
    assert "kaboom" not in crash.text  # details go to the log, not to the client
    assert any("kaboom" in (rec.exc_text or "") or rec.exc_info for rec in caplog.records)
    assert after.status_code == 200  # the server survived


def test_request_id_is_echoed_when_sane_and_made_otherwise(api: httpx.Client) -> None:
    assert api.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    made = api.get("/health", headers={"X-Request-ID": "no spaces; please"}).headers
    assert re.fullmatch(r"[0-9a-f]{32}", made["x-request-id"])
    assert api.get("/nope").headers["x-request-id"] != api.get("/nope").headers["x-request-id"]


@pytest.mark.parametrize("down", ["sqlite", "postgresql"])
def test_health_degrades_and_data_calls_503_when_the_database_is_down(
    down: str, tmp_path: Path, serve_app: Any, settings_for: Any
) -> None:
    if down == "sqlite":
        url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    else:
        import socket

        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/none"
    with (
        serve_app(create_app(settings_for(url)), healthy=False) as server,
        httpx.Client(base_url=server.url) as c,
    ):
        r = c.get("/health")
        assert r.status_code == 503
        assert r.json()["status"] == "degraded" and r.json()["database"] == "unavailable"
        _assert_security_headers(r)
        for r in (c.get("/api/experiments"), c.post("/api/experiments", json={"parameters": {}})):
            assert r.status_code == 503
            assert r.json()["code"] == "database_unavailable"
            assert r.headers["retry-after"] == "1"
            _assert_security_headers(r)


def test_dashboard_and_static_files_are_served_from_the_static_dir(
    sqlite_url: str, tmp_path: Path, serve_app: Any, settings_for: Any
) -> None:

    static = tmp_path / "static"
    static.mkdir()
    (static / "analytics.html").write_text("<!doctype html><title>ARD</title>")
    (static / "analytics.js").write_text("console.log(1);")
    app = create_app(settings_for(sqlite_url), static_dir=static)
    with serve_app(app) as server, httpx.Client(base_url=server.url) as c:
        page = c.get("/analytics.html")
        assert page.status_code == 200 and page.text.startswith("<!doctype html>")
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        _assert_security_headers(page)
        js = c.get("/static/analytics.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        # service.db sits beside the static dir: no traversal may reach it.
        for path in ("/static/nope.js", "/static/%2e%2e/service.db", "/static/..%2Fservice.db"):
            r = c.get(path)
            assert r.status_code == 404 and r.json()["code"] == "not_found", path
        assert c.get("/", follow_redirects=False).headers["location"] == "/analytics.html"
        assert "/analytics.html" not in c.get("/openapi.json").json()["paths"]
    app = create_app(settings_for(sqlite_url), static_dir=tmp_path / "absent")
    with serve_app(app) as server, httpx.Client(base_url=server.url) as c:
        for path in ("/analytics.html", "/static/analytics.js"):
            r = c.get(path)
            assert r.status_code == 404 and r.json()["code"] == "not_found"
            _assert_security_headers(r)
