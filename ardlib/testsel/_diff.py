"""Changed lines of the working tree against a base revision, and moving lines between
revisions.

:func:`working_tree_changes` runs ``git diff -U0 BASE`` over ``ardlib/`` and ``tests/`` and
adds untracked files there; each :class:`FileChange` holds its hunks, old-side lines in the
base revision's numbering, new-side lines in the working tree's.  :func:`line_map` maps line
numbers of one version of a file to another through the unchanged blocks
(:class:`difflib.SequenceMatcher`): a line inside a changed block has no image.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field

from .._io import _git_raw

__all__ = ["FileChange", "Hunk", "git_show", "line_map", "working_tree_changes"]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Hunk:
    """One ``-U0`` hunk: ``old_count`` lines from ``old_start`` became ``new_count`` lines.

    Attributes
    ----------
    old_start, old_count, new_start, new_count : int
        As in the ``@@`` header; for a pure insertion ``old_count`` is 0 and the new lines
        follow old line ``old_start``.
    """

    old_start: int
    old_count: int
    new_start: int
    new_count: int

    @property
    def old_lines(self) -> list[int]:
        """Old-side line numbers of the hunk.

        Returns
        -------
        list of int
        """
        return list(range(self.old_start, self.old_start + self.old_count))

    @property
    def new_lines(self) -> list[int]:
        """New-side line numbers of the hunk.

        Returns
        -------
        list of int
        """
        return list(range(self.new_start, self.new_start + self.new_count))


@dataclass
class FileChange:
    """A changed file of the working tree.

    Attributes
    ----------
    path : str
        Repository path (the new path of a rename).
    status : str
        ``added`` (new or untracked), ``deleted`` or ``modified``.
    hunks : list of Hunk
        Empty for added and deleted files.
    old_path : str
        The path at the base revision (differs from ``path`` for a rename).
    """

    path: str
    status: str
    hunks: list[Hunk] = field(default_factory=list)
    old_path: str = ""


def git_show(revision: str, path: str, repo: str | os.PathLike[str]) -> str | None:
    """The text of ``path`` at ``revision``, or None when it does not exist there.

    Parameters
    ----------
    revision : str
        A commit.
    path : str
        Repository path.
    repo : str or path-like
        The work tree.

    Returns
    -------
    str or None
    """
    return _git_raw(("show", f"{revision}:{path}"), repo)


def working_tree_changes(
    base: str, repo: str | os.PathLike[str] = ".", folders: tuple[str, ...] = ("ardlib", "tests")
) -> list[FileChange]:
    """Files under ``folders`` that differ between ``base`` and the working tree.

    Parameters
    ----------
    base : str
        The base revision (e.g. ``HEAD``, ``HEAD~1``, a branch).
    repo : str or path-like, default "."
        The git work tree.
    folders : tuple of str, default ("ardlib", "tests")
        Folders to look at.

    Returns
    -------
    list of FileChange
        Sorted by path; untracked files (not ignored) are ``added``.

    Raises
    ------
    ValueError
        If ``repo`` is not a git work tree or ``base`` is not a revision there.
    """
    if _git_raw(("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"), repo) is None:
        raise ValueError(
            f"The 'base' parameter names {base!r}, which is not a commit of the git work tree "
            f"at {str(repo)!r}."
        )
    out = _git_raw(
        ("diff", "-U0", "--no-color", "--no-ext-diff", "--find-renames", base, "--", *folders),
        repo,
    )
    if out is None:
        raise ValueError(f"git diff {base} failed in {str(repo)!r}.")
    changes: dict[str, FileChange] = {}
    current: FileChange | None = None
    for line in out.splitlines():
        if line.startswith("diff --git "):
            current = None
        elif line.startswith("--- "):
            old = line[4:]
            current = FileChange("", "modified", old_path=old.removeprefix("a/"))
            if old == "/dev/null":
                current.status = "added"
        elif line.startswith("+++ ") and current is not None:
            new = line[4:]
            if new == "/dev/null":
                current.status = "deleted"
                current.path = old.removeprefix("a/")
            else:
                current.path = new.removeprefix("b/")
            changes[current.path] = current
        elif (m := _HUNK.match(line)) and current is not None:
            a, b, c, d = m.groups()
            current.hunks.append(
                Hunk(int(a), 1 if b is None else int(b), int(c), 1 if d is None else int(d))
            )
    untracked = _git_raw(("ls-files", "--others", "--exclude-standard", "--", *folders), repo)
    for p in (untracked or "").splitlines():
        if p and p not in changes:
            changes[p] = FileChange(p, "added", old_path=p)
    return [changes[p] for p in sorted(changes)]


def line_map(old: str, new: str) -> dict[int, int]:
    """Map line numbers of ``old`` to ``new`` through the blocks the two texts share.

    Parameters
    ----------
    old, new : str
        Two versions of a file.

    Returns
    -------
    dict
        Old line (1-based) -> new line, for every line in an unchanged block; lines in a
        changed block are absent.
    """
    a, b = old.splitlines(), new.splitlines()
    if a == b:
        return {i: i for i in range(1, len(a) + 1)}
    out: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            out[block.a + k + 1] = block.b + k + 1
    return out
