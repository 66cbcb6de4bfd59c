"""Reproducible distributions and the offline wheelhouse (``make dist``, ``make wheelhouse``).

Both tests work on fresh clones of this repository's HEAD, run with this checkout's Makefile
(``make -f``), so they check the targets as they are now against the committed tree. They
build with the venv running the tests, which holds the locked setuptools and pip; ``-o
STAMP`` keeps make from re-creating that venv from the clone's lock file, whose fresh
mtime is newer than the venv's stamp (without it make would also point the venv's editable
install at the clone).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (ROOT / ".git").exists() or not shutil.which("git") or not shutil.which("make"),
        reason="needs a git checkout of ardlib, git and make",
    ),
]

# The fast-tier modules run offline against the installed wheel: every public name resolves
# (lazy_loader stubs and package data made it into the wheel), statistics and study specs.
OFFLINE_TESTS = [
    "tests/test_public_api.py",
    "tests/test_stats_holm.py",
    "tests/test_study_specs.py",
]


def _run(cmd: list[str], cwd: Path, **kw: object) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return str(proc.stdout)


def _clone(commit: str, dest: Path, umask: int = 0o022) -> Path:
    """A fresh clone of this repository at ``commit``, checked out under ``umask``."""
    script = (
        f"umask {umask:03o} && git clone --quiet '{ROOT}' '{dest}'"
        f" && git -C '{dest}' checkout --quiet --detach {commit}"
    )
    _run(["sh", "-c", script], cwd=ROOT)
    return dest


def _make(clone: Path, target: str, *args: str, env: dict[str, str] | None = None) -> str:
    stamp = Path(sys.prefix, ".installed")
    cmd = ["make", "-f", str(ROOT / "Makefile"), "-o", str(stamp), target, f"VENV={sys.prefix}"]
    return _run([*cmd, *args], cwd=clone, env=env, timeout=900)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dist_is_byte_identical_from_two_fresh_clones(tmp_path: Path) -> None:
    """Two clones of HEAD that differ in umask, time zone and file mtimes build the same bytes,
    stamped with the commit's time."""
    head = _run(["git", "rev-parse", "HEAD"], cwd=ROOT).strip()
    epoch = int(_run(["git", "log", "-1", "--format=%ct", head], cwd=ROOT))
    a = _clone(head, tmp_path / "a")
    b = _clone(head, tmp_path / "b", umask=0o002)
    for path in b.rglob("*"):  # the second checkout looks an hour younger
        if not path.is_symlink():
            os.utime(path, (epoch + 3600, epoch + 3600))
    _make(a, "dist")
    _make(b, "dist", env={**os.environ, "TZ": "Asia/Tokyo"})

    digests = [{p.name: _sha256(p) for p in (c / "dist").iterdir()} for c in (a, b)]
    names = sorted(digests[0])
    assert len(names) == 2 and names[0].endswith(".whl") and names[1].endswith(".tar.gz")
    assert digests[0] == digests[1]
    # signed provenance beside dist/, not in it: one envelope per file and the ephemeral key
    envelopes = sorted(p.name for p in (a / "dist-provenance").iterdir())
    assert envelopes == sorted([*(f"{n}.intoto.jsonl" for n in names), "provenance.pub"])

    # ZIP stores DOS times, even seconds: an odd commit second is rounded down
    stamps = {
        dt.datetime.fromtimestamp(epoch + k, dt.UTC).timetuple()[:6] for k in (0, -(epoch % 2))
    }
    with zipfile.ZipFile(a / "dist" / names[0]) as whl:
        assert len({i.date_time for i in whl.infolist()}) == 1
        assert {i.date_time for i in whl.infolist()} <= stamps
        assert any(n.endswith("/__init__.pyi") for n in whl.namelist())
    with tarfile.open(a / "dist" / names[1]) as sdist:
        members = sdist.getmembers()
        assert {m.mtime for m in members} == {epoch}
        assert {(m.uid, m.gid) for m in members} == {(0, 0)}


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"),
    reason="needs root, unshare and ip for a network namespace without network",
)
def test_wheelhouse_installs_and_runs_with_no_network(tmp_path: Path) -> None:
    """``make wheelhouse`` (online), then, in a network namespace with only loopback: a fresh
    venv from the wheelhouse alone (hash-checked), a tiny study, and a few fast-tier modules."""
    head = _run(["git", "rev-parse", "HEAD"], cwd=ROOT).strip()
    clone = _clone(head, tmp_path / "src")
    house, venv = tmp_path / "wheelhouse", tmp_path / "venv"
    try:
        _make(clone, "wheelhouse", f"WHEELHOUSE={house}")
        wheels = sorted(p.name for p in house.iterdir())
        assert [n for n in wheels if n.startswith("ardlib-")] == ["ardlib-0.1.0-py3-none-any.whl"]
        (pip_wheel,) = house.glob("pip-*.whl")
        # The lock without its index and find-links lines: the wheelhouse is the only source
        lock = tmp_path / "lock-offline.txt"
        lines = (clone / "requirements" / "lock.txt").read_text().splitlines()
        lock.write_text("\n".join(ln for ln in lines if not ln.startswith("--")) + "\n")
        # Imports must find the installed wheel, not the clone's sources
        shutil.rmtree(clone / "ardlib")

        smoke = textwrap.dedent(
            """
            import socket, sys
            import ardlib
            from ardlib.planners import RandomSearch
            from ardlib.study import PlannerSpec, Study

            if __name__ == "__main__":  # the study's process pool re-imports this module
                assert "site-packages" in ardlib.__file__, ardlib.__file__
                assert [name for _, name in socket.if_nameindex()] == ["lo"]
                with socket.create_server(("127.0.0.1", 0)) as server:
                    socket.create_connection(server.getsockname(), timeout=5).close()
                study = Study(["branin"], [PlannerSpec("random", RandomSearch)], [None],
                              replicates=2, budget=4, master_seed=0)
                result = study.run(sys.argv[1], max_workers=1, progress=False)
                assert result.n_computed == 2, result.n_computed
                print("study digest", result.digest)
            """
        )
        (tmp_path / "smoke.py").write_text(smoke)
        pip = f"{venv}/bin/python -m pip --no-cache-dir"
        script = f"""set -e
            ip link set lo up
            {sys.executable} -m venv --without-pip {venv}
            {venv}/bin/python {pip_wheel}/pip install --no-cache-dir --quiet --no-index \
                --find-links {house} --require-hashes -r {lock}
            {pip} install --quiet --no-index --no-deps {house}/ardlib-0.1.0-py3-none-any.whl
            cd {tmp_path} && {venv}/bin/python smoke.py {tmp_path}/store
            cd {clone} && {venv}/bin/pytest -q -p no:cacheprovider {" ".join(OFFLINE_TESTS)}
            """
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
        env["PIP_CONFIG_FILE"] = os.devnull
        out = _run(["unshare", "-n", "sh", "-c", script], cwd=tmp_path, env=env, timeout=900)
        assert "study digest" in out and " passed" in out, out
    finally:  # a wheelhouse and a full venv are ~1.5 GB: keep neither in pytest's tmp dirs
        shutil.rmtree(house, ignore_errors=True)
        shutil.rmtree(venv, ignore_errors=True)
