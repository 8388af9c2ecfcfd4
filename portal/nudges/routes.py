"""Routes of the interest nudge: curious page, nudging a colleague, the private card, settings, the roster."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from werkzeug.exceptions import RequestEntityTooLarge

from portal.access import director, public, signed_in
from portal.clock import today, utcnow
from portal.database import begin_writing
from portal.edge import page_arg
from portal.errors import ValidationFailed
from portal.extensions import csrf, htmx, limiter
from portal.forms import EmptyForm
from portal.models import InterestKind, NudgeAnswer
from portal.nudges import bp
from portal.nudges.forms import ClaimForm, NudgeForm
from portal.nudges.links import LinkExpired, LinkInvalid, read_card_token, read_claim_token
from portal.nudges.roster import (
    MAX_BYTES,
    PREVIEW_LIMIT,
    ClaimUsed,
    FileTooLarge,
    ImportNotApplicable,
    apply_import,
    claim_account,
    get_import,
    invited_entry,
    preview_upload,
    problems_csv,
    recent_imports,
    roster_size,
)
from portal.nudges.services import (
    REFUSAL,
    SNOOZE_MONTHS,
    CannotNudge,
    answer_card,
    card_for,
    change_settings,
    curious_figures,
    figures_as_of,
    get_recipient,
    is_enrolled,
    mark_opened,
    nudge_figures,
    preference_for,
    received_nudges,
    record_interest,
    search_people,
    send_director_note,
    send_nudge,
    sender_label,
    sent_page,
    stories,
    why_not,
)
from portal.onboarding.services import progress_for
from portal.web import errors_onto, render


def _sender_key() -> str:
    return f"nudger:{getattr(current_user, 'id', None) or request.remote_addr}"


def _limit(name: str, default: str):
    return lambda: current_app.config.get(name, default)


def _go(target: str):
    """After a POST: a 303 without JavaScript, a full-page HX-Redirect for htmx."""
    if htmx:
        return Response(status=204, headers={"HX-Redirect": target})
    return redirect(target, code=303)


def _link_problem(status: int, title: str, message: str, *, sign_in: bool = True):
    return render_template("nudges/link_problem.html", title=title, message=message, sign_in=sign_in), status


# --- "Curious about mentoring?" --------------------------------------------------------------------------


@bp.route("/curious")
@signed_in
def curious():
    day = today().isoformat()
    if session.get("curious_counted") != day:
        # One visit per person and day is counted; what is stored is the count, never who.
        begin_writing()
        record_interest(InterestKind.VISIT, day=today())
        session["curious_counted"] = day
    progress = progress_for(current_user)
    return render_template(
        "nudges/curious.html",
        stories=stories(),
        progress=progress,
        enrolled=is_enrolled(current_user),
        form=EmptyForm(),
    )


@bp.route("/curious", methods=["POST"])
@signed_in
@limiter.limit(_limit("NUDGE_CURIOUS_LIMITS", "10 per day"), key_func=_sender_key, methods=["POST"])
def curious_choice():
    choice = request.form.get("choice")
    if choice not in ("start", "more", "not_now"):
        abort(400)
    kind = {"start": InterestKind.START, "more": InterestKind.MORE, "not_now": InterestKind.NOT_NOW}[choice]
    record_interest(kind, day=today())
    if choice == "more":
        send_director_note(current_user)
    if choice == "start":
        progress = progress_for(current_user)
        return redirect(url_for("programs.enrolment" if progress.finished else "onboarding.start"), code=303)
    if choice == "more":
        flash(
            "Thank you for asking. A short note from the program director is on its way to your email.",
            "success",
        )
        return redirect(url_for("nudges.curious"), code=303)
    flash("That is fine. This page is here whenever you are curious again.", "success")
    return redirect(url_for("main.home"), code=303)


# --- nudging a colleague --------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@signed_in
@limiter.limit(
    _limit("NUDGE_LIMITS_PER_SENDER", "5 per day"),
    key_func=_sender_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 303,
)
@limiter.limit(_limit("NUDGE_ATTEMPTS_PER_SENDER", "20 per day"), key_func=_sender_key, methods=["POST"])
# Choosing a person already says whether they can be nudged, so the same guard against probing applies.
@limiter.limit(
    _limit("NUDGE_ATTEMPTS_PER_SENDER", "20 per day"),
    key_func=lambda: "chosen:" + _sender_key(),
    methods=["GET"],
    exempt_when=lambda: not request.args.get("to"),
)
def new():
    form = NudgeForm()
    term = request.args.get("q", "").strip()[:80]
    if htmx and not htmx.boosted and request.method == "GET":
        return render_template("nudges/_people.html", term=term, people=search_people(current_user, term))
    key = form.to.data if request.method == "POST" else request.args.get("to", "")
    recipient = None
    if key:
        recipient = get_recipient(key)
        form.to.data = recipient.key
    refusal = None
    if request.method == "GET" and recipient is not None:
        # Said as soon as the person is chosen, before anyone writes a note; the same words whatever the reason.
        reason = why_not(current_user, recipient, now=utcnow())
        if reason is not None:
            current_app.logger.info("nudge refused on choosing: %s", reason)
            refusal = REFUSAL
    if request.method == "POST":
        if recipient is None:
            abort(400)
        if form.validate_on_submit():
            try:
                with errors_onto(form) as outcome:
                    send_nudge(
                        current_user,
                        recipient,
                        message=form.message.data,
                        suggested_role=None if form.suggested_role.data == "none" else form.suggested_role.data,
                        show_name=form.show_name.data != "colleague",
                        now=utcnow(),
                    )
            except CannotNudge as refused:
                # Answered 422 below, so the edge rolls back whatever the service had flushed.
                current_app.logger.info("nudge refused: %s", refused.reason)
                refusal = refused.message
            else:
                if outcome.ok:
                    flash(f"Your note to {recipient.name} is delivered. Thank you for thinking of them.", "success")
                    return redirect(url_for("nudges.new"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "nudges/new.html",
        form=form,
        recipient=recipient,
        refusal=refusal,
        term=term,
        people=search_people(current_user, term) if term and recipient is None else [],
    ), status


# --- the recipient's card ---------------------------------------------------------------------------------


def _render_card(nudge, *, errors=None, status=200, message=None):
    context = {
        "nudge": nudge,
        "sender": sender_label(nudge),
        "preference": preference_for(current_user),
        "months": SNOOZE_MONTHS,
        "errors": errors or {},
        "today": today(),
        "message": message,
        "form": EmptyForm(),
    }
    return render("nudges/card.html", "nudges/_card.html", status=status, **context)


@bp.route("/cards/<int:nudge_id>")
@signed_in
def card(nudge_id: int):
    begin_writing()
    nudge = card_for(current_user, nudge_id)
    mark_opened(nudge, now=utcnow())  # a GET that writes: the edge commits it with the 200 answer
    return _render_card(nudge)


@bp.route("/cards/<int:nudge_id>", methods=["POST"])
@signed_in
def answer(nudge_id: int):
    nudge = card_for(current_user, nudge_id)
    choice = request.form.get("choice", "")
    months = request.form.get("months", type=int)
    with errors_onto() as outcome:
        next_path = answer_card(current_user, nudge, choice=choice, months=months, now=utcnow())
    if not outcome.ok:
        return _render_card(card_for(current_user, nudge_id), errors=outcome.extra, status=422)
    if next_path:
        flash("Thank you. Take your time: every question can be skipped, and nothing is shared yet.", "success")
        return _go(next_path)
    message = {
        NudgeAnswer.MORE: "Thank you for asking. A short note from the program director is on its way to your email.",
        NudgeAnswer.NOT_NOW: "That is fine. Nobody can nudge you until the pause ends.",
        NudgeAnswer.NO_THANKS: "Thank you for letting us know. Nobody will nudge you again; only you can undo this.",
    }[nudge.answer]
    if htmx:
        return _render_card(nudge, message=message)
    flash(message, "success")
    return redirect(url_for("nudges.card", nudge_id=nudge.id), code=303)


@bp.route("/open/<token>")
@public
def open_card(token: str):
    try:
        nudge_id = read_card_token(token)
    except LinkExpired:
        return _link_problem(
            410,
            "This link has expired",
            "Links in our emails work for 14 days. The note is still waiting for you: sign in and open "
            "\u201cNotifications\u201d or your invitation settings.",
        )
    except LinkInvalid:
        return _link_problem(
            400,
            "This link does not work",
            "It may have been cut short when it was copied. Please try the link from the email again, or sign in "
            "and open \u201cNotifications\u201d.",
        )
    if not current_user.is_authenticated:
        flash("Please sign in to read your note. It is private to you.", "info")
        return redirect(url_for("accounts.sign_in", next=url_for("nudges.open_card", token=token)), code=303)
    card_for(current_user, nudge_id)
    return redirect(url_for("nudges.card", nudge_id=nudge_id), code=303)


# --- claiming an invited account ---------------------------------------------------------------------------


@bp.route("/claim/<token>", methods=["GET", "POST"])
@public
def claim(token: str):
    try:
        entry_id, nudge_id = read_claim_token(token)
        entry = invited_entry(entry_id)
    except LinkExpired:
        return _link_problem(
            410,
            "This link has expired",
            "Invitation links work for 14 days. You can still create an account with your work email whenever "
            "you like; any note waiting for you will be there.",
        )
    except (LinkInvalid, LookupError):
        return _link_problem(
            400,
            "This link does not work",
            "It may have been cut short when it was copied. Please try the link from the email again.",
        )
    except ClaimUsed:
        return _link_problem(
            410,
            "This link has already been used",
            "Your account is set up. Please sign in with your work email and the password you chose.",
        )
    form = ClaimForm()
    if request.method == "GET":
        form.display_name.data = entry.name
    if form.validate_on_submit():
        try:
            with errors_onto(form) as outcome:
                user = claim_account(entry, display_name=form.display_name.data, password=form.password.data)
        except ClaimUsed:
            return _link_problem(410, "This link has already been used", "Please sign in with your work email.")
        if outcome.ok:
            session.clear()
            login_user(user)
            session.permanent = True
            flash("Your account is ready. Welcome.", "success")
            if nudge_id is not None:
                return redirect(url_for("nudges.card", nudge_id=nudge_id), code=303)
            return redirect(url_for("main.home"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("nudges/claim.html", form=form, entry=entry), status


# --- the person's settings ------------------------------------------------------------------------------


def _render_settings(*, status=200, message=None):
    context = {
        "preference": preference_for(current_user),
        "received": received_nudges(current_user),
        "today": today(),
        "form": EmptyForm(),
        "message": message,
    }
    return render("nudges/settings.html", "nudges/_settings.html", status=status, **context)


@bp.route("/settings")
@signed_in
def settings():
    return _render_settings()


@bp.route("/settings", methods=["POST"])
@signed_in
def change():
    try:
        message = change_settings(current_user, action=request.form.get("action", ""), now=utcnow())
    except ValidationFailed:
        abort(400)
    if htmx:
        return _render_settings(message=message)
    flash(message, "success")
    return redirect(url_for("nudges.settings"), code=303)


# --- the director: roster and numbers ---------------------------------------------------------------------


def _render_roster(*, error=None, status=200):
    total, invited = roster_size()
    return render_template(
        "nudges/roster.html", error=error, total=total, invited=invited, imports=recent_imports(), limit_mb=2
    ), status


@bp.route("/roster", methods=["GET", "POST"])
@director
def roster():
    if request.method == "GET":
        return _render_roster()
    # Checked before anything reads the body, so a huge upload is refused without being stored.
    if (request.content_length or 0) > MAX_BYTES + 64 * 1024:
        return _render_roster(error="This file is larger than 2 MB. Please split it and upload the parts.", status=413)
    request.max_content_length = MAX_BYTES + 64 * 1024
    try:
        csrf.protect()
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        return _render_roster(error="This file is larger than 2 MB. Please split it and upload the parts.", status=413)
    if upload is None or not upload.filename:
        return _render_roster(error="Please choose the roster file (CSV) to upload.", status=422)
    try:
        made = preview_upload(current_user, filename=upload.filename, data=upload.stream.read(MAX_BYTES + 1))
    except FileTooLarge as failure:
        return _render_roster(error=failure.errors["file"], status=413)
    except ValidationFailed as failure:
        return _render_roster(error=failure.errors["file"], status=422)
    return redirect(url_for("nudges.preview", import_id=made.id), code=303)


# The size check must run before the CSRF check reads the body; the view checks CSRF itself.
csrf.exempt(roster)


def _render_preview(upload, *, problem=None, status=200):
    return render_template(
        "nudges/preview.html", upload=upload, limit=PREVIEW_LIMIT, form=EmptyForm(), problem=problem
    ), status


@bp.route("/roster/<int:import_id>")
@director
def preview(import_id: int):
    return _render_preview(get_import(import_id))


@bp.route("/roster/<int:import_id>/apply", methods=["POST"])
@director
def apply(import_id: int):
    upload = get_import(import_id)
    try:
        counts = apply_import(upload)
    except ImportNotApplicable as refusal:
        # The service changed nothing (its claim is undone with its savepoint): the preview shows the stored state.
        return _render_preview(get_import(import_id), problem=refusal.message, status=409)
    flash(
        f"The roster is updated: {counts['added']} added, {counts['changed']} changed, "
        f"{counts['unchanged']} unchanged.",
        "success",
    )
    return redirect(url_for("nudges.roster"), code=303)


@bp.route("/roster/<int:import_id>/problems.csv")
@director
def problems_export(import_id: int):
    upload = get_import(import_id)
    return Response(
        problems_csv(upload),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="roster-problems-{upload.id}.csv"'},
    )


@bp.route("/overview")
@director
def overview():
    as_of = figures_as_of()
    sent, figures = nudge_figures(as_of)
    return render_template(
        "nudges/overview.html",
        sent=sent,
        figures=figures,
        as_of=as_of,
        curious=curious_figures(since=today() - timedelta(days=90)),
    )


@bp.route("/sent")
@director
def sent():
    page = page_arg()
    rows, total = sent_page(page)
    return render_template("nudges/sent.html", rows=rows, total=total, page=page, per_page=50)
