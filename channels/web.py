"""The demo city page at ``/``: an ordinary page that embeds the widget with one script tag."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static")


@bp.get("/")
def index() -> str:
    """A city welfare page (Korean) with the widget, as a city would embed it."""
    return render_template("index.html")
