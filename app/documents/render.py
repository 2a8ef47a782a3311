"""Rendering documents: a Jinja template per kind into A4 HTML, and that HTML into PDF (WeasyPrint).

The environment is the package's own (not the pages'): a document depends only on the data frozen
for it, never on a request. Chinese text is set in Debian's Noto CJK fonts (fonts-noto-cjk).
"""

from __future__ import annotations

import base64
from pathlib import Path

from flask import current_app
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_env = Environment(
    loader=PackageLoader("app.documents", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def html(template: str, context: dict) -> bytes:
    """The UTF-8 HTML of `template` (e.g. "receipt") over `context`."""
    return _env.get_template(f"documents/{template}.html").render(**context).encode("utf-8")


def pdf(html_bytes: bytes) -> bytes:
    """The PDF of stored HTML bytes (A4, as the print style sheet lays it out)."""
    from weasyprint import HTML  # imported on first use: it loads pango and the fonts

    return HTML(string=html_bytes.decode("utf-8")).write_pdf()


def seal(department: str) -> str | None:
    """The department's seal image as a data URI (DOCUMENT_SEAL_DIR/<department>.png), or None."""
    folder = current_app.config.get("DOCUMENT_SEAL_DIR")
    if not folder:
        return None
    path = Path(folder) / f"{department}.png"
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
