"""A service process that outlives the command that started it: start, find, stop by pid.

The process is started through a short-lived launcher (a double fork), so it is not a child
of the caller: ``ardlib deploy up`` can exit and a later ``ardlib deploy down`` stops it by
the pid in the state folder.  It runs in its own session (``setsid``), so stopping signals
its process group and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["is_running", "launch", "terminate"]

# Runs in the launcher: start argv[3:] in folder argv[1], output appended to argv[2], in a
# new session; print its pid and exit (the service is then adopted by init).
_LAUNCHER = (
    "import subprocess, sys\n"
    "log = open(sys.argv[2], 'ab')\n"
    "p = subprocess.Popen(sys.argv[3:], cwd=sys.argv[1], stdin=subprocess.DEVNULL,\n"
    "                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)\n"
    "print(p.pid)\n"
)


def launch(argv: Sequence[str], *, cwd: Path, log_file: Path, env: Mapping[str, str]) -> int:
    """Start ``argv`` in the background in folder ``cwd``, output appended to ``log_file``.

    Parameters
    ----------
    argv : sequence of str
        The command.
    cwd : path
        Its working folder.
    log_file : path
        Standard output and error are appended here.
    env : mapping
        Its environment.

    Returns
    -------
    int
        The pid of the started process (the leader of its own process group).
    """
    proc = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(cwd), str(log_file), *argv],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip().isdigit():
        raise OSError(f"could not start {argv[0]}: {proc.stderr.strip()[-500:]}")
    return int(proc.stdout.strip())


def is_running(pid: int, marker: str = "ardlib.cli") -> bool:
    """Whether process ``pid`` is alive (not a zombie) and, where ``/proc`` tells, still
    runs a command containing ``marker`` (a pid reused by another program is not ours).

    Parameters
    ----------
    pid : int
    marker : str, default "ardlib.cli"

    Returns
    -------
    bool
    """
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it happens to be our child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process: never ours
    proc = Path(f"/proc/{pid}")
    if not proc.is_dir():
        return True  # no /proc: trust the pid
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, IndexError):
        return False
    return state != "Z" and marker in cmdline


def terminate(pid: int, *, timeout: float = 10.0, marker: str = "ardlib.cli") -> bool:
    """Stop process group ``pid`` (SIGTERM, then SIGKILL after ``timeout`` seconds).

    Parameters
    ----------
    pid : int
        A process group leader started by :func:`launch`.
    timeout : float, default 10
    marker : str, default "ardlib.cli"
        See :func:`is_running`; a process without it is left alone.

    Returns
    -------
    bool
        True when it was running and has been stopped, False when it was not running.
    """
    if not is_running(pid, marker):
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not is_running(pid, marker):
                return True
            time.sleep(0.05)
    raise OSError(f"process {pid} did not stop after SIGTERM and SIGKILL")
