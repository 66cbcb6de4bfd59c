"""A benchmark runner process: JSON requests on stdin, one JSON reply per line on stdout.

Started by ``ardlib bench compare`` with ``PYTHONPATH`` pointing at a copy of the
benchmark tool and at the revision's source tree, so ``import ardlib`` is that revision's
code.  Requests: ``{"op": "hello"}``, ``{"op": "setup", "name": N}``,
``{"op": "calibrate", "name": N, "min_time": s}``,
``{"op": "sample", "name": N, "number": k, "repeat": r, "slowdown": f, "clock": c}``,
``{"op": "profile", "name": N, "seconds": s, "out": DIR}`` (pyinstrument; files written by
``save_profile``), ``{"op": "exit"}``.  Replies carry ``"ok": true`` and the result, or
``"ok": false`` and the error text.  Anything the benchmarks print goes to stderr.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import traceback
from typing import Any, TextIO

from . import _suite  # noqa: F401  (registers the benchmarks)
from ._session import BenchSession

__all__ = ["serve"]


def _handle(session: BenchSession, req: dict[str, Any]) -> Any:
    op = req.get("op")
    if op == "hello":
        import ardlib

        return {
            "ardlib_file": os.path.realpath(ardlib.__file__),
            "ardlib_version": getattr(ardlib, "__version__", "unknown"),
            "python": platform.python_version(),
            "pid": os.getpid(),
        }
    if op == "setup":
        session.setup(req["name"])
        return None
    if op == "calibrate":
        return session.calibrate(req["name"], min_time=float(req["min_time"]))
    if op == "sample":
        return session.sample(
            req["name"],
            number=int(req["number"]),
            repeat=int(req["repeat"]),
            slowdown=float(req.get("slowdown", 0.0)),
            clock=str(req.get("clock", "wall")),
        )
    if op == "profile":
        from ._profile import profile_call, save_profile

        result = profile_call(
            session.function(req["name"]), name=req["name"], min_seconds=float(req["seconds"])
        )
        return {k: str(v) for k, v in save_profile(result, req["out"]).items()}
    raise ValueError(f"unknown op {op!r}")


def serve(inp: TextIO, out: TextIO) -> None:
    """Answer requests from ``inp`` on ``out`` until ``exit`` or end of input."""
    session = BenchSession()
    try:
        for line in inp:
            req = json.loads(line)
            if req.get("op") == "exit":
                break
            try:
                reply = {"ok": True, "result": _handle(session, req)}
            except Exception as exc:
                tb = traceback.format_exc(limit=3)
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": tb}
            out.write(json.dumps(reply) + "\n")
            out.flush()
    finally:
        session.close()


if __name__ == "__main__":
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr  # benchmark output must not corrupt the protocol
    serve(sys.stdin, protocol)
