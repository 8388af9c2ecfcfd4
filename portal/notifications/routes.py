"""The notification list, each person's preferences, unsubscribe links, and the director's failed jobs."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import director, public, signed_in
from portal.clock import utcnow, zone_for
from portal.edge import page_arg
from portal.extensions import csrf, db
from portal.forms import EmptyForm
from portal.models import FailedJob
from portal.notifications import bp
from portal.notifications.forms import PreferencesForm
from portal.notifications.preferences import (
    KINDS,
    KINDS_BY_KEY,
    LinkProblem,
    read_unsubscribe_token,
    save_preferences,
    settings_for,
    unsubscribe,
)
from portal.notifications.services import mark_all_read, notifications_page
from portal.queue import retry_failed
from portal.web import errors_onto, render


@bp.route("/")
@signed_in
def index():
    page = notifications_page(current_user, page_arg())
    return render_template("notifications/index.html", page=page, form=EmptyForm())


@bp.route("/read-all", methods=["POST"])
@signed_in
def read_all():
    changed = mark_all_read(current_user)
    flash("All caught up." if changed else "There was nothing unread.", "success")
    return redirect(url_for("notifications.index"), code=303)


# --- preferences and unsubscribe links ----------------------------------------------------------------


def _form_from(setting) -> PreferencesForm:
    form = PreferencesForm()
    if not form.is_submitted():
        for kind in KINDS:
            form[kind.key].data = getattr(setting, kind.key).value
        form.hour_before_by_email.data = setting.hour_before_by_email
        form.digest_day.data = str(setting.digest_day)
        form.quiet_from.data = "" if setting.quiet_from is None else str(setting.quiet_from)
        form.quiet_until.data = "" if setting.quiet_until is None else str(setting.quiet_until)
    return form


@bp.route("/preferences", methods=["GET", "POST"])
@signed_in
def preferences():
    form = _form_from(settings_for(current_user))
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            save_preferences(current_user, {name: field.data for name, field in form._fields.items()})
        if outcome.ok:
            flash("Your choices are saved.", "success")
            return redirect(url_for("notifications.preferences"), code=303)
        return render("notifications/preferences.html", form=form, status=422, zone=zone_for(current_user))
    if form.is_submitted():
        abort(400)
    return render("notifications/preferences.html", form=form, zone=zone_for(current_user))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail programs post the one-click form without a token; the signed link is the proof
@public
def unsubscribe_link(token: str):
    try:
        user, kind = read_unsubscribe_token(token)
    except LinkProblem as problem:
        return render("notifications/unsubscribe.html", problem=problem.message, status=400)
    label = "every email you can switch off" if kind == "all" else KINDS_BY_KEY[kind].label.lower()
    if request.method == "POST":
        unsubscribe(user, kind)
        return render("notifications/unsubscribe.html", done=True, label=label)
    return render("notifications/unsubscribe.html", label=label, token=token)


# --- the director's view of jobs that failed ------------------------------------------------------------


@bp.route("/jobs")
@director
def failed_jobs():
    jobs = db.session.scalars(
        select(FailedJob).where(FailedJob.retried_at.is_(None)).order_by(FailedJob.failed_at.desc()).limit(100)
    ).all()
    return render("notifications/jobs.html", jobs=jobs, form=EmptyForm())


@bp.route("/jobs/<int:job_id>/retry", methods=["POST"])
@director
def retry_job(job_id: int):
    failed = db.session.get(FailedJob, job_id)
    if failed is None:
        abort(404)
    if failed.retried_at is None:  # a second press (another tab) enqueues nothing more
        failed.retried_at = utcnow()
        retry_failed(failed)
    flash("The job is queued again.", "success")
    return redirect(url_for("notifications.failed_jobs"), code=303)
