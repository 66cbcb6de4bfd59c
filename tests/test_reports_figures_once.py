"""Each figure of a report appears once (issue 15, part 4).

``Report.figure`` tags the output it displays with ``{"ardlib_figure": stem}``.  In an
executed report an image without that tag was drawn by someone else -- typically the inline
backend drawing a figure a second time at the end of its cell -- and a tag or an image seen
twice is a figure shown twice.  :func:`check_figures_once` also checks that the rendered
page shows the notebook's images, in order, and no others.  ``tests/test_notebooks.py``
applies it to every smoke run, so no notebook is executed twice for it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from ardlib.reports import plot_convergence, render_html


def _digest(b64: str) -> str:
    return hashlib.sha256(base64.b64decode(b64)).hexdigest()


def shown_images(nb: Any) -> list[tuple[str | None, str, bool]]:
    """(figure stem or None, sha256 of the bytes, is a matplotlib figure) of every raster
    image output, in order (a screenshot shown with ``IPython.display.Image`` is no figure)."""
    return [
        (
            out.get("metadata", {}).get("ardlib_figure"),
            _digest(payload),
            str(out.get("data", {}).get("text/plain", "")).startswith("<Figure"),
        )
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        for mime, payload in out.get("data", {}).items()
        if mime in ("image/png", "image/jpeg")
    ]


class _PageImages(HTMLParser):
    """Digests of a page's embedded images, in order (``src`` for any other image)."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            src = dict(attrs).get("src") or ""
            embedded = src.startswith("data:image/") and ";base64," in src
            self.images.append(_digest(src.split(",", 1)[1]) if embedded else src)


def check_figures_once(
    executed: str | os.PathLike[str], *, html: str | os.PathLike[str] | None = None
) -> list[str]:
    """What shows a figure other than once in an executed report ([] when nothing does)."""
    # imported here, not at the top: nbformat imports jsonschema (~1.5 s), which every xdist
    # worker would pay at collection (test_notebooks imports this module too)
    import nbformat

    shown = shown_images(nbformat.read(executed, as_version=4))
    problems = []
    untagged = sum(stem is None and figure for stem, _, figure in shown)
    if untagged:
        problems.append(f"{untagged} image(s) not shown by Report.figure (drawn again?)")
    for stem, n in Counter(s for s, _, _ in shown if s is not None).items():
        if n > 1:
            problems.append(f"figure {stem!r} shown {n} times")
    if any(n > 1 for n in Counter(d for _, d, _ in shown).values()):
        problems.append("the same image shown twice")
    if html is not None:
        parser = _PageImages()
        parser.feed(Path(html).read_text(encoding="utf-8"))
        if parser.images != [d for _, d, _ in shown]:
            problems.append(
                f"the page shows {len(parser.images)} image(s), not the notebook's "
                f"{len(shown)} in order"
            )
    return problems


def _image(seed: int, stem: str | None) -> Any:
    png = base64.b64encode(b"\x89PNG fake " + bytes([seed])).decode()
    import nbformat

    meta = {} if stem is None else {"ardlib_figure": stem}
    return nbformat.v4.new_output(
        "display_data", data={"image/png": png, "text/plain": "<Figure>"}, metadata=meta
    )


def _executed(tmp_path: Path, outputs: list[Any]) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## One"), nbformat.v4.new_code_cell("")]
    nb.cells[1].outputs = outputs
    path = tmp_path / "report.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_figures_shown_once_by_report_figure_pass_and_the_page_agrees(tmp_path: Path) -> None:
    executed = _executed(tmp_path, [_image(1, "a"), _image(2, "b")])
    page = render_html(executed, tmp_path / "report.html")
    assert check_figures_once(executed, html=page) == []
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("</body>", '<img src="figures/a.png"></body>'))
    assert check_figures_once(executed, html=page) == [
        "the page shows 3 image(s), not the notebook's 2 in order"
    ]


@pytest.mark.parametrize(
    ("images", "problem"),
    [
        ([(1, "a"), (2, None)], "1 image(s) not shown by Report.figure"),
        ([(1, "a"), (2, "a")], "figure 'a' shown 2 times"),
        ([(1, "a"), (1, "b")], "the same image shown twice"),
    ],
)
def test_a_figure_shown_twice_is_found(
    tmp_path: Path, images: list[tuple[int, str | None]], problem: str
) -> None:
    outputs = [_image(seed, stem) for seed, stem in images]  # (built here, not at collection)
    problems = check_figures_once(_executed(tmp_path, outputs))
    assert any(p.startswith(problem) for p in problems), problems


@pytest.mark.slow  # a Jupyter kernel; the checks above run on stored outputs
def test_a_figure_left_open_in_a_real_kernel_is_found(tmp_path: Path) -> None:
    """The mechanism itself: a figure displayed and left open is drawn again at the end of
    the cell; ``Report.figure`` closes it."""
    import nbformat
    import papermill

    nb = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "from ardlib.reports import Report\n"
            f"report = Report('t', 'T', metrics_path={str(tmp_path / 'm.json')!r}, "
            f"figures_dir={str(tmp_path / 'f')!r})\n"
            "report.figure(plt.figure(), 'closed')\n"
            "fig = plt.figure(); fig.gca().plot([1, 2])\n"
        )
    ]
    source, executed = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, source)
    papermill.execute_notebook(
        str(source), str(executed), kernel_name="python3", progress_bar=False
    )
    assert check_figures_once(executed) == ["1 image(s) not shown by Report.figure (drawn again?)"]


@pytest.mark.parametrize("metric", ["true regret at recommendation", "true regret of best"])
def test_convergence_figures_of_one_problem_say_which_metric(metric: str) -> None:
    """Two metrics of one problem draw the same panels with other values: the title must
    tell them apart (they read as one figure shown twice)."""
    import matplotlib.pyplot as plt
    import pandas as pd

    bands = pd.DataFrame(
        {
            "problem": "branin",
            "noise": ["sd0", "sd0", "sd1", "sd1"],
            "planner": "random",
            "step": [0, 1, 0, 1],
            "evaluations": [1, 2, 1, 2],
            "median": [1.0, 0.5, 1.0, 0.7],
            "low": [0.8, 0.4, 0.8, 0.5],
            "high": [1.2, 0.6, 1.2, 0.9],
            "n": 3,
        }
    )
    fig = plot_convergence(bands, problem="branin", ylabel=metric)
    try:
        assert fig.get_suptitle() == f"branin: {metric}"
    finally:
        plt.close(fig)


def test_an_image_that_is_no_figure_needs_no_tag(tmp_path: Path) -> None:
    screenshot = _image(3, None)
    screenshot["data"]["text/plain"] = "<IPython.core.display.Image object>"
    assert check_figures_once(_executed(tmp_path, [_image(1, "a"), screenshot])) == []
