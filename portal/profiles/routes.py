"""A person's profile: their questionnaire answers, visible to themself alone and editable."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from portal.access import signed_in
from portal.onboarding.questions import QUESTIONS
from portal.onboarding.services import load_state, progress_for
from portal.profiles import bp


@bp.route("/me")
@signed_in
def me():
    return render_template(
        "profiles/show.html",
        states=load_state(current_user),
        questions=QUESTIONS,
        progress=progress_for(current_user),
    )


@bp.route("/<int:user_id>")
@signed_in
def show(user_id: int):
    # Answers are private to their owner; for anyone else the page does not exist.
    if user_id != current_user.id:
        abort(404)
    return me()
