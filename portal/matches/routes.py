"""Mentees find and ask mentors; mentors answer; the director matches the rest."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import director, signed_in
from portal.clock import utcnow
from portal.database import begin_writing
from portal.errors import Conflict
from portal.extensions import db, htmx
from portal.forms import EmptyForm
from portal.matches import bp, cohort, runs
from portal.matches.forms import AcceptForm, DeclineForm, RequestForm
from portal.matches.services import (
    MAX_OPEN_REQUESTS,
    RHYTHMS,
    accept_request,
    active_pairing,
    any_due_requests,
    decline_request,
    expire_due_requests,
    get_request_for,
    hidden_mentors,
    incoming_requests,
    mark_mentor,
    my_requests,
    recommendations_for,
    request_mentor,
    request_reasons,
    saved_mentors,
    withdraw_request,
)
from portal.models import RequestStatus, RunStatus, User
from portal.programs.services import current_cycle, enrolment_for, get_cycle
from portal.support.services import can_find_another_mentor
from portal.web import errors_onto


def _current_cycle_or_none():
    cycle = current_cycle()
    if cycle is not None and any_due_requests(utcnow(), cycle=cycle):
        # Lazy expiry: requests past their time are closed before anyone sees them as open. Only then
        # does this page write, so ordinary visits stay read-only transactions.
        begin_writing()
        cycle = current_cycle()
        # A GET that writes: the edge commits it with the 200 answer.
        expire_due_requests(utcnow(), cycle=cycle)
    return cycle


@bp.route("/")
@signed_in
def index():
    cycle = _current_cycle_or_none()
    enrolment = enrolment_for(current_user, cycle)
    context = {"cycle": cycle, "enrolment": enrolment, "form": EmptyForm()}
    if cycle is not None and enrolment is not None and enrolment.mentored:
        pairing = active_pairing(current_user, cycle)
        context.update(
            pairing=pairing,
            mentor=db.session.get(User, pairing.mentor_id) if pairing else None,
            recommendations=[] if pairing else recommendations_for(current_user, cycle),
            saved=[] if pairing else saved_mentors(current_user, cycle),
            hidden=[] if pairing else hidden_mentors(current_user, cycle),
            requests=my_requests(current_user, cycle),
            max_open=MAX_OPEN_REQUESTS,
            rhythms=RHYTHMS,
            # A mentee whose pairing ended early may find another mentor after the window closed.
            matching_open=cycle.matching_open(utcnow().date())
            or (pairing is None and can_find_another_mentor(current_user, cycle, utcnow().date())),
        )
    if cycle is not None and enrolment is not None and enrolment.mentors:
        context["incoming"] = incoming_requests(current_user, cycle)
    return render_template("matches/index.html", **context)


@bp.route("/mentors/<int:mentor_id>/mark", methods=["POST"])
@signed_in
def mark(mentor_id: int):
    cycle = current_cycle()
    kind = request.form.get("kind") or None
    if cycle is None or kind not in (None, "saved", "hidden"):
        abort(404 if cycle is None else 400)
    mark_mentor(current_user, cycle, mentor_id, kind)
    mentor = db.session.get(User, mentor_id)
    message = {
        "saved": f"{mentor.display_name} is saved for later.",
        "hidden": f"{mentor.display_name} is hidden from your list. You can bring them back below.",
        None: f"{mentor.display_name} is back in your list.",
    }[kind]
    if htmx and kind == "saved":
        return render_template("matches/_mark_result.html", mentor=mentor, kind=kind, message=message)
    flash(message, "success")
    if htmx:
        # Hiding or restoring changes the whole list: reload it.
        return Response(status=204, headers={"HX-Redirect": url_for("matches.index")})
    return redirect(url_for("matches.index"), code=303)


@bp.route("/mentors/<int:mentor_id>/request", methods=["GET", "POST"])
@signed_in
def ask(mentor_id: int):
    cycle = current_cycle()
    mentor = db.session.get(User, mentor_id)
    if cycle is None or mentor is None:
        abort(404)
    mentor_enrolment = enrolment_for(mentor, cycle)
    if mentor_enrolment is None or not mentor_enrolment.mentors or mentor.id == current_user.id:
        abort(404)
    form = RequestForm()
    problem = None
    if form.validate_on_submit():
        try:
            with errors_onto(form) as outcome:
                request_mentor(
                    current_user,
                    cycle,
                    mentor_id,
                    note=form.note.data or "",
                    rhythm=form.rhythm.data or "",
                    now=utcnow(),
                )
        except Conflict as refusal:
            # Shown on the page rather than as the error page; nothing was written.
            problem = refusal.message
        else:
            if outcome.ok:
                flash(
                    f"Your request is on its way to {mentor.display_name}. They have "
                    f"{cycle.request_expiry_days} days to answer; you will hear either way.",
                    "success",
                )
                return redirect(url_for("matches.index"), code=303)
    from portal.matching import band, score_pair

    persons = cohort.people([current_user.id, mentor.id])
    match = score_pair(persons[current_user.id], persons[mentor.id], cohort.weights_for(cycle), cohort.labels())
    status = 422 if form.is_submitted() else 200
    return render_template(
        "matches/ask.html", mentor=mentor, match=match, band=band(match.score), form=form, problem=problem
    ), status


@bp.route("/requests")
@signed_in
def incoming():
    cycle = _current_cycle_or_none()
    enrolment = enrolment_for(current_user, cycle)
    requests = incoming_requests(current_user, cycle) if enrolment is not None and enrolment.mentors else []
    return render_template("matches/incoming.html", cycle=cycle, enrolment=enrolment, requests=requests)


@bp.route("/requests/<int:request_id>")
@signed_in
def show_request(request_id: int):
    _current_cycle_or_none()
    mentor_request = get_request_for(current_user, request_id)
    return _render_request(mentor_request)


def _render_request(mentor_request, *, accept_form=None, decline_form=None, problem=None, status=200):
    return render_template(
        "matches/request.html",
        req=mentor_request,
        reasons=request_reasons(mentor_request, current_user),
        rhythms=RHYTHMS,
        accept_form=accept_form or AcceptForm(formdata=None, prefix="accept"),
        decline_form=decline_form or DeclineForm(formdata=None, prefix="decline"),
        withdraw_form=EmptyForm(),
        problem=problem,
        open=mentor_request.status == RequestStatus.OPEN,
    ), status


def _answer(request_id: int, action: str):
    mentor_request = get_request_for(current_user, request_id)
    # Both answer forms share one page, so their fields carry a prefix to keep ids unique.
    form = (
        AcceptForm(prefix=action)
        if action == "accept"
        else DeclineForm(prefix=action)
        if action == "decline"
        else EmptyForm()
    )
    if not form.validate_on_submit():
        abort(400)
    try:
        with errors_onto(form) as outcome:
            if action == "accept":
                accept_request(mentor_request, current_user, message=form.message.data, now=utcnow())
                message = "You are now a pair. Your home page shows them, and why you fit."
            elif action == "decline":
                decline_request(mentor_request, current_user, message=form.message.data, now=utcnow())
                message = "Thank you for answering. Your message is on its way, and only they will see it."
            else:
                withdraw_request(mentor_request, current_user, now=utcnow())
                message = "Your request is withdrawn. No answer is needed from them now."
    except Conflict as refusal:
        return _render_request(get_request_for(current_user, request_id), problem=refusal.message, status=409)
    if not outcome.ok:
        forms = {"accept_form": form} if action == "accept" else {"decline_form": form}
        return _render_request(get_request_for(current_user, request_id), status=422, **forms)
    flash(message, "success")
    target = url_for("main.home") if action == "accept" else url_for("matches.index")
    return redirect(target, code=303)


@bp.route("/requests/<int:request_id>/accept", methods=["POST"])
@signed_in
def accept(request_id: int):
    return _answer(request_id, "accept")


@bp.route("/requests/<int:request_id>/decline", methods=["POST"])
@signed_in
def decline(request_id: int):
    return _answer(request_id, "decline")


@bp.route("/requests/<int:request_id>/withdraw", methods=["POST"])
@signed_in
def withdraw(request_id: int):
    return _answer(request_id, "withdraw")


# The director's "Match the rest".


@bp.route("/cycles/<int:cycle_id>/runs", methods=["POST"])
@director
def start_run(cycle_id: int):
    cycle = get_cycle(cycle_id)
    # Idempotent: while a run of the cycle is working, this leads to it instead of starting another.
    run = runs.start_run(cycle, current_user)
    return redirect(url_for("matches.show_run", run_id=run.id), code=303)


@bp.route("/runs/<int:run_id>/retry", methods=["POST"])
@director
def retry_run(run_id: int):
    run = runs.get_run(run_id)
    new_run = runs.retry_run(run, current_user, now=utcnow())
    flash("The run was started again.", "success")
    return redirect(url_for("matches.show_run", run_id=new_run.id), code=303)


def _render_run(run, *, problem=None, status=200):
    pairs = runs.proposed_pairs(run) if run.status in (RunStatus.READY, RunStatus.PUBLISHED) else []
    cycle = get_cycle(run.cycle_id)
    context = {
        "run": run,
        "cycle": cycle,
        "pairs": pairs,
        "reasons": cohort.explain_pairs(cycle, [(p.mentee_id, p.mentor_id) for p in pairs], audience="director"),
        "unmatched": runs.unmatched_people(run) if run.status != RunStatus.RUNNING else [],
        "form": EmptyForm(),
        "problem": problem,
        "close_to_floor": runs.close_to_floor,
        "near_floor": runs.NEAR_FLOOR,
        "stalled": runs.is_stalled(run, utcnow()),
    }
    if htmx and not htmx.boosted and run.status == RunStatus.RUNNING and not context["stalled"]:
        return render_template("matches/_run_progress.html", **context), status
    if htmx and not htmx.boosted and request.headers.get("HX-Target") == "run-progress":
        # The run finished while the page was polling: load the whole review.
        return Response(status=204, headers={"HX-Redirect": url_for("matches.show_run", run_id=run.id)})
    return render_template("matches/run.html", **context), status


@bp.route("/runs/<int:run_id>")
@director
def show_run(run_id: int):
    return _render_run(runs.get_run(run_id))


def _run_action(run_id: int, action):
    run = runs.get_run(run_id)
    try:
        message = action(run)
    except Conflict as refusal:
        return _render_run(run, problem=refusal.message, status=409)
    flash(message, "success")
    return redirect(url_for("matches.show_run", run_id=run.id), code=303)


@bp.route("/runs/<int:run_id>/pairs/<int:pair_id>/drop", methods=["POST"])
@director
def drop_pair(run_id: int, pair_id: int):
    dropped = request.form.get("dropped", "1") == "1"

    def action(run):
        pair = runs.set_dropped(run, pair_id, dropped)
        who = f"{db.session.get(User, pair.mentee_id).display_name}"
        return f"The pair for {who} is dropped." if dropped else f"The pair for {who} is back."

    return _run_action(run_id, action)


@bp.route("/runs/<int:run_id>/swap", methods=["POST"])
@director
def swap(run_id: int):
    first = request.form.get("first", type=int)
    second = request.form.get("second", type=int)

    def action(run):
        if first is None or second is None:
            raise Conflict("Please choose two pairs to swap.")
        runs.swap_mentors(run, first, second)
        return "The two mentors are swapped."

    return _run_action(run_id, action)


@bp.route("/runs/<int:run_id>/publish", methods=["POST"])
@director
def publish(run_id: int):
    def action(run):
        created, skipped = runs.publish_run(run, now=utcnow())
        note = f" {len(skipped)} skipped: " + " ".join(skipped) if skipped else ""
        return f"{created} pairings are published and everyone is told.{note}"

    return _run_action(run_id, action)
