"""A person's profile: their questionnaire answers and time zone, visible to themself alone and editable."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from portal.access import signed_in
from portal.clock import today, zone_for
from portal.onboarding.questions import QUESTIONS
from portal.onboarding.services import load_state, progress_for, set_timezone
from portal.profiles import bp
from portal.profiles.forms import ZoneForm
from portal.programs.services import enrolments_by_cycle, open_for_enrolment
from portal.web import errors_onto, is_fragment, render, status_message


def _page(*, status: int = 200, value: str | None = None, error: str | None = None):
    # The way on after the questionnaire: the cycles open for enrolment, and which the person is in.
    cycles = open_for_enrolment(today())
    return render(
        "profiles/show.html",
        "profiles/_zone_form.html",
        status=status,
        states=load_state(current_user),
        questions=QUESTIONS,
        progress=progress_for(current_user),
        zone=zone_for(current_user),
        value=zone_for(current_user).key if value is None else value,
        error=error,
        cycles=cycles,
        enrolled=enrolments_by_cycle(current_user, cycles),
    )


@bp.route("/me")
@signed_in
def me():
    return _page()


@bp.route("/me/timezone", methods=["POST"])
@signed_in
def timezone():
    form = ZoneForm()
    with errors_onto(form) as outcome:
        set_timezone(current_user, timezone=form.timezone.data)
    if not outcome.ok:
        return _page(status=422, value=form.timezone.data or "", error=form.timezone.errors[0])
    message = f"Your time zone is saved. Times now show in {zone_for(current_user).key}."
    if is_fragment():
        page, status = _page()
        # Both are rendered templates (autoescaped); joined as plain text so neither is escaped again.
        return page + str(status_message(message)), status
    flash(message, "success")
    return redirect(url_for("profiles.me"), code=303)


@bp.route("/<int:user_id>")
@signed_in
def show(user_id: int):
    # Answers are private to their owner; for anyone else the page does not exist.
    if user_id != current_user.id:
        abort(404)
    return me()
