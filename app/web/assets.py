"""Front-end packages served by the platform itself from node_modules (installed by `npm ci`, pinned in
package-lock.json): nothing is fetched from elsewhere at run time, and nothing built is committed."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, send_from_directory

from app.web.blueprint import bp

# The only files served, by public name -> path inside node_modules.
VENDOR = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "bpmn-viewer.js": "bpmn-js/dist/bpmn-navigated-viewer.production.min.js",
    "diagram-js.css": "bpmn-js/dist/assets/diagram-js.css",
    "bpmn-js.css": "bpmn-js/dist/assets/bpmn-js.css",
    "echarts.min.js": "echarts/dist/echarts.min.js",
    "bpmn-modeler.js": "bpmn-js/dist/bpmn-modeler.production.min.js",
    "bpmn-font.css": "bpmn-js/dist/assets/bpmn-font/css/bpmn.css",
    "camunda.json": "camunda-bpmn-moddle/resources/camunda.json",
}
# The modeler's icon font, where bpmn-font.css looks for it (../font/ from /assets/vendor/).
FONTS = {name: f"bpmn-js/dist/assets/bpmn-font/font/{name}" for name in ("bpmn.woff2", "bpmn.woff", "bpmn.ttf")}


def node_modules() -> Path:
    """Where `npm ci` put the packages (the project's root, beside package.json)."""
    return Path(current_app.root_path).parent / "node_modules"


@bp.route("/assets/vendor/<name>")
def vendor(name: str):
    """One pinned front-end file (404 for anything not listed)."""
    return _send(VENDOR.get(name))


@bp.route("/assets/font/<name>")
def vendor_font(name: str):
    """The modeler's icon font (404 for anything not listed)."""
    return _send(FONTS.get(name))


def _send(inside: str | None):
    if inside is None:
        abort(404)
    if not (node_modules() / inside).is_file():
        current_app.logger.error("front-end asset %s missing: run `npm ci` (make install does)", inside)
        abort(404)
    return send_from_directory(node_modules(), inside, max_age=3600)
