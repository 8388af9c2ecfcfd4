"""The home page and the health check."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user
from sqlalchemy import text

from portal.access import public
from portal.clock import utcnow
from portal.extensions import db
from portal.main import bp
from portal.main.services import pair_life, program_for
from portal.matches.cohort import explain_pairs
from portal.matches.services import persons_pairings
from portal.onboarding.services import progress_for
from portal.support.services import home_support


@bp.route("/")
@public
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    program = program_for(current_user)
    cycle = program.cycle
    mine = persons_pairings(current_user)
    pairings = [pairing for pairing in mine.active if pairing.cycle_id == cycle.id] if cycle else []
    # Stored reasons speak to the mentee; a mentor reads them phrased for a mentor.
    mentoring = [(p.mentee_id, p.mentor_id) for p in pairings if p.is_mentor(current_user)]
    mentor_reasons = explain_pairs(cycle, mentoring, audience="mentor") if mentoring else {}
    return render_template(
        "main/home.html",
        # Once the questionnaire is finished the page says nothing of its steps: no need to read them.
        progress=None if current_user.onboarded_at else progress_for(current_user),
        cycle=cycle,
        enrolment=program.enrolment,
        pairings=pairings,
        mentor_reasons=mentor_reasons,
        retrospectives_waiting=mine.retrospectives_waiting,
        support=home_support(
            current_user,
            pairings,
            ended=mine.ended,
            thresholds=program.thresholds,
            has_help=program.has_help,
            now=utcnow(),
        ),
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
