"""The back-up plan's pages: check-ins, a pairing's pause and way out, asking the director, and the
director's board of pairs that may need help and their help queue.

Partners' pages use ``pairing_for`` (404 to strangers, the director included); the director's pages are
``director_unseen`` (404 to everyone else). Routes parse, call one service, then render or redirect.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.access import director_unseen, signed_in
from portal.clock import today, utcnow
from portal.dates import format_day
from portal.errors import NotFound
from portal.models import HelpStatus, Pairing, PairingStatus
from portal.pairings import pairing_for, partner_of
from portal.programs.services import current_cycle, get_cycle
from portal.support import bp
from portal.support import services as svc
from portal.support.board import board as board_of
from portal.support.board import teams
from portal.support.forms import (
    AskForm,
    CheckInForm,
    EndForm,
    PauseForm,
    ReplyForm,
    StatusForm,
    SuggestForm,
    ThresholdsForm,
)
from portal.support.health import LABELS, ORDER, facts_for, health_of, thresholds_for
from portal.web import errors_onto, is_fragment, render, status_message


def _pair(pairing_id: int) -> Pairing:
    return pairing_for(current_user, pairing_id)  # NotFound for anyone but the two of them


def _labels() -> dict:
    return {
        "fit_labels": svc.FIT_LABELS,
        "closing_labels": svc.CLOSING_LABELS,
        "topic_labels": svc.TOPIC_LABELS,
        "status_labels": svc.STATUS_LABELS,
    }


# --- check-ins ------------------------------------------------------------------------------------


@bp.route("/pairings/<int:pairing_id>/check-in", methods=["GET", "POST"])
@signed_in
def check_in(pairing_id: int):
    pairing = _pair(pairing_id)
    card = svc.check_in_for(pairing, current_user, today=today(), include_skipped=True)
    form = CheckInForm()
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            svc.answer_check_in(
                pairing,
                current_user,
                round=form.round.data if form.round.data is not None else -1,
                fit=form.fit.data,
                score=form.score.data,
                note=form.note.data,
                now=utcnow(),
            )
        if outcome.ok:
            message = "Thank you. Your answer is kept private: only the program director sees it."
            if is_fragment():
                return _done_card(pairing, message)
            flash(message, "success")
            return redirect(_back(pairing), code=303)
    elif request.method == "POST":
        form.round.errors = []
    if card is None and request.method == "GET":
        flash("There is no check-in waiting for you in this pairing just now.", "info")
        return redirect(url_for("support.pairing", pairing_id=pairing.id), code=303)
    status = 422 if form.is_submitted() else 200
    return render(
        "support/check_in.html", "support/_check_in.html", status=status, card=card, form=form, back=_back_name()
    )


def _done_card(pairing: Pairing, message: str) -> str:
    """The card that replaces an answered or skipped check-in in place, with the status message."""
    card = render_template("support/_check_in_done.html", pairing=pairing, message=message)
    return f"{card}{status_message(message)}"


def _back_name() -> str:
    return "pairing" if request.values.get("back") == "pairing" else "home"


def _back(pairing: Pairing) -> str:
    if _back_name() == "pairing":
        return url_for("support.pairing", pairing_id=pairing.id)
    return url_for("main.home")


@bp.route("/pairings/<int:pairing_id>/check-in/skip", methods=["POST"])
@signed_in
def skip_check_in(pairing_id: int):
    pairing = _pair(pairing_id)
    form = CheckInForm()
    if not form.validate_on_submit() or form.round.data is None:
        raise NotFound()
    svc.skip_check_in(pairing, current_user, round=form.round.data, now=utcnow())
    message = "Put aside for now. You can still answer it from your pairing's page."
    if is_fragment():
        return _done_card(pairing, message)
    flash(message, "success")
    return redirect(_back(pairing), code=303)


# --- a pairing's page: pause, resume, end, ask ----------------------------------------------------


@bp.route("/pairings/<int:pairing_id>")
@signed_in
def pairing(pairing_id: int):
    pairing = _pair(pairing_id)
    return _pairing_page(pairing, pause_form=PauseForm(formdata=None))


def _pairing_page(pairing: Pairing, *, pause_form: PauseForm, status: int = 200):
    day = today()
    cycle = get_cycle(pairing.cycle_id)
    active = pairing.status == PairingStatus.ACTIVE
    return render(
        "support/pairing.html",
        status=status,
        pairing=pairing,
        partner=partner_of(pairing, current_user),
        cycle=cycle,
        active=active,
        pause=svc.open_pause(pairing, day) if active else None,
        card=svc.check_in_for(pairing, current_user, today=day, include_skipped=True) if active else None,
        check_in_form=CheckInForm(formdata=None),
        answers=svc.my_check_ins(pairing, current_user),
        pause_form=pause_form,
        action_form=EndForm(formdata=None),
        find_another=(not active and pairing.is_mentee(current_user) and svc.rematch_offered(current_user, cycle, day)),
        back="pairing",
        **_labels(),
    )


@bp.route("/pairings/<int:pairing_id>/pause", methods=["POST"])
@signed_in
def pause(pairing_id: int):
    pairing = _pair(pairing_id)
    form = PauseForm()
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            pause = svc.pause_pairing(
                pairing, current_user, until=form.until.data, reason=form.reason.data, today=today()
            )
        if outcome.ok:
            partner = partner_of(pairing, current_user)
            flash(
                f"Your pairing is paused until {format_day(pause.until)}. {partner.display_name} has been told.",
                "success",
            )
            return redirect(url_for("support.pairing", pairing_id=pairing.id), code=303)
    # A failed service rolled the session back: read the pairing again.
    return _pairing_page(_pair(pairing_id), pause_form=form, status=422)


@bp.route("/pairings/<int:pairing_id>/resume", methods=["POST"])
@signed_in
def resume(pairing_id: int):
    pairing = _pair(pairing_id)
    if not EndForm().validate_on_submit():
        raise NotFound()
    svc.resume_pairing(pairing, current_user, now=utcnow())
    flash("Your pairing has picked up again. Welcome back.", "success")
    return redirect(url_for("support.pairing", pairing_id=pairing.id), code=303)


@bp.route("/pairings/<int:pairing_id>/end", methods=["GET", "POST"])
@signed_in
def end(pairing_id: int):
    return _end(
        lambda: _pair(pairing_id),
        by_director=False,
        back="support.pairing",
        action="support.end",
        done="Your pairing has come to a close. Thank you for the time you gave it. "
        "Your journal and goals stay here for you to read.",
    )


def _end(load, *, by_director: bool, back: str, action: str, done: str):
    """The closing survey and its answer, for a partner or the director: ``load`` reads the pairing (404 for
    anyone else); the survey page again with 422 on bad input, and a kind word when it has already ended."""
    pairing = load()
    form = EndForm()
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            svc.end_pairing(
                pairing,
                current_user,
                reason=form.reason.data,
                suitability=form.suitability.data,
                note=form.note.data,
                now=utcnow(),
                by_director=by_director,
            )
        if outcome.ok:
            flash(done, "success")
            return redirect(url_for(back, pairing_id=pairing.id), code=303)
    elif pairing.status != PairingStatus.ACTIVE:
        flash("This pairing has already come to a close.", "info")
        return redirect(url_for(back, pairing_id=pairing.id), code=303)
    status = 422 if form.is_submitted() else 200
    pairing = load()  # read again: a failed service rolled the session back
    return render(
        "support/end.html",
        status=status,
        form=form,
        pairing=pairing,
        partner=None if by_director else partner_of(pairing, current_user),
        action=url_for(action, pairing_id=pairing.id),
        by_director=by_director,
    )


# --- asking the director --------------------------------------------------------------------------


@bp.route("/ask", methods=["GET", "POST"])
@signed_in
def ask():
    form = AskForm()
    if request.method == "GET":
        form.pairing_id.data = request.args.get("pairing_id", type=int) or ""
        if request.args.get("topic") in svc.TOPIC_LABELS:
            form.topic.data = request.args["topic"]
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            help_request = svc.ask_director(
                current_user,
                topic=form.topic.data,
                body=form.body.data,
                pairing_id=_int(form.pairing_id.data),
                now=utcnow(),
            )
        if outcome.ok:
            flash("Your question is with the program director. Only they can read it.", "success")
            return redirect(url_for("support.help_thread", help_id=help_request.id), code=303)
    status = 422 if form.is_submitted() else 200
    if form.body.data and len(form.body.data) > svc.HELP_MAX:
        # Kept to what could be sent, so a megabyte is not sent back; the message says how long it was.
        form.body.data = form.body.data[: svc.HELP_MAX]
    pairing_id = _int(form.pairing_id.data)
    about = _pair(pairing_id) if pairing_id else None
    return render("support/ask.html", status=status, form=form, about=about, **_labels())


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@bp.route("/help")
@signed_in
def my_help():
    return render("support/my_help.html", requests=svc.my_help_requests(current_user), **_labels())


@bp.route("/help/<int:help_id>", methods=["GET", "POST"])
@signed_in
def help_thread(help_id: int):
    help_request = svc.help_for(current_user, help_id)
    if help_request.user_id != current_user.id:
        raise NotFound()  # the director reads it in the queue
    form = ReplyForm()
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            svc.reply(help_request, current_user, body=form.body.data, now=utcnow())
        if outcome.ok:
            flash("Added. The program director will see it.", "success")
            return redirect(url_for("support.help_thread", help_id=help_id), code=303)
    status = 422 if form.is_submitted() else 200
    help_request = svc.help_for(current_user, help_id)  # read again after a rollback
    return render(
        "support/help.html",
        status=status,
        help_request=help_request,
        thread=svc.thread_of(help_request),
        form=form,
        **_labels(),
    )


# --- the director: the board, a pair, the queue ---------------------------------------------------


@bp.route("/board")
@director_unseen
def board():
    cycle_id = request.args.get("cycle_id", type=int)
    cycle = get_cycle(cycle_id) if cycle_id else current_cycle()
    if cycle is None:
        return render("support/board.html", cycle=None)
    team_id = request.args.get("team", type=int)
    state = request.args.get("state") or None
    found = board_of(cycle, state=state, team_id=team_id, page=request.args.get("page", 1, type=int), today=today())
    return render(
        "support/board.html",
        "support/_board_rows.html",
        cycle=cycle,
        board=found,
        teams=teams(),
        team_id=team_id,
        state=state,
        states=ORDER,
        state_labels=LABELS,
        **_labels(),
    )


@bp.route("/pairs/<int:pairing_id>")
@director_unseen
def pair(pairing_id: int):
    return _director_pair(svc.director_pairing(pairing_id))


def _director_pair(pairing: Pairing, *, pause_form=None, suggest_form=None, status: int = 200):
    day = today()
    facts = facts_for([pairing], day)[pairing.id]
    cycle = get_cycle(pairing.cycle_id)
    active = pairing.status == PairingStatus.ACTIVE
    suggest_form = suggest_form or SuggestForm(formdata=None)
    if not active:
        from portal.matches.services import recommendations_for

        mentee = pairing.mentee
        suggest_form.mentor_id.choices = [SelectChoice("", "Choose a mentor")] + [
            SelectChoice(str(r.mentor.id), f"{r.mentor.display_name} ({r.band})")
            for r in recommendations_for(mentee, cycle)
        ]
    return render(
        "support/pair.html",
        status=status,
        pairing=pairing,
        cycle=cycle,
        active=active,
        facts=facts,
        health=health_of(facts, thresholds_for(cycle.id), day) if active else None,
        check_ins=svc.check_ins_of_pair(pairing),
        survey=svc.closing_survey_of(pairing),
        pause=svc.open_pause(pairing, day) if active else None,
        pause_form=pause_form or PauseForm(formdata=None),
        suggest_form=suggest_form,
        can_rematch=not active and svc.can_find_another_mentor(pairing.mentee, cycle, day),
        **_labels(),
    )


@bp.route("/pairs/<int:pairing_id>/pause", methods=["POST"])
@director_unseen
def director_pause(pairing_id: int):
    pairing = svc.director_pairing(pairing_id)
    form = PauseForm()
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            svc.pause_pairing(
                pairing, current_user, until=form.until.data, reason=form.reason.data, today=today(), by_director=True
            )
        if outcome.ok:
            flash("The pairing is paused and both people have been told.", "success")
            return redirect(url_for("support.pair", pairing_id=pairing.id), code=303)
    return _director_pair(svc.director_pairing(pairing_id), pause_form=form, status=422)


@bp.route("/pairs/<int:pairing_id>/end", methods=["GET", "POST"])
@director_unseen
def director_end(pairing_id: int):
    return _end(
        lambda: svc.director_pairing(pairing_id),
        by_director=True,
        back="support.pair",
        action="support.director_end",
        done="The pairing has come to a close. Both people have been told, kindly and without a reason.",
    )


@bp.route("/pairs/<int:pairing_id>/suggest", methods=["POST"])
@director_unseen
def suggest(pairing_id: int):
    pairing = svc.director_pairing(pairing_id)
    form = SuggestForm()
    form.mentor_id.choices = []
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            mentor = svc.suggest_mentor(
                pairing.mentee, _int(form.mentor_id.data), cycle=get_cycle(pairing.cycle_id), director=current_user
            )
        if outcome.ok:
            flash(f"{pairing.mentee.display_name} has been told about {mentor.display_name}.", "success")
            return redirect(url_for("support.pair", pairing_id=pairing.id), code=303)
    return _director_pair(svc.director_pairing(pairing_id), suggest_form=form, status=422)


@bp.route("/queue")
@director_unseen
def queue():
    wanted = request.args.get("status") or HelpStatus.NEW.value
    shown = HelpStatus(wanted) if wanted in {s.value for s in HelpStatus} else HelpStatus.NEW
    return render(
        "support/queue.html",
        requests=svc.help_queue(shown),
        shown=shown,
        waiting=svc.waiting_summary(),
        now=utcnow(),
        **_labels(),
    )


@bp.route("/queue/<int:help_id>", methods=["GET", "POST"])
@director_unseen
def queue_item(help_id: int):
    help_request = svc.help_for(current_user, help_id)
    form = ReplyForm()
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            svc.reply(help_request, current_user, body=form.body.data, now=utcnow())
        if outcome.ok:
            flash(f"Your answer is sent; {help_request.user.display_name} has been told.", "success")
            return redirect(url_for("support.queue_item", help_id=help_id), code=303)
    status = 422 if form.is_submitted() else 200
    help_request = svc.help_for(current_user, help_id)  # read again after a rollback
    about = svc.director_pairing(help_request.pairing_id) if help_request.pairing_id else None
    return render(
        "support/queue_item.html",
        status=status,
        help_request=help_request,
        thread=svc.thread_of(help_request),
        form=form,
        status_form=StatusForm(formdata=None, state=help_request.status.value),
        about=about,
        **_labels(),
    )


@bp.route("/queue/<int:help_id>/status", methods=["POST"])
@director_unseen
def queue_status(help_id: int):
    help_request = svc.help_for(current_user, help_id)
    form = StatusForm()
    if not form.validate_on_submit():
        raise NotFound()
    with errors_onto(form) as outcome:
        svc.set_help_status(help_request, status=form.state.data, now=utcnow())
    if not outcome.ok:
        flash(outcome.extra.get("status", "Please choose new, in progress or resolved."), "error")
        return redirect(url_for("support.queue_item", help_id=help_id), code=303)
    flash(f"Marked {svc.STATUS_LABELS[help_request.status].lower()}.", "success")
    return redirect(url_for("support.queue_item", help_id=help_id), code=303)


@bp.route("/cycles/<int:cycle_id>/thresholds", methods=["GET", "POST"])
@director_unseen
def thresholds(cycle_id: int):
    cycle = get_cycle(cycle_id)
    # CSRFProtect has checked the token of a POST already; the service parses and checks every number.
    form = ThresholdsForm() if request.method == "POST" else ThresholdsForm(data=asdict(thresholds_for(cycle.id)))
    if request.method == "POST":
        with errors_onto(form) as outcome:
            svc.save_thresholds(cycle, {name: request.form.get(name) for name in svc.THRESHOLD_LIMITS})
        if outcome.ok:
            flash(f"The thresholds of {cycle.name} are saved.", "success")
            return redirect(url_for("support.board", cycle_id=cycle.id), code=303)
        cycle = get_cycle(cycle_id)  # read again after the rollback
    for name, (low, high, label) in svc.THRESHOLD_LIMITS.items():
        form[name].label.text = label
        form[name].description = f"From {low} to {high}."
    status = 422 if request.method == "POST" else 200
    return render("support/thresholds.html", status=status, form=form, cycle=cycle)
