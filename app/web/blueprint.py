"""The pages' one blueprint (each area module adds its routes to it; app.web registers it)."""

from flask import Blueprint

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets")
