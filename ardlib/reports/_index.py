"""The report index: one HTML table over every report's metrics file.

A report announces itself by a top-level ``"report"`` object in ``reports/metrics/<name>.json``::

    {"report": {"name": "problems", "title": "...", "html": "problems.html", "passed": true,
                "generated_at": "2026-11-26T18:41:00+00:00", "git_revision": "18af70a",
                "revision": "18af70a (dvc.lock re-run: emulators)",
                "summary": "20 problems; 0 failed checks"}, ...}

``revision`` is optional: the index shows it when present and ``git_revision`` otherwise
(metrics written before it existed hold ``<sha>`` or ``<sha>-dirty`` there).

The ``provenance`` column verifies each report's envelope ``<html>.intoto.jsonl``
(:func:`ardlib.provenance.report_status`): ``verified``, ``not signed``, or ``FAILED:``
and the first failed check (the signature, a changed or missing file).

:class:`~ardlib.reports.Report` writes that object for a notebook; :func:`write_index`
turns all of them into ``reports/index.html``.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..provenance import report_status

__all__ = ["REPORT_KEYS", "write_index"]

REPORT_KEYS = ("name", "title", "html", "passed", "generated_at", "git_revision", "summary")

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.4em 0.6em; text-align: left; }
th { background: #f4f4f4; }
.pass { color: #fff; background: #009E73; font-weight: bold; text-align: center; }
.fail { color: #fff; background: #D55E00; font-weight: bold; text-align: center; }
.missing { color: #D55E00; font-style: italic; }
.verified { color: #009E73; }
.unsigned { color: #777; font-style: italic; }
.tampered { color: #D55E00; font-weight: bold; }
code { font-size: 0.95em; }
"""


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"Metrics file {str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or "report" not in data:
        return None
    rec = data["report"]
    missing = [k for k in REPORT_KEYS if not isinstance(rec, dict) or k not in rec]
    if missing:
        raise ValueError(
            f"The 'report' object in {str(path)!r} lacks {', '.join(map(repr, missing))}; "
            f"it needs {', '.join(REPORT_KEYS)} (use ardlib.reports.Report)."
        )
    return rec


def _date(text: object) -> str:
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _provenance_cell(status: str) -> str:
    css = "unsigned"
    if status == "verified":
        css = "verified"
    elif status.startswith("FAILED"):
        css = "tampered"
    return f'<td class="{css}">{html.escape(status)}</td>'


def _row(rec: dict[str, Any], reports_dir: Path, provenance: str) -> str:
    e = html.escape
    page = str(rec["html"])
    if (reports_dir / page).is_file():
        link = f'<a href="{e(quote(page))}">{e(str(rec["name"]))}</a>'
    else:
        link = f'{e(str(rec["name"]))} <span class="missing">(HTML missing: {e(page)})</span>'
    status = '<td class="pass">PASS</td>' if rec["passed"] is True else '<td class="fail">FAIL</td>'
    return (
        f"<tr><td>{link}</td><td>{e(str(rec['title']))}</td><td>{e(_date(rec['generated_at']))}"
        f"</td><td><code>{e(str(rec.get('revision') or rec['git_revision']))}</code></td>{status}"
        f"<td>{e(' '.join(str(rec['summary']).split()))}</td>{_provenance_cell(provenance)}</tr>"
    )


def write_index(reports_dir: str | Path = "reports") -> Path:
    """Write ``<reports_dir>/index.html`` listing every report found in ``metrics/*.json``.

    Metrics files without a top-level ``"report"`` object are skipped; one with an
    incomplete object, or invalid JSON, raises ValueError naming the file.  A report whose
    HTML page does not exist is listed as missing.  Each report's provenance envelope is
    verified (``verified``, ``not signed`` or ``FAILED: <check>``).  The page has no
    timestamp of its own, so the same files give the same bytes.

    Parameters
    ----------
    reports_dir : str or path-like, default "reports"
        Folder holding ``metrics/`` and the report pages.

    Returns
    -------
    Path
        The index path.
    """
    reports_dir = Path(reports_dir)
    records = [
        rec
        for path in sorted((reports_dir / "metrics").glob("*.json"))
        if (rec := _load(path)) is not None
    ]
    records.sort(key=lambda r: str(r["name"]))
    n_fail = sum(r["passed"] is not True for r in records)
    n_missing = sum(not (reports_dir / str(r["html"])).is_file() for r in records)
    statuses = [report_status(reports_dir, str(r["html"])) for r in records]
    n_verified = statuses.count("verified")
    n_bad = sum(s.startswith("FAILED") for s in statuses)
    rows = "\n".join(_row(r, reports_dir, s) for r, s in zip(records, statuses, strict=True))
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>ardlib reports</title><style>{_CSS}</style></head><body>\n"
        "<h1>ardlib reports</h1>\n"
        f"<p>{len(records)} report{'' if len(records) == 1 else 's'}: "
        f"{len(records) - n_fail} passed, {n_fail} failed"
        f"{f', {n_missing} with HTML missing' if n_missing else ''}.</p>\n"
        f"<p>Provenance: {n_verified} verified, {n_bad} failed verification, "
        f"{len(records) - n_verified - n_bad} not signed or not checked.</p>\n"
        "<table><thead><tr><th>report</th><th>title</th><th>generated</th>"
        "<th>git revision</th><th>status</th><th>summary</th><th>provenance</th>"
        "</tr></thead><tbody>\n"
        f"{rows}\n</tbody></table>\n</body></html>\n"
    )
    out = reports_dir / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
