"""A person's profile: their questionnaire answers, visible to themself alone and editable."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from portal.access import signed_in
from portal.clock import today
from portal.onboarding.questions import QUESTIONS
from portal.onboarding.services import load_state, progress_for
from portal.profiles import bp
from portal.programs.services import enrolments_by_cycle, open_for_enrolment


@bp.route("/me")
@signed_in
def me():
    # The way on after the questionnaire: the cycles open for enrolment, and which the person is in.
    cycles = open_for_enrolment(today())
    return render_template(
        "profiles/show.html",
        states=load_state(current_user),
        questions=QUESTIONS,
        progress=progress_for(current_user),
        cycles=cycles,
        enrolled=enrolments_by_cycle(current_user, cycles),
    )


@bp.route("/<int:user_id>")
@signed_in
def show(user_id: int):
    # Answers are private to their owner; for anyone else the page does not exist.
    if user_id != current_user.id:
        abort(404)
    return me()
