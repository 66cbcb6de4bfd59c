"""``ardlib deploy up|down|rollback``: a revision that breaks the service is rolled back to
the last passing one, on the same port and database, with the data intact.

The slow test works in a clone of this repository with commit A (HEAD) and commit B (A with
``GET /api/optimization_runs`` answering 500), through the command line as a user runs it;
the fast ones cover the argument errors and the choice of the revision to roll back to.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from ardlib import cli
from ardlib.deploy import (
    DeploymentRecord,
    append_record,
    deploy_revision,
    previous_passing_record,
    rollback,
    stop_deployment,
)
from ardlib.deploy._background import is_running
from ardlib.deploy._service import _free_port

REPO = Path(__file__).resolve().parents[1]
TARGET = "http://127.0.0.1:8123"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def _record(
    rev: str, passed: bool, *, target: str = TARGET, deployed: bool = True
) -> DeploymentRecord:
    extra = {"deployment": {"revision": rev, "how": "worktree"}} if deployed else {}
    return DeploymentRecord(
        time=f"2025-01-01T00:00:0{len(rev) % 10}+00:00",
        target=target,
        service_version="1",
        ardlib_revision=rev,
        checks={"health": passed},
        latency_p95_ms={},
        passed=passed,
        extra=extra,
    )


def test_previous_passing_record_skips_failures_other_targets_and_plain_smoke(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log.jsonl"
    assert previous_passing_record(log, TARGET) is None  # no log yet
    good = _record("a" * 40, True)
    rows = [
        good,
        _record("b" * 40, True, target="http://127.0.0.1:9"),  # another target
        _record("c" * 40, True, deployed=False),  # `ardlib smoke`, not a deployed revision
        _record("d" * 40, False),  # failed
    ]
    for r in rows:
        append_record(log, r)
    assert previous_passing_record(log, TARGET) == good
    newer = _record("e" * 40, True)
    append_record(log, newer)
    assert previous_passing_record(log, TARGET) == newer
    assert previous_passing_record(log, TARGET, before=newer.id) == good  # not itself
    assert previous_passing_record(log, TARGET, before=good.id) is None
    log.write_text(log.read_text() + "not json\n")
    with pytest.raises(ValueError, match="line 6 is not a deployment record"):
        previous_passing_record(log, TARGET)


def test_argument_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="Unknown revision 'nosuchrev'"):
        deploy_revision("nosuchrev", repo=REPO, state=tmp_path / "s", log=tmp_path / "l")
    with pytest.raises(ValueError, match="'port' parameter"):
        deploy_revision("HEAD", repo=REPO, port=0, state=tmp_path / "s", log=tmp_path / "l")
    with pytest.raises(ValueError, match="nothing to roll back"):
        rollback(repo=REPO, state=tmp_path / "s", log=tmp_path / "l")
    with pytest.raises(ValueError, match="no deployment state folder"):
        stop_deployment(repo=REPO, state=tmp_path / "nosuch")
    assert not (tmp_path / "s").exists() and not (tmp_path / "l").exists()  # nothing written
    status = cli.main(["deploy", "up", "--rev", "nosuchrev", "--repo", str(REPO), "--state",
                       str(tmp_path / "s"), "--log", str(tmp_path / "l")])  # fmt: skip
    assert status == 2
    assert capsys.readouterr().err.startswith("ardlib: error: Unknown revision 'nosuchrev'")
    with pytest.raises(SystemExit):
        cli.main(["deploy", "up", "--rev", "HEAD", "--port", "70000"])
    assert "expected a TCP port" in capsys.readouterr().err


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of this repository: commit A = HEAD, commit B = A with one listing broken."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "--quiet", "--local", str(REPO), str(repo)], check=True)
    for k, v in (("user.email", "ci@example.invalid"), ("user.name", "ci")):
        _git(repo, "config", k, v)
    records = repo / "ardlib" / "service" / "_records.py"
    text = records.read_text()
    anchor = (
        '        """Optimization runs, newest first, filtered by status, method and author."""\n'
    )
    assert anchor in text
    records.write_text(text.replace(anchor, anchor + "        raise RuntimeError('broken')\n"))
    _git(repo, "commit", "--quiet", "-am", "break GET /api/optimization_runs")
    return repo


def _experiments(url: str) -> int:
    return int(httpx.get(f"{url}/api/experiments", timeout=10).json()["count"])


@pytest.mark.slow
def test_a_broken_revision_is_rolled_back_with_the_data_intact(
    clone: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(clone)
    a, b = _git(clone, "rev-parse", "HEAD~1"), _git(clone, "rev-parse", "HEAD")
    port, log = _free_port(), tmp_path / "log.jsonl"
    url = f"http://127.0.0.1:{port}"
    common = ["--log", str(log)]
    try:
        assert cli.main(["deploy", "up", "--rev", a, "--port", str(port), *common]) == 0
        assert "first deployment record" in capsys.readouterr().out
        for i in range(3):  # data written through the API
            r = httpx.post(f"{url}/api/experiments", json={"parameters": {"x": i}}, timeout=10)
            assert r.status_code == 201, r.text
        before = _experiments(url)
        assert before >= 3

        assert cli.main(["deploy", "up", "--rev", b, *common]) == 1  # same port and database
        out = capsys.readouterr().out
        assert "rollback recommended: check 'GET /api/optimization_runs' passed before" in out
        assert httpx.get(f"{url}/api/optimization_runs", timeout=10).status_code == 500
        assert _experiments(url) == before

        assert cli.main(["deploy", "rollback", "--to", "previous", *common]) == 0
        verdict = capsys.readouterr().out.split("verdict: ")[1]
        assert "check '" not in verdict  # (latency noise against B's record may be reported)
        assert httpx.get(f"{url}/api/optimization_runs", timeout=10).status_code == 200
        assert _experiments(url) == before  # the data written before B is still there
    finally:
        assert cli.main(["deploy", "down"]) == 0
    assert "stopped" in capsys.readouterr().out
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["ardlib_revision"] for r in rows] == [a, b, a]
    assert [r["passed"] for r in rows] == [True, False, True]
    assert rows[2]["extra"]["rollback_of"] == DeploymentRecord(**rows[1]).id
    assert "rollback_of" not in rows[0]["extra"] and "rollback_of" not in rows[1]["extra"]
    config = rows[2]["extra"]["deployment"]["config"]
    assert config["port"] == port and config["api_key"] is False
    assert config["database_url"] == rows[0]["extra"]["deployment"]["config"]["database_url"]
    pids = [r["extra"]["deployment"]["pid"] for r in rows]
    assert len(set(pids)) == 3 and not any(is_running(pid) for pid in pids)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health", timeout=2)
    assert _git(clone, "worktree", "list").count("\n") == 0  # only the clone itself
