"""Render the analytics dashboard in a real headless browser and judge what it drew.

:func:`check_dashboard` opens ``GET /analytics.html`` in Debian's Chromium driven by
Playwright's sync API, waits until the page marks itself ready
(``body[data-ready="true"]``, set once every request settled), and passes only when

- no console message of type error and no uncaught page error was seen (CORS and CSP
  violations arrive as console errors; a blocked request also fails as a request),
- no request failed at the network level and no response had a status >= 400,
- the page reported no ``data-error``,
- every chart of :data:`DASHBOARD_CHARTS` exists and either drew data (``data-count`` > 0)
  or shows its empty state (``data-state="empty"``) while every listing it is drawn from
  held no records in the answer the page itself received (a fresh service has none).  A
  chart left empty although its listing has records fails: "charts without data".

It never pretends: without Playwright, without the Chromium executable, or when the
browser cannot start, the result is ``skipped=True, passed=False`` with the reason. Any
failure after the browser started is a failure, not a skip.

With ``api_key`` the key is put in the page's ``sessionStorage`` (where the dashboard
keeps the key its form asks for) before any script of the page runs, so a service that
protects reads answers the page's listings.

The page side of this contract is documented at the top of
``ardlib/service/static/analytics.js``.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ardlib._validation import check_real

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, Request, Response
    from playwright.sync_api import Error as PlaywrightError

__all__ = ["CHROMIUM_ARGS", "DASHBOARD_CHARTS", "BrowserResult", "check_dashboard"]

#: Chart element id -> the listings it is drawn from (``GET api/<key>`` answers ``{key: [...]}``).
#: Each chart carries ``data-chart``, ``data-count`` and ``data-state``; it may show its
#: empty state only when every one of its listings held no records.
DASHBOARD_CHARTS: Mapping[str, tuple[str, ...]] = {
    "chart-methods": ("optimization_runs",),
    "chart-status": ("experiments",),
    "chart-ai-cost": ("ai_queries",),
    "chart-activity": ("experiments", "optimization_runs"),
    "chart-convergence": ("optimization_runs",),
}
_LISTINGS = frozenset(key for keys in DASHBOARD_CHARTS.values() for key in keys)

#: Flags for a headless root run on a machine without network beyond loopback.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

_SETTLE_MS = 250  # lets late console/network events arrive after the page says ready
# The sessionStorage entry the dashboard reads its API key from (analytics.js KEY_STORE).
_KEY_STORE = "ardlib-api-key"
_CHARTS_JS = "els => els.map(e => [e.id, e.dataset.count ?? null, e.dataset.state ?? null])"


@dataclass(frozen=True)
class BrowserResult:
    """Outcome of one dashboard check in a real browser.

    Attributes
    ----------
    passed : bool
        True only when every chart drew its data (or shows its empty state because it has
        none) and nothing went wrong.
    skipped : bool
        True when the check could not run (no Playwright, no browser, browser would not
        start); ``passed`` is then False.
    reason : str
        Why it passed, failed or was skipped, in one line.
    console_errors : list of str
        Console messages of type error (CORS and CSP violations included) and uncaught
        page errors (prefixed ``"uncaught "``), in arrival order.
    failed_requests : list of str
        ``"METHOD URL: why"`` for network failures and responses with status >= 400.
    charts : dict of str to int
        Chart element id -> its ``data-count`` (data points drawn; -1 if unreadable).
    empty_charts : list of str
        Charts showing their empty state because every listing they are drawn from held no
        records (these pass; see :data:`DASHBOARD_CHARTS`).
    screenshot : Path or None
        The full-page PNG, when one was asked for and taken.
    seconds : float
        Wall time of the whole check, browser start included.
    """

    passed: bool
    skipped: bool
    reason: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    charts: dict[str, int] = field(default_factory=dict)
    empty_charts: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    seconds: float = 0.0


class _Observer:
    """Collects what the page reports while it loads."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.failed_requests: list[str] = []
        self.listings: dict[str, Response] = {}  # list key -> the page's last answer

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def page_error(self, error: PlaywrightError) -> None:
        self.console_errors.append(f"uncaught {error.name or 'Error'}: {error.message}")

    def request_failed(self, request: Request) -> None:
        why = request.failure or "failed"
        self.failed_requests.append(f"{request.method} {request.url}: {why}")

    def problems(self) -> list[str]:
        """One line per kind of trouble: CORS, other console/page errors, failed requests."""
        found = []
        cors = [m for m in self.console_errors if "CORS policy" in m]
        if cors:
            found.append(f"CORS blocked {len(cors)} request(s): {cors[0]}")
        other = [m for m in self.console_errors if "CORS policy" not in m]
        if other:
            found.append(f"{len(other)} console/page error(s), first: {other[0]}")
        if self.failed_requests:
            n = len(self.failed_requests)
            found.append(f"{n} failed request(s), first: {self.failed_requests[0]}")
        return found

    def response(self, response: Response) -> None:
        request = response.request
        if response.status >= 400:
            self.failed_requests.append(f"{request.method} {response.url}: HTTP {response.status}")
        elif request.method == "GET" and (key := _listing_key(response.url)):
            self.listings[key] = response

    def listing_sizes(self) -> dict[str, int]:
        """Records in each listing the page received; absent when not received or unreadable."""
        from playwright.sync_api import Error as PlaywrightError

        sizes = {}
        for key, response in self.listings.items():
            try:
                body = response.json()
            except (PlaywrightError, ValueError):
                continue
            if isinstance(body, dict) and isinstance(body.get(key), list):
                sizes[key] = len(body[key])
        return sizes


