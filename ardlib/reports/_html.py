"""Render an executed notebook as a self-contained HTML report.

The page shows outputs only (code cells, input and output prompts are hidden), embeds
figures as ``data:`` URIs and CSS inline, and loads nothing from the network: the JupyterLab
template's script tags (RequireJS, MathJax, Mermaid and the widget manager, all from CDNs)
are overridden with empty blocks.  The cost: LaTeX in markdown shows as its TeX source and
widgets are not rendered, which static reports do not need.
"""

from __future__ import annotations

import copy
import logging
import re
from pathlib import Path
from typing import Any

__all__ = ["notebook_title", "render_html"]

_TEMPLATE_FILE = "ardlib_report.html.j2"
# Extends the JupyterLab template (the DictLoader is searched first, so 'index.html.j2'
# resolves to lab's) and drops every block that writes a <script src=...>.
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


class _NoAltTextWarning(logging.Filter):
    """Drop nbconvert's per-page 'Alternative text is missing' warning: matplotlib outputs
    never carry alt text, and nbconvert already writes a generic one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Alternative text is missing")


_LOG = logging.getLogger(__name__)
_LOG.addFilter(_NoAltTextWarning())


def notebook_title(nb: Any, default: str = "") -> str:
    """Text of the first markdown heading (``# Title``) in the notebook, else ``default``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = _HEADING.search(cell.source)
            if match:
                return match.group(1).replace("*", "").replace("`", "").strip()
    return default


def render_html(executed_nb: str | Path | Any, html_path: str | Path) -> Path:
    """Write an executed notebook as a self-contained HTML page without code.

    Parameters
    ----------
    executed_nb : str, Path or nbformat.NotebookNode
        The executed notebook (a failed run renders too: its error output is kept).
    html_path : str or Path
        Where to write the page; parent directories are created.

    Returns
    -------
    Path
        ``html_path``.  The page title is the notebook's first markdown heading, else the
        file stem.
    """
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    html_path = Path(html_path)
    if isinstance(executed_nb, str | Path):
        nb = nbformat.read(executed_nb, as_version=4)
    else:
        nb = copy.deepcopy(executed_nb)
    nb.metadata["title"] = notebook_title(nb, default=html_path.stem)
    nb.metadata.pop("widgets", None)  # widget state would pull the widget manager from a CDN
    exporter = HTMLExporter(
        template_name="lab",
        template_file=_TEMPLATE_FILE,
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_FILE: _TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        log=_LOG,
    )
    body, _ = exporter.from_notebook_node(nb)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path
