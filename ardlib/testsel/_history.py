"""The repository's real changes: every commit's changed lines of ``ardlib/*.py``.

:func:`changed_lines` reads ``git log --reverse -p --unified=0`` and returns, for each
commit and file, the line ranges the commit added or modified in the file as it was after
the commit (pure deletions have no new lines and are left out).  :func:`history_table`
adds how many tests of the current coverage map execute those line numbers in the current
file: an approximation, since lines move and files change after the commit.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

__all__ = ["changed_lines", "history_table", "parse_log"]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def parse_log(text: str) -> pd.DataFrame:
    """Parse ``git log -p --unified=0 --format='commit %H %at'`` output.

    Parameters
    ----------
    text : str
        The log, one ``commit <sha> <unix time>`` header per commit.

    Returns
    -------
    pandas.DataFrame
        ``commit``, ``time`` (ISO 8601 UTC), ``path`` (the file after the commit),
        ``line_start`` and ``line_end`` (inclusive, 1-based, in the file after the commit),
        one row per hunk that adds lines, in log order.
    """
    rows: list[tuple[str, str, str, int, int]] = []
    sha, when, path = "", "", ""
    in_header = True
    for line in text.splitlines():
        if line.startswith("commit "):
            parts = line.split()
            if len(parts) == 3 and len(parts[1]) == 40 and parts[2].isdigit():
                sha = parts[1]
                stamp = datetime.fromtimestamp(int(parts[2]), tz=UTC)
                when = stamp.isoformat().replace("+00:00", "Z")
                path, in_header = "", True
                continue
        if line.startswith("diff --git "):
            in_header = True
            continue
        if in_header and line.startswith("+++ "):
            target = line[4:]
            path = target[2:] if target.startswith("b/") else ""
            continue
        match = _HUNK.match(line)
        if match:
            in_header = False
            start = int(match.group(1))
            count = 1 if match.group(2) is None else int(match.group(2))
            if count > 0 and path:
                rows.append((sha, when, path, start, start + count - 1))
    cols = ["commit", "time", "path", "line_start", "line_end"]
    return pd.DataFrame(rows, columns=cols)


def changed_lines(root: Path, pathspec: str = "ardlib/*.py") -> pd.DataFrame:
    """The changed line ranges of every commit touching ``pathspec``, oldest first.

    Parameters
    ----------
    root : Path
        Root of a git work tree.
    pathspec : str
        git pathspec of the files followed (``ardlib/*.py`` matches at any depth).

    Returns
    -------
    pandas.DataFrame
        As :func:`parse_log`.

    Raises
    ------
    ValueError
        If ``git log`` fails (for instance outside a git work tree).
    """
    proc = subprocess.run(
        ["git", "log", "--reverse", "-p", "--unified=0", "--no-color", "--no-renames",
         "--format=commit %H %at", "--", pathspec],
        cwd=root, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    if proc.returncode != 0:
        raise ValueError(f"git log failed in {root}: {proc.stderr.strip()}")
    return parse_log(proc.stdout)


def history_table(changes: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """Add ``n_covering_tests``: tests of ``coverage`` executing any line of each range.

    Parameters
    ----------
    changes : pandas.DataFrame
        Output of :func:`changed_lines`.
    coverage : pandas.DataFrame
        ``nodeid``, ``path``, ``line`` of the current coverage map.

    Returns
    -------
    pandas.DataFrame
        ``changes`` with an int column ``n_covering_tests`` (0 for files that no longer
        exist or lines no test executes now).
    """
    by_path: dict[str, dict[int, set[str]]] = {}
    for path, group in coverage.groupby("path", sort=False):
        lines: dict[int, set[str]] = {}
        for nodeid, line in zip(group["nodeid"], group["line"], strict=True):
            lines.setdefault(int(line), set()).add(nodeid)
        by_path[str(path)] = lines
    counts = []
    for path, start, end in zip(
        changes["path"], changes["line_start"], changes["line_end"], strict=True
    ):
        lines = by_path.get(path, {})
        tests: set[str] = set()
        for ln in range(int(start), int(end) + 1):
            tests |= lines.get(ln, set())
        counts.append(len(tests))
    out = changes.copy()
    out["n_covering_tests"] = pd.Series(counts, index=out.index, dtype="int64")
    return out