def _listing_key(url: str) -> str | None:
    """``"experiments"`` for ``.../api/experiments?limit=100``; None for other URLs."""
    parts = urlsplit(url).path.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == "api" and parts[-1] in _LISTINGS:
        return parts[-1]
    return None


def check_dashboard(
    url: str,
    *,
    screenshot: str | os.PathLike[str] | None = None,
    timeout: float = 20.0,
    chromium: str | os.PathLike[str] = "/usr/bin/chromium",
    api_key: str | None = None,
) -> BrowserResult:
    """Load the dashboard at ``url`` in headless Chromium and check that it rendered.

    Parameters
    ----------
    url : str
        The dashboard page, e.g. ``"http://127.0.0.1:8000/analytics.html"``.
    screenshot : path-like, optional
        Where to save a full-page PNG (parent directories are created). Taken whenever the
        page loaded, also when the check fails, so the failure can be seen.
    timeout : float, default 20.0
        Seconds allowed for loading the page and for it to become ready.
    chromium : path-like, default ``"/usr/bin/chromium"``
        The browser executable (Debian's ``chromium`` package); Playwright's own browser
        downloads are not used.
    api_key : str or None
        Put in the page's ``sessionStorage`` (only on the dashboard's own origin) before it
        loads, so the dashboard sends it as ``X-API-Key``; needed when reads are protected.

    Returns
    -------
    BrowserResult
        ``skipped`` when the check could not run; otherwise ``passed`` says whether the
        dashboard met every condition listed in the module docstring.
    """
    timeout = check_real(timeout, "timeout", owner="check_dashboard", low=0, low_inclusive=False)
    started = time.monotonic()
    shot = Path(screenshot) if screenshot is not None else None
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _check(url, shot, timeout, Path(chromium), started, api_key)
    # Playwright's sync API refuses to run inside an event loop (Jupyter): use a thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_check, url, shot, timeout, Path(chromium), started, api_key).result()


def _skipped(reason: str, started: float) -> BrowserResult:
    return BrowserResult(
        passed=False, skipped=True, reason=reason, seconds=time.monotonic() - started
    )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _key_script(url: str, api_key: str) -> str:
    """JS run before the page's own scripts: store the key, on the dashboard's origin only."""
    return (
        f"if (window.location.origin === new URL({json.dumps(url)}).origin) {{ try {{ "
        f"window.sessionStorage.setItem({json.dumps(_KEY_STORE)}, {json.dumps(api_key)}); "
        "} catch (err) {} }"
    )


