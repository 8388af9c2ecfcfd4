"""The home page and the health check."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user
from sqlalchemy import text

from portal.access import public
from portal.extensions import db
from portal.main import bp
from portal.onboarding.services import progress_for


@bp.route("/")
@public
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    return render_template("main/home.html", progress=progress_for(current_user))


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001  (any database failure means "not healthy")
        db.session.rollback()
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200
