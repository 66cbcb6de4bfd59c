"""Audit the locked dependencies for known vulnerabilities with pip-audit.

Runs ``pip-audit`` on ``requirements/lock.txt`` (hashes required, no resolution) and
applies the dated ignore list ``requirements/audit-ignore.txt``. Exit status:

- 1 if any vulnerability is found that is not ignored, or an ignore entry has expired;
- 0 otherwise.

Packages the vulnerability service could not look up are listed and counted, never
silently passed: when the service cannot be reached at all (an offline machine, or a
package index mirror without per-release metadata) the audit prints a loud
``AUDIT INCOMPLETE`` line, and ``--strict`` turns that into a failure.

Ignore-file format, one entry per line (``#`` starts a comment)::

    VULN-ID  YYYY-MM-DD(expires)  package  free-text reason (why there is no fix)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Ignore:
    """One dated entry of the ignore list."""

    vuln_id: str
    expires: dt.date
    package: str
    reason: str


def parse_ignores(text: str) -> list[Ignore]:
    """Parse the ignore file; raises ValueError naming the bad line."""
    out = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 3)
        if len(parts) < 4:
            raise ValueError(
                f"audit-ignore line {no}: expected 'VULN-ID YYYY-MM-DD package reason'. "
                f"Got {raw!r}."
            )
        try:
            expires = dt.date.fromisoformat(parts[1])
        except ValueError as exc:
            raise ValueError(f"audit-ignore line {no}: bad date {parts[1]!r}.") from exc
        out.append(Ignore(parts[0], expires, parts[2].lower(), parts[3]))
    return out


def evaluate(report: dict, ignores: list[Ignore], today: dt.date) -> tuple[int, list[str]]:
    """Judge a pip-audit JSON report. Returns (exit status, lines to print)."""
    lines: list[str] = []
    status = 0
    active = {(i.vuln_id, i.package): i for i in ignores}
    for ign in ignores:
        if ign.expires < today:
            status = 1
            lines.append(
                f"EXPIRED IGNORE {ign.vuln_id} ({ign.package}) on {ign.expires}: review it"
            )
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if "skip_reason" in d]
    for dep in deps:
        for v in dep.get("vulns", []):
            ign = active.get((v["id"], dep["name"].lower()))
            if ign is not None and ign.expires >= today:
                lines.append(f"ignored {v['id']} in {dep['name']} {dep['version']}: {ign.reason}")
                continue
            status = 1
            fixes = ", ".join(v.get("fix_versions", [])) or "no fix released"
            lines.append(f"VULNERABLE {dep['name']} {dep['version']}: {v['id']} (fix: {fixes})")
    audited = len(deps) - len(skipped)
    lines.append(f"audited {audited} of {len(deps)} locked packages; {len(skipped)} not checked")
    if deps and audited == 0:
        lines.append(
            "AUDIT INCOMPLETE: the vulnerability service answered for none of the locked "
            "packages (offline, or an index mirror without per-release metadata)"
        )
    return status, lines


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(
        description="pip-audit over the lock file, with a dated ignore list"
    )
    ap.add_argument("--lock", default=str(ROOT / "requirements" / "lock.txt"))
    ap.add_argument("--ignore-file", default=str(ROOT / "requirements" / "audit-ignore.txt"))
    ap.add_argument(
        "--report", help="judge an existing pip-audit JSON report instead of running it"
    )
    ap.add_argument("--strict", action="store_true", help="fail when packages could not be checked")
    args = ap.parse_args(argv)
    if args.report:
        report = json.loads(Path(args.report).read_text())
    else:
        cmd = [
            sys.executable,
            "-m",
            "pip_audit",
            "-r",
            args.lock,
            "--require-hashes",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "-f",
            "json",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if not proc.stdout.strip():
            print(proc.stderr, file=sys.stderr)
            print("pip-audit produced no report", file=sys.stderr)
            return 2
        report = json.loads(proc.stdout)
    ignore_path = Path(args.ignore_file)
    ignores = parse_ignores(ignore_path.read_text()) if ignore_path.exists() else []
    status, lines = evaluate(report, ignores, dt.date.today())
    print("\n".join(lines))
    if args.strict and any(d.get("skip_reason") for d in report.get("dependencies", [])):
        status = max(status, 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
