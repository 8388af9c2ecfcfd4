"""The home page and the health check."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user
from sqlalchemy import text

from portal.access import public
from portal.clock import utcnow
from portal.extensions import db
from portal.main import bp
from portal.main.services import pair_life
from portal.matches.cohort import explain_pairs
from portal.matches.services import pairings_of
from portal.onboarding.services import progress_for
from portal.programs.services import current_cycle, enrolment_for
from portal.support.services import home_support


@bp.route("/")
@public
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    cycle = current_cycle()
    pairings = pairings_of(current_user, cycle) if cycle else []
    # Stored reasons speak to the mentee; a mentor reads them phrased for a mentor.
    mentoring = [(p.mentee_id, p.mentor_id) for p in pairings if p.is_mentor(current_user)]
    mentor_reasons = explain_pairs(cycle, mentoring, audience="mentor") if mentoring else {}
    return render_template(
        "main/home.html",
        progress=progress_for(current_user),
        cycle=cycle,
        enrolment=enrolment_for(current_user, cycle),
        pairings=pairings,
        mentor_reasons=mentor_reasons,
        support=home_support(current_user, pairings, now=utcnow()),
        **pair_life(current_user, pairings),
    )


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001  (any database failure means "not healthy"; the edge rolls back at 503)
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200
