"""Record a new baseline, on explicit request only, with who, why, when and the revision."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ._baseline import (
    DEFAULT_BASELINE,
    Baseline,
    default_who,
    history_entry,
    load_baseline,
    save_baseline,
    study_key,
)
from ._check import DEFAULT_STUDIES, DEFAULT_TOLERANCES, KINDS, check_kinds
from ._seeded import DEFAULT_SEEDED_RUNS, SeededRun, record_seeded
from ._studies import record_study, study_names
from ._values import record_reference

__all__ = ["update_baseline"]

_OWNER = "update_baseline"


def _text(value: object, name: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"The '{name}' parameter of {_OWNER} must be a non-empty str {what}. Got {value!r}."
        )
    return value.strip()


def _studies_to_record(directory: Path, only: Iterable[str] | None) -> list[str]:
    found = study_names(directory)
    if only is None:
        if not found:
            raise ValueError(
                f"The 'studies' parameter of {_OWNER} must be a directory holding study "
                f"results (<name>.parquet); {directory} has none. Run `ardlib study run` "
                "first, or leave 'study' out of 'kinds'."
            )
        return found
    names = [only] if isinstance(only, str) else list(only)
    unknown = sorted(set(names) - set(found))
    if not names or unknown:
        raise ValueError(
            f"The 'only' parameter of {_OWNER} must name studies with results in "
            f"{directory}; {unknown or names} are not there. Found: {found}."
        )
    return sorted(set(names))


def update_baseline(
    path: str | os.PathLike[str] = DEFAULT_BASELINE,
    studies: str | os.PathLike[str] = DEFAULT_STUDIES,
    *,
    why: str,
    who: str | None = None,
    kinds: Iterable[str] = KINDS,
    only: Iterable[str] | None = None,
    seeded_runs: Iterable[SeededRun] = DEFAULT_SEEDED_RUNS,
    metric: str = "regret_rec",
) -> Baseline:
    """Record today's results as the baseline and append the reason to its history.

    Sections not refreshed are carried over unchanged from the existing file; the existing
    ``history`` is always kept.

    Parameters
    ----------
    path : str or path-like, default ``"data/baselines/results.json"``
        The baseline file; created (with its directory) if absent.
    studies : str or path-like, default ``"data/studies"``
        Directory of ``ardlib study run`` outputs to record.
    why : str
        Why the baseline changes (required, non-empty): what changed in the results and
        why that is right.
    who : str, optional
        Who updates it; default ``git config user.name``, else ``$USER``.
    kinds : iterable of {"reference", "seeded", "study"}, default all
        Sections to refresh.
    only : iterable of str, optional
        Record only these studies (others stay as recorded); default every study found
        under ``studies``, and studies no longer there are dropped.  Each study is recorded
        under its specification (study hash): other specifications recorded for the same
        study (a paper-size run beside the default one) are kept.
    seeded_runs : iterable of SeededRun, default DEFAULT_SEEDED_RUNS
        Campaigns recorded in the ``seeded`` section.
    metric : str, default "regret_rec"
        Final-step column recorded for each study group (lower is better).

    Returns
    -------
    Baseline
        What was written.

    Raises
    ------
    ValueError
        If ``why`` is empty, ``who`` cannot be determined, ``kinds`` or ``only`` is
        invalid, ``studies`` holds no results, or a reference value disagrees with the
        independent 50-digit implementation.
    BaselineError
        If a file exists at ``path`` but is corrupt (it is never overwritten silently;
        move it away first).
    """
    reason = _text(why, "why", "saying why the baseline changes")
    author = default_who() if who is None else who
    author = _text(author, "who", "naming who updates the baseline (set git user.name or pass it)")
    wanted = check_kinds(kinds, _OWNER)
    target, directory = Path(path), Path(studies)
    old = load_baseline(target) if target.exists() else Baseline()
    if "study" in wanted:
        names = _studies_to_record(directory, only)
    elif only is not None:
        raise ValueError(
            f"The 'only' parameter of {_OWNER} needs 'study' in 'kinds'. Got {only!r}."
        )
    reference = record_reference() if "reference" in wanted else old.reference
    seeded = record_seeded(seeded_runs) if "seeded" in wanted else old.seeded
    study_section = dict(old.studies)
    updated = [k for k in KINDS if k in wanted and k != "study"]
    if "study" in wanted:
        if only is None:  # the directory is the whole set of studies
            study_section = {k: e for k, e in study_section.items() if e["study"] in names}
        for name in names:
            entry = record_study(directory, name, metric)
            study_section[study_key(name, entry["study_hash"])] = entry
        updated += [f"study:{name}" for name in names]
    new = Baseline(
        tolerances=dict(DEFAULT_TOLERANCES),
        reference=reference,
        seeded=seeded,
        studies=dict(sorted(study_section.items())),
        history=[*old.history, history_entry(author, reason, updated)],
    )
    save_baseline(new, target)
    return new
