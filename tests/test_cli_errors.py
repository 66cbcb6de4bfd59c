"""Every ``ardlib`` subcommand answers bad input with one ``error:`` line and exit 2, never
a traceback or a started server; the list of subcommands comes from the parser, so a new one
needs a case.

The fast tests call :func:`ardlib.cli.main` in this process, in an empty folder, with
``uvicorn.run`` replaced by a failure (a missed check cannot start a server); the slow ones
run each case in a fresh interpreter, as a user does.  The last part covers the options of
``serve`` and ``service seed-demo``: ``--port`` and ``--database-url`` (or ``$DATABASE_URL``)
are checked while the command line is parsed, without connecting to the database.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ardlib
from ardlib import cli
from ardlib.service._cli import add_service_parsers, check_database_url

NOTEBOOKS = str(Path(__file__).resolve().parents[1] / "notebooks")
# The checkout the tests import: fresh interpreters import the same code.
SOURCE_ROOT = str(Path(ardlib.__file__).resolve().parents[1])

# One bad invocation per leaf subcommand (arguments after ``ardlib``).
CASES: dict[str, list[str]] = {
    "problems": ["problems", "--nosuch"],  # lists analytic problems when no data is found
    "report": ["report", "validation", "-p", "sentinel_budget", "abc", "--notebooks", NOTEBOOKS],
    "report-index": ["report-index", "--out", "nosuch"],
    "report-all": ["report-all", "--params-file", "nosuch.yaml", "--notebooks", NOTEBOOKS],
    "study run": ["study", "run", "--params", "nosuch.yaml"],
    "data import": ["data", "import", "--src", "/nonexistent", "--dst", "out"],
    "emulators build": ["emulators", "build", "--data", "/nonexistent", "--out", "out"],
    "smoke": ["smoke", "notaurl", "--no-browser"],
    "monitor": ["monitor", "http://127.0.0.1:9", "--duration", "10x"],
    "deploy load": ["deploy", "load", "http://192.0.2.1", "--open-loop", "--rates", "5"],
    "deploy up": ["deploy", "up", "--rev", "nosuchrev"],  # not in a git repository
    "deploy down": ["deploy", "down", "--state", "nosuch"],
    "deploy rollback": ["deploy", "rollback", "--state", "nosuch"],
    "serve": ["serve", "--port", "70000"],
    "service seed-demo": ["service", "seed-demo", "--database-url", "nosuch://x"],
    "bench list": ["bench", "list", "-k", "nosuch*"],
    "bench run": ["bench", "run", "-k", "nosuch*", "--out", "x.json"],
    "bench compare": ["bench", "compare", "nosuchrev", "HEAD"],
    "bench history": ["bench", "history", "--dir", "nosuch"],
    "bench detector": ["bench", "detector", "--pairs", "0", "--out", "x.json"],
    "bench profile": ["bench", "profile", "-k", "nosuch*", "--out", "prof"],
    "bench planners": ["bench", "planners", "--seeds", "0", "--out", "x.json"],
    "bench peers": ["bench", "peers", "--problems", "nosuch", "--out", "x.json"],
    "bench batches": ["bench", "batches", "--batch-sizes", "4", "8", "--out", "x.json"],
    "bench scaling": ["bench", "scaling", "--rounds", "0", "--out", "x.json"],
    "regress check": ["regress", "check", "--baseline", "nosuch.json"],
    "regress update": ["regress", "update", "--why", " ", "--baseline", "b.json"],
    "regress detector": ["regress", "detector", "--budget", "0", "--out", "x.json"],
    "provenance keygen": ["provenance", "keygen", "--out", "/dev/null/keys"],
    "provenance sign": ["provenance", "sign", "nosuch.whl"],
    "provenance verify": ["provenance", "verify", "nosuch.whl"],
    "testsel collect": ["testsel", "collect", "--out", "x", "--mutants", "0"],
    "testsel evaluate": ["testsel", "evaluate", "--data", "nosuch", "--out", "x.json"],
    "testsel run": ["testsel", "run", "--base", "nosuchrev", "--dry-run"],  # not a git repo
}
# Further bad invocations of a leaf's modes and options.
MODES: dict[str, list[str]] = {
    "bench peers --cold": ["bench", "peers", "--cold", "--sizes", "1", "--out", "x.json"],
    "bench peers --cold --budget": ["bench", "peers", "--cold", "--budget", "5"],
}
ALL = CASES | MODES
# Cases whose error line must name the option at fault.
NAMES = {
    "serve": "--port",
    "service seed-demo": "--database-url",
    "bench peers --cold": "'sizes'",
    "bench peers --cold --budget": "--budget",
}


def _leaves(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return [
                leaf
                for name, sub in action.choices.items()
                for leaf in _leaves(sub, (*prefix, name))
            ]
    return [" ".join(prefix)]


def _no_server(*args: object, **kwargs: object) -> None:
    raise AssertionError("bad input started a server (uvicorn.run was called)")


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working folder, no ARDLIB_*/DATABASE_URL variables, no server."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("ARDLIB_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setattr("uvicorn.run", _no_server)
    yield tmp_path


def _main(argv: list[str]) -> int:
    """``ardlib ARGV`` in this process; argparse's exit becomes the status."""
    try:
        return cli.main(list(argv))
    except SystemExit as exc:  # argparse: usage, one error line, exit 2
        return exc.code if isinstance(exc.code, int) else 1


