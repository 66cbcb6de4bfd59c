"""Pieces of the reference service that need no server: settings, the rate limiter, error
messages, context parsing, the public surface and the command line."""

from __future__ import annotations

import argparse
import inspect
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import ardlib.service
from ardlib.service import Settings
from ardlib.service._cli import add_service_parsers, run_service_command
from ardlib.service._errors import describe_validation_errors
from ardlib.service._middleware import RateLimiter
from ardlib.service._reasoning import ContextError, parse_context


def test_public_surface_is_exactly_all_documented_and_lazy() -> None:
    code = (
        "import sys, ardlib.service, ardlib.service._cli; "
        "print(sorted(m for m in ('fastapi', 'sqlalchemy', 'uvicorn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # the ardlib command can register serve cheaply
    mod = ardlib.service
    public = {
        k
        for k, v in vars(mod).items()
        if not k.startswith("_") and not inspect.ismodule(v) and k != "annotations"
    }
    public |= {k for k in mod.__all__ if getattr(mod, k, None) is not None}
    assert set(mod.__all__) == public
    assert set(mod.__all__) <= set(dir(mod))
    with pytest.raises(AttributeError, match=r"attribute '?nope"):
        _ = mod.nope
    for name in mod.__all__:
        obj = getattr(mod, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert (inspect.getdoc(obj) or "").strip(), name


def test_settings_from_environment_and_overrides() -> None:
    env = {
        "DATABASE_URL": "postgres://u:p@db:5432/ard",
        "ARDLIB_API_KEY": "k",
        "ARDLIB_CORS_ORIGINS": "https://a.example, https://b.example,",
        "ARDLIB_RATE_LIMIT": "0",
    }
    s = Settings.from_env(env)
    assert s.database_url == "postgresql+psycopg://u:p@db:5432/ard"
    assert (s.api_key, s.cors_origins, s.rate_limit_per_minute) == (
        "k",
        ("https://a.example", "https://b.example"),
        0,
    )
    s = Settings.from_env(env, api_key=None, rate_limit_per_minute=60)
    assert s.api_key == "k" and s.rate_limit_per_minute == 60  # None overrides are ignored
    d = Settings.from_env({})
    assert d.database_url == "sqlite:///ardlib-service.db" and d.api_key is None
    assert d.cors_origins == () and d.rate_limit_per_minute == 600
    with pytest.raises(ValueError, match="ARDLIB_RATE_LIMIT"):
        Settings.from_env({"ARDLIB_RATE_LIMIT": "many"})
    with pytest.raises(ValueError, match="'rate_limit_per_minute' parameter of Settings"):
        Settings(rate_limit_per_minute=-1)
    with pytest.raises(ValueError, match="'api_key' parameter of Settings"):
        Settings(api_key="")
    with pytest.raises(ValueError, match="in-memory"):
        ardlib.service.create_app(Settings(database_url="sqlite://"))


def test_rate_limiter_refills_at_the_stated_rate() -> None:
    now = [100.0]
    limiter = RateLimiter(6, clock=lambda: now[0])  # one token every 10 s, bursts of 6
    assert [limiter.acquire("a") for _ in range(6)] == [0.0] * 6
    assert limiter.acquire("a") == pytest.approx(10.0)
    assert limiter.acquire("b") == 0.0  # clients are independent
    now[0] += 4.0
    assert limiter.acquire("a") == pytest.approx(6.0)
    now[0] += 6.0
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == pytest.approx(10.0)
    now[0] += 1000.0
    assert [limiter.acquire("a") for _ in range(7)][-2:] == [0.0, pytest.approx(10.0)]


def test_validation_messages_name_each_field() -> None:
    errors = [
        {"loc": ("body", "status"), "msg": "Input should be 'pending'"},
        {"loc": ("body", "parameters", "x", 0), "msg": "bad"},
        {"loc": ("query", "limit"), "msg": "too big"},
        {"loc": ("header", "Idempotency-Key"), "msg": "too long"},
        {"loc": ("body",), "msg": "JSON decode error"},
    ]
    text = describe_validation_errors(errors)
    assert text == (
        "Invalid request: field 'status': Input should be 'pending'; "
        "field 'parameters.x[0]': bad; query parameter 'limit': too big; "
        "header 'Idempotency-Key': too long; request body: JSON decode error"
    )


@pytest.mark.parametrize(
    ("context", "named"),
    [
        ({"parameter_space": {"bounds": [[0, 1]] * 21}}, "1 to 20"),
        ({"parameter_space": {"bounds": [[0, True]]}}, "bounds[0]"),
        ({"parameter_space": {"bounds": [[-1e308, 1e308]]}}, "bounds[0]"),
        ({"parameter_space": {"bounds": [[0, 1]]}, "seed": True}, "context.seed"),
        ({"parameter_space": {"bounds": [[0, 1]]}, "observations": [1]}, "observations"),
        (
            {
                "parameter_space": {"bounds": [[0, 1]]},
                "observations": {"X": [[0.5]] * 501, "y": [1.0] * 501},
            },
            "at most 500",
        ),
    ],
)
def test_context_errors_name_the_key(context: dict[str, object], named: str) -> None:
    with pytest.raises(ContextError, match=named.replace("[", r"\[").replace("]", r"\]")):
        parse_context(context)


def test_context_parsing_keeps_failures_as_nan() -> None:
    p = parse_context(
        {
            "parameter_space": {"bounds": [[0, 1], [2, 3]]},
            "observations": {"X": [[0, 2], [1, 3]], "y": [None, 4]},
            "goal": "maximize",
            "seed": 5,
        }
    )
    assert p is not None and p.names == ("x1", "x2") and p.goal == "maximize" and p.seed == 5
    assert p.n_success == 1 and p.X.shape == (2, 2)
    assert parse_context(None) is None and parse_context({"other": 1}) is None


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ardlib")
    add_service_parsers(ap.add_subparsers(dest="cmd", required=True))
    return ap


def test_cli_parses_serve_and_seed_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(
        [
            "serve",
            "--port",
            "9",
            "--cors-origin",
            "https://a",
            "--cors-origin",
            "https://b",
            "--api-key",
            "k",
            "--rate-limit",
            "5",
        ]
    )
    assert (args.cmd, args.host, args.port, args.cors_origin) == (
        "serve",
        "127.0.0.1",
        9,
        ["https://a", "https://b"],
    )
    bad = _parser().parse_args(["serve", "--rate-limit", "-3"])
    assert run_service_command(bad) == 2
    assert "rate_limit_per_minute" in capsys.readouterr().err
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    args = _parser().parse_args(["service", "seed-demo", "--database-url", url, "--seed", "1"])
    assert (args.service_cmd, args.seed, args.keep) == ("seed-demo", 1, False)


SERVE = """
import argparse, sys
from ardlib.service._cli import add_service_parsers, run_service_command
ap = argparse.ArgumentParser(prog="ardlib")
add_service_parsers(ap.add_subparsers(dest="cmd", required=True))
sys.exit(run_service_command(ap.parse_args(sys.argv[1:])))
"""


@pytest.mark.slow  # `ardlib serve` in a subprocess; the live-server tests serve the app in-process
def test_serve_command_runs_the_service_until_interrupted(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARDLIB_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVE,
            "serve",
            "--port",
            str(port),
            "--database-url",
            url,
            "--api-key",
            "k",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "ardlib serve did not start"
                time.sleep(0.1)
        assert r.json()["status"] == "ok"
        post = httpx.post(f"http://127.0.0.1:{port}/api/experiments", json={"parameters": {}})
        assert post.status_code == 401  # --api-key turned auth on
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}" in out and "auth on" in out
    assert (tmp_path / "cli.db").exists()
