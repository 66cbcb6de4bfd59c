"""The hashed lock file restricted to one install: the container image's requirements.

Usage::

    python3 lock_subset.py LOCK REPORT [--local NAME ...] > requirements.txt
    python3 lock_subset.py LOCK --verify WHEEL ...

``LOCK`` is ``requirements/lock.txt`` (pip-compile with ``--generate-hashes``); ``REPORT`` is
pip's installation report of what to install, resolved offline against the wheelhouse
(``pip install --dry-run --ignore-installed --no-index --find-links wheelhouse --report
REPORT "ardlib[service]"``).  Prints a requirements file holding, for every distribution in
the report, its entry in the lock (``name==version`` with every hash), so ``pip install
--require-hashes`` of that file checks each wheel against the lock and refuses anything the
report did not list.  A distribution missing from the lock, or locked at another version, is
an error.  Distributions named with ``--local`` (ardlib itself, which the lock cannot hold)
are pinned to the sha256 of the local wheel the report resolved them to, with the extras
that were requested.  ``--verify`` checks that each wheel's sha256 is one the lock lists for
it (the Dockerfile verifies the wheel of the pip it runs before running it).

Standard library only: the Dockerfile runs it with the base image's Python.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


def canonical(name: str) -> str:
    """The PEP 503 normalised form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(text: str) -> dict[str, tuple[str, str]]:
    """``{canonical name: (version, entry)}`` of a pip-compile lock; ``entry`` is the pin with
    its hashes, one option a line, as pip-compile writes it (comments dropped)."""
    entries: dict[str, tuple[str, str]] = {}
    logical: list[str] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line:
            logical.append(line.rstrip("\\").strip())
        if line.endswith("\\"):
            continue
        if logical and (match := _PIN.match(logical[0])):
            name = canonical(match.group(1))
            if name in entries:
                raise ValueError(f"lock file: {match.group(1)} is pinned twice")
            entries[name] = (match.group(2), " \\\n    ".join(logical))
        logical = []
    return entries


def verify(lock: str, wheel: Path) -> None:
    """Raise ValueError unless ``wheel``'s sha256 is one the lock lists for its distribution
    and version (read from the wheel's file name)."""
    name, version = wheel.name.split("-")[:2]
    entry = parse_lock(lock).get(canonical(name))
    if entry is None or entry[0] != version:
        raise ValueError(f"{wheel.name}: {name} {version} is not in the lock file")
    if hashlib.sha256(wheel.read_bytes()).hexdigest() not in _HASH.findall(entry[1]):
        raise ValueError(f"{wheel.name}: sha256 is none of the lock's hashes for {name}")


def _local_wheel(item: dict) -> Path:
    url = item.get("download_info", {}).get("url", "")
    parsed = urlparse(url)
    if parsed.scheme != "file":
        raise ValueError(f"{item['metadata']['name']} was resolved to {url!r}, not a local file")
    return Path(url2pathname(unquote(parsed.path)))


def subset(lock: str, report: dict, local: frozenset[str] = frozenset()) -> str:
    """The requirements file for the distributions ``report`` installs (see module doc).

    Raises
    ------
    ValueError
        When a distribution of the report is not in the lock, is locked at another version,
        or (for a ``local`` one) was not resolved to a local file.
    """
    entries = parse_lock(lock)
    pinned, extra = [], []
    for item in report["install"]:
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        key = canonical(name)
        if key in local:
            digest = hashlib.sha256(_local_wheel(item).read_bytes()).hexdigest()
            extras = sorted(item.get("requested_extras") or [])
            spec = f"{name}[{','.join(extras)}]" if extras else name
            extra.append(f"{spec}=={version} \\\n    --hash=sha256:{digest}")
        elif key not in entries:
            raise ValueError(f"{name} {version} is needed but not in the lock file")
        elif entries[key][0] != version:
            raise ValueError(f"{name} resolved to {version}, the lock pins {entries[key][0]}")
        else:
            pinned.append(entries[key][1])
    header = (
        f"# {len(pinned)} of {len(entries)} locked distributions with their hashes "
        "(scripts/lock_subset.py)"
    )
    return "\n".join([header, *sorted(pinned), *extra]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: print the subset; exit 2 with one line on a missing or mismatched pin."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path, help="pip-compile lock file with hashes")
    parser.add_argument("report", type=Path, nargs="?", help="pip installation report (JSON)")
    parser.add_argument(
        "--local", action="append", default=[], metavar="NAME", help="pin to its local wheel"
    )
    parser.add_argument(
        "--verify", type=Path, nargs="+", default=[], metavar="WHEEL", help="check hashes only"
    )
    args = parser.parse_args(argv)
    if (args.report is None) == (not args.verify):
        parser.error("give either REPORT or --verify WHEEL ...")
    try:
        lock = args.lock.read_text()
        for wheel in args.verify:
            verify(lock, wheel)
        if args.report is not None:
            report = json.loads(args.report.read_text())
            sys.stdout.write(subset(lock, report, frozenset(map(canonical, args.local))))
    except (OSError, ValueError) as exc:
        print(f"lock_subset: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