def _error_line(err: str) -> str:
    """The single error line of ``err`` (after argparse's usage lines, if any)."""
    assert "Traceback" not in err, err[-2000:]
    lines = err.strip().splitlines()
    flagged = [i for i, line in enumerate(lines) if "error: " in line]
    assert flagged == [len(lines) - 1], err[-2000:]  # one error line, and last
    if len(lines) > 1:
        assert lines[0].startswith("usage: "), err[-2000:]  # argparse's, else one line only
    return lines[-1]


def test_every_subcommand_has_a_bad_input_case(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def capture(self: argparse.ArgumentParser, args: list[str] | None = None) -> None:
        seen.extend(_leaves(self))
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    with pytest.raises(SystemExit):
        cli.main([])
    assert sorted(seen) == sorted(CASES)


# the report case (~0.5 s, the slowest) runs in the slow tier; see test-fast in the Makefile
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n == "report" else n for n in sorted(ALL)]
)
def test_bad_input_is_one_error_line_and_exit_2(
    name: str, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = _main(ALL[name])
    line = _error_line(capsys.readouterr().err)
    assert status == 2, line
    assert NAMES.get(name, "error: ") in line
    assert not list(isolated.glob("*.json"))  # nothing half-written
    assert not list(isolated.glob("*.db"))  # no database created


@pytest.mark.slow  # a fresh interpreter per case, as a user runs it (~2 s each)
@pytest.mark.parametrize("name", sorted(ALL))
def test_bad_input_in_a_fresh_interpreter(name: str, tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("ARDLIB_") and k != "DATABASE_URL"
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SOURCE_ROOT, env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ardlib.cli", *ALL[name]],
        cwd=tmp_path,  # no data, no git, no params.yaml
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a timeout ends every process in it
    )
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        pytest.fail(f"ardlib {' '.join(ALL[name])} ran for 60 s (a server?): {err[-2000:]}")
    line = _error_line(err)
    assert proc.returncode == 2, (proc.returncode, err[-2000:])
    assert NAMES.get(name, "error: ") in line
    assert not list(tmp_path.glob("*.json"))
    assert not list(tmp_path.glob("*.db"))


# -- serve and service seed-demo: --port and --database-url ----------------------------------

EXPECTED = "expected a SQLAlchemy URL such as sqlite:///path/to/file.db or postgresql://"
COMMANDS = {"serve": ["serve"], "seed-demo": ["service", "seed-demo"]}


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ardlib")
    add_service_parsers(ap.add_subparsers(dest="cmd", required=True))
    return ap


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("port", "why"),
    [
        ("70000", "from 1 to 65535; got '70000'"),
        ("65536", "got '65536'"),
        ("-1", "got '-1'"),
        ("0", "(0, any free port, is not supported)"),
        ("abc", "got 'abc'"),
        ("80.5", "got '80.5'"),
    ],
)
def test_serve_refuses_a_port_outside_1_to_65535(
    port: str, why: str, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(["serve", "--port", port]) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith("ardlib serve: error: argument --port: expected a TCP port"), line
    assert why in line


@pytest.mark.parametrize("port", ["1", "8000", "65535"])
def test_serve_accepts_every_tcp_port(port: str) -> None:
    assert _parser().parse_args(["serve", "--port", port]).port == int(port)


BAD_URLS = [
    ("nosuch://x", "'nosuch://x' (SQLAlchemy has no database backend 'nosuch')"),
    ("not a url", "'not a url' (not a URL of the form backend://"),
    ("", "'' (not a URL"),
    ("postgresql+nosuch://db/ard", "no database backend 'postgresql+nosuch'"),
    ("sqlite://", "in-memory SQLite database"),
    ("sqlite:///:memory:", "in-memory SQLite database"),
    ("sqlite:///nosuch/dir/x.db", "(folder 'nosuch/dir' does not exist)"),
    ("sqlite:///.", "is a folder, not a SQLite file"),
]


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(("url", "why"), BAD_URLS, ids=[u or "empty" for u, _ in BAD_URLS])
def test_database_url_is_checked_while_parsing(
    command: str, url: str, why: str, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main([*COMMANDS[command], "--database-url", url]) == 2
    line = _error_line(capsys.readouterr().err)
    assert ": error: argument --database-url: " + EXPECTED in line, line
    assert why in line
    assert not list(isolated.iterdir())  # no database file


def test_database_url_hides_the_password(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(["serve", "--database-url", "postgresql+nosuch://u:s3cret@db/ard"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert "s3cret" not in line and "postgresql+nosuch://u:***@db/ard" in line
    assert _main(["serve", "--database-url", "postgresql://u:s3cret@db:port/ard"]) == 2
    line = _error_line(capsys.readouterr().err)  # unparseable (the port): masked all the same
    assert "s3cret" not in line and "'postgresql://u:***@db:port/ard' (not a URL" in line


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_database_url_from_the_environment_is_checked_too(
    command: str,
    isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", "nosuch://x")
    assert _main(COMMANDS[command]) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith("error: DATABASE_URL (used when --database-url is not given): ")
    assert EXPECTED in line and "got 'nosuch://x'" in line


def test_check_database_url_names_its_source(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert check_database_url(url) == url  # returned unchanged; the file need not exist
    assert check_database_url("sqlite:///relative.db") == "sqlite:///relative.db"
    with pytest.raises(ValueError, match=r"^MY_URL: expected a SQLAlchemy URL .*got 'nosuch://x'"):
        check_database_url("nosuch://x", "MY_URL")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:pw@db.invalid:5432/ard",
        "postgres://u:pw@db.invalid/ard",  # served as postgresql+psycopg://
        "postgresql+psycopg://db.invalid/ard",
    ],
)
def test_postgres_urls_are_accepted_without_connecting(url: str) -> None:
    pytest.importorskip("psycopg")
    assert check_database_url(url) == url  # db.invalid never resolves: nothing connected
    for command in COMMANDS.values():
        assert _parser().parse_args([*command, "--database-url", url]).database_url == url


def _record_uvicorn(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: calls.append(options))
    return calls


def test_serve_starts_on_a_valid_sqlite_url(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = _record_uvicorn(monkeypatch)
    url = f"sqlite:///{isolated / 'service.db'}"
    assert _main(["serve", "--port", "65535", "--database-url", url]) == 0
    assert [c["port"] for c in calls] == [65535]
    assert f"on http://127.0.0.1:65535 (database {url}, auth off)" in capsys.readouterr().out


def test_serve_starts_on_a_postgres_url_without_connecting(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("psycopg")
    calls = _record_uvicorn(monkeypatch)
    # The database may come up after the service (/health reports it): serve only checks.
    monkeypatch.setenv("DATABASE_URL", "postgres://u:s3cret@db.invalid/ard")
    assert _main(["serve", "--port", "8123"]) == 0
    out = capsys.readouterr().out
    assert len(calls) == 1 and "s3cret" not in out
    assert "(database postgresql+psycopg://u:***@db.invalid/ard, auth off)" in out


def test_seed_demo_passes_a_valid_url_on(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ardlib.service import _seed

    seen: list[str | None] = []

    def fake_seed_demo(url: str | None, **kwargs: object) -> Any:
        seen.append(url)
        return _seed.SeedReport(
            n_runs=0, n_experiments=0, n_ai_queries=0, problems=(), skipped=(), seconds=0.0
        )

    monkeypatch.setattr(_seed, "seed_demo", fake_seed_demo)
    url = f"sqlite:///{isolated / 'demo.db'}"
    assert _main(["service", "seed-demo", "--database-url", url]) == 0
    monkeypatch.setenv("DATABASE_URL", "postgres://u:pw@db.invalid/ard")
    assert _main(["service", "seed-demo"]) == 0  # checked, normalized, never connected
    assert seen == [url, "postgresql+psycopg://u:pw@db.invalid/ard"]
    assert "seeded 0 optimization runs" in capsys.readouterr().out


def test_seed_demo_on_an_unreachable_database_is_one_error_line(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://u:s3cret@127.0.0.1:{_closed_port()}/ard"
    assert _main(["service", "seed-demo", "--database-url", url]) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith("error: --database-url: cannot use the database postgresql://u:***@")
    assert "s3cret" not in line
    monkeypatch.setenv("ARDLIB_DEBUG", "1")  # the traceback, for whoever needs it
    from sqlalchemy.exc import OperationalError

    with pytest.raises(OperationalError):
        _main(["service", "seed-demo", "--database-url", url])


@pytest.mark.slow  # really runs the demo campaigns (~1.5 s)
def test_seed_demo_fills_a_valid_sqlite_file(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = isolated / "demo.db"
    assert _main(["service", "seed-demo", "--database-url", f"sqlite:///{path}"]) == 0
    out = capsys.readouterr().out
    with sqlite3.connect(path) as conn:
        n_runs = conn.execute("SELECT count(*) FROM optimization_runs").fetchone()[0]
    assert n_runs > 0 and f"seeded {n_runs} optimization runs" in out