def _check(
    url: str,
    shot: Path | None,
    timeout: float,
    chromium: Path,
    started: float,
    api_key: str | None = None,
) -> BrowserResult:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        return _skipped(f"playwright is not installed ({exc}); install ardlib[browser]", started)
    if not (chromium.is_file() and os.access(chromium, os.X_OK)):
        return _skipped(f"no Chromium executable at {chromium}", started)

    with ExitStack() as stack:
        profile = stack.enter_context(
            tempfile.TemporaryDirectory(prefix="ardlib-chromium-", ignore_cleanup_errors=True)
        )
        try:
            playwright = stack.enter_context(sync_playwright())
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(chromium),
                headless=True,
                args=list(CHROMIUM_ARGS),
                viewport={"width": 1280, "height": 900},
                timeout=timeout * 1000,
            )
        except (PlaywrightError, OSError) as exc:
            return _skipped(f"Chromium at {chromium} could not start: {_first_line(exc)}", started)
        stack.callback(context.close)
        if api_key:
            context.add_init_script(script=_key_script(url, api_key))
        page = context.pages[0] if context.pages else context.new_page()
        observer = _Observer()
        page.on("console", observer.console)
        page.on("pageerror", observer.page_error)
        page.on("requestfailed", observer.request_failed)
        page.on("response", observer.response)
        problems, charts, empty, taken = _visit(page, url, shot, started + timeout, observer)
    problems += observer.problems()
    reason = "; ".join(problems) or _success(charts, empty)
    return BrowserResult(
        passed=not problems,
        skipped=False,
        reason=reason,
        console_errors=list(observer.console_errors),
        failed_requests=list(observer.failed_requests),
        charts=charts,
        empty_charts=empty,
        screenshot=taken,
        seconds=time.monotonic() - started,
    )


def _success(charts: dict[str, int], empty: list[str]) -> str:
    drawn = sum(n > 0 for n in charts.values())
    shown = f"{drawn} of {len(charts)} charts drawn with data"
    if empty:
        shown += f", {len(empty)} empty as the API has no records for them ({', '.join(empty)})"
    return f"{shown}; no console errors, no failed requests"


def _visit(
    page: Page, url: str, shot: Path | None, deadline: float, observer: _Observer
) -> tuple[list[str], dict[str, int], list[str], Path | None]:
    """Navigate, wait for readiness, read the charts, take the screenshot.

    Returns the problems seen in the page itself, the charts, the charts rightly empty, and
    the screenshot's path.
    """
    from playwright.sync_api import Error as PlaywrightError

    def remaining_ms() -> float:
        return max(1.0, (deadline - time.monotonic()) * 1000)

    try:
        response = page.goto(url, wait_until="load", timeout=remaining_ms())
    except PlaywrightError as exc:
        return [f"page did not load: {_first_line(exc)}"], {}, [], None
    problems: list[str] = []
    if response is not None and response.status >= 400:
        problems.append(f"{url} answered HTTP {response.status}")
    try:
        charts, empty = _inspect(page, remaining_ms(), problems, observer)
    except PlaywrightError as exc:  # the page crashed or closed under us
        return [*problems, f"browser failed while inspecting: {_first_line(exc)}"], {}, [], None
    taken = None
    if shot is not None:
        shot.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Also after a timeout: the picture of a failure is the useful one.
            page.screenshot(path=str(shot), full_page=True, timeout=max(remaining_ms(), 5000))
            taken = shot
        except PlaywrightError as exc:
            problems.append(f"screenshot failed: {_first_line(exc)}")
    return problems, charts, empty, taken


def _inspect(
    page: Page, timeout_ms: float, problems: list[str], observer: _Observer
) -> tuple[dict[str, int], list[str]]:
    """Wait for readiness, then read the charts and the page's own error; appends problems.

    Returns the charts (id -> ``data-count``) and those rightly showing their empty state.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_selector('body[data-ready="true"]', state="attached", timeout=timeout_ms)
    except PlaywrightTimeoutError:
        problems.append("the page did not set body[data-ready] within the timeout")
    page.wait_for_timeout(_SETTLE_MS)
    read = page.eval_on_selector_all("[data-chart]", _CHARTS_JS)
    charts = {str(i): _count(n) for i, n, _ in read}
    sizes = observer.listing_sizes()  # what the page received, not what it says it drew
    empty = [str(i) for i, n, state in read if _count(n) == 0 and _no_data(str(i), state, sizes)]
    data_error = page.evaluate("() => document.body.dataset.error ?? null")
    if data_error:
        problems.append(f"the page reported: {data_error}")
    missing = [c for c in DASHBOARD_CHARTS if c not in charts]
    if missing:
        problems.append(f"charts missing: {', '.join(missing)}")
    blank = [c for c, n in charts.items() if n <= 0 and c not in empty]
    if blank:
        problems.append(f"charts without data: {', '.join(blank)}")
    return charts, empty


def _no_data(chart: str, state: Any, sizes: dict[str, int]) -> bool:
    """Whether ``chart`` shows its empty state and every listing it is drawn from was empty."""
    sources = DASHBOARD_CHARTS.get(chart, ())
    return state == "empty" and bool(sources) and all(sizes.get(k) == 0 for k in sources)


def _count(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
