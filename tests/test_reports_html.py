"""render_html: outputs without code, figures embedded, nothing loaded from the network."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ardlib.reports import render_html

if TYPE_CHECKING:
    import nbformat

CODE_MARKER = "SOURCE_ONLY_MARKER_31337"


def _png() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _executed(png: bytes) -> nbformat.NotebookNode:
    """A notebook as papermill leaves it: sources, outputs, counts, an error."""
    from nbformat import v4

    fig = v4.new_code_cell(f"{CODE_MARKER} = 1\nplot()", execution_count=2)
    fig.outputs = [
        v4.new_output("stream", name="stdout", text="visible printed output\n"),
        v4.new_output(
            "display_data",
            data={"image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"},
        ),
    ]
    err = v4.new_code_cell(f"{CODE_MARKER}_2 = 1/0", execution_count=3)
    err.outputs = [
        v4.new_output(
            "error",
            ename="ZeroDivisionError",
            evalue="division by zero",
            traceback=["\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"],
        )
    ]
    cells = [
        v4.new_markdown_cell("Some preamble.\n\n## Validation *report*\n\nInline math $x^2$."),
        v4.new_code_cell(f"{CODE_MARKER}_p = 3", metadata={"tags": ["parameters"]}),
        fig,
        err,
    ]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    import nbformat

    png = _png()
    nb_path = tmp_path_factory.mktemp("nb") / "demo.ipynb"
    nbformat.write(_executed(png), nb_path)
    html_path = nb_path.parent / "out" / "demo.html"
    assert render_html(nb_path, html_path) == html_path
    return html_path.read_text()


def test_code_and_prompts_are_hidden(page: str) -> None:
    assert CODE_MARKER not in page
    for element in ("jp-InputPrompt", "jp-OutputPrompt", "jp-CodeMirrorEditor", "highlight"):
        assert f'class="{element}' not in page, element


def test_outputs_and_errors_are_kept(page: str) -> None:
    assert "visible printed output" in page
    assert "ZeroDivisionError" in page and "division by zero" in page


def test_png_is_embedded(page: str) -> None:
    assert re.search(r'<img[^>]+src="data:image/png;base64,[A-Za-z0-9+/=]{100,}', page)


def test_title_is_the_first_markdown_heading(page: str) -> None:
    assert "<title>Validation report</title>" in page


def test_no_network_resources(page: str) -> None:
    assert re.findall(r"<script[^>]*\ssrc=", page) == []
    assert re.findall(r"<link[^>]*\shref=[\"']?(?:https?:)?//", page) == []
    assert re.findall(r"@import", page) == []
    assert "mathjax" not in page.lower()


def test_no_log_noise(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    nb = _executed(_png())
    render_html(nb, tmp_path / "x.html")
    assert [r.getMessage() for r in caplog.records if r.levelno >= 30] == []


def test_title_falls_back_to_file_stem(tmp_path: Path) -> None:
    from nbformat import v4

    nb = v4.new_notebook(cells=[v4.new_markdown_cell("no heading here")])
    out = render_html(nb, tmp_path / "plain_report.html")
    assert "<title>plain_report</title>" in out.read_text()
