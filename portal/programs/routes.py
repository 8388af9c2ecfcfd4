"""Cycles for the director; enrolment in the current cycle for everyone."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import director, signed_in
from portal.clock import today
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.forms import EmptyForm
from portal.models import MatchingRun
from portal.onboarding.choices import EDITABLE_LISTS, add_choice, choice_lists, rename_choice, set_retired
from portal.onboarding.services import load_state
from portal.programs import bp
from portal.programs.forms import CycleForm, EnrolForm
from portal.programs.services import (
    DEFAULT_MIN_SCORE,
    CycleInput,
    all_cycles,
    create_cycle,
    current_cycle,
    cycle_stats,
    cycle_weights,
    enrol,
    enrolment_for,
    enrolments_by_cycle,
    get_cycle,
    has_answers,
    leave_cycle,
    open_for_enrolment,
    set_cycle_weights,
    suggested_dates,
    suggested_role,
    update_cycle,
    what_leaving_does,
)
from portal.web import errors_onto, render


def _input_from(form: CycleForm) -> CycleInput:
    return CycleInput(
        name=form.name.data or "",
        enrolment_opens_on=form.enrolment_opens_on.data,
        enrolment_closes_on=form.enrolment_closes_on.data,
        matching_opens_on=form.matching_opens_on.data,
        matching_closes_on=form.matching_closes_on.data,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        request_expiry_days=form.request_expiry_days.data,
        default_capacity=form.default_capacity.data,
        is_current=form.is_current.data,
        min_score=DEFAULT_MIN_SCORE if form.min_score.data is None else form.min_score.data,
    )


def _weights_from(form: CycleForm) -> dict:
    return {name: getattr(form, f"weight_{name}").data for name in CycleForm.WEIGHT_FIELDS}


def _fill_weights(form: CycleForm, weights: dict) -> None:
    current = cycle_weights(weights)
    for name in CycleForm.WEIGHT_FIELDS:
        getattr(form, f"weight_{name}").data = int(current[name])


@bp.route("/")
@director
def index():
    cycles = all_cycles()
    return render_template("programs/index.html", cycles=cycles, today=today())


@bp.route("/new", methods=["GET", "POST"])
@director
def new():
    form = CycleForm()
    if request.method == "GET":
        suggestion = suggested_dates(today())
        form.process(data={**suggestion.__dict__, "request_expiry_days": 7, "default_capacity": 2})
        _fill_weights(form, {})
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            cycle = create_cycle(_input_from(form))
            set_cycle_weights(cycle, _weights_from(form))
        if outcome.ok:
            flash(f"\u201c{cycle.name}\u201d is created.", "success")
            return redirect(url_for("programs.show", cycle_id=cycle.id), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("programs/form.html", form=form, cycle=None), status


@bp.route("/<int:cycle_id>")
@director
def show(cycle_id: int):
    cycle = get_cycle(cycle_id)
    runs = db.session.scalars(
        select(MatchingRun).where(MatchingRun.cycle_id == cycle.id).order_by(MatchingRun.id.desc()).limit(10)
    ).all()
    return render_template(
        "programs/show.html",
        cycle=cycle,
        stats=cycle_stats(cycle),
        runs=runs,
        weights=cycle_weights(cycle.weights),
        form=EmptyForm(),
        today=today(),
    )


@bp.route("/<int:cycle_id>/edit", methods=["GET", "POST"])
@director
def edit(cycle_id: int):
    cycle = get_cycle(cycle_id)
    form = CycleForm(obj=cycle)
    if request.method == "GET":
        _fill_weights(form, cycle.weights)
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            update_cycle(cycle, _input_from(form))
            set_cycle_weights(cycle, _weights_from(form))
        if outcome.ok:
            flash("The cycle is saved.", "success")
            return redirect(url_for("programs.show", cycle_id=cycle.id), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("programs/form.html", form=form, cycle=cycle), status


@bp.route("/enrol", methods=["GET", "POST"])
@signed_in
def enrolment():
    """Take part: the form for the cycle open for enrolment, or a choice when several are open at once."""
    cycles = open_for_enrolment(today())
    if len(cycles) > 1 and request.method == "GET":
        mine = enrolments_by_cycle(current_user, cycles)
        return render("programs/choose.html", cycles=cycles, mine=mine)
    cycle = cycles[0] if cycles else current_cycle()
    if cycle is None:
        return render("programs/enrol.html", cycle=None, form=None, enrolment=None)
    return _enrol_in(cycle)


@bp.route("/<int:cycle_id>/enrol", methods=["GET", "POST"])
@signed_in
def enrol_in(cycle_id: int):
    """Enrol in a chosen cycle, or change how one takes part in it."""
    return _enrol_in(get_cycle(cycle_id))


def _enrol_in(cycle):
    mine = enrolment_for(current_user, cycle)
    form = EnrolForm(obj=mine)
    if request.method == "GET" and mine is None:
        participation = load_state(current_user)["participation"].keys
        form.role.data = suggested_role(next(iter(participation), None))
        form.capacity.data = cycle.default_capacity
    outcome = errors_onto(form)
    if form.validate_on_submit():
        with outcome:
            enrol(current_user, cycle, role=form.role.data, capacity=form.capacity.data, paused=form.paused.data,
                  today=today())  # fmt: skip
        if outcome.ok:
            done = "Your choices for this cycle are saved." if mine else "You are enrolled. Thank you for taking part."
            flash(done, "success")
            return redirect(url_for("matches.index"), code=303)
    needs_answers = mine is None and not has_answers(current_user)
    return render(
        "programs/enrol.html",
        cycle=cycle,
        form=form,
        enrolment=mine,
        today=today(),
        needs_answers=needs_answers or "questionnaire" in outcome.extra,
        status=422 if form.is_submitted() else 200,
    )


@bp.route("/<int:cycle_id>/leave", methods=["GET", "POST"])
@signed_in
def leave(cycle_id: int):
    """Leave a cycle: first a page that says what will happen, then the person's own choice to go ahead."""
    cycle = get_cycle(cycle_id)
    if enrolment_for(current_user, cycle) is None:
        raise NotFound()
    form = EmptyForm()
    summary = what_leaving_does(current_user, cycle)
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            leave_cycle(current_user, cycle, today=today())
        if outcome.ok:
            flash(f"You have left {cycle.name}. You are welcome back any time.", "success")
            return redirect(url_for("main.home"), code=303)
        problem = outcome.extra.get("leave")
        return render("programs/leave.html", cycle=cycle, summary=summary, form=form, problem=problem, status=422)
    return render("programs/leave.html", cycle=cycle, summary=summary, form=form, problem=None)


# --- the questionnaire's choice lists (director) -----------------------------------------------------------


def _choices_page(*, errors: dict | None = None, typed: dict | None = None, status: int = 200):
    return render(
        "programs/choices.html",
        lists=choice_lists(),
        names=EDITABLE_LISTS,
        form=EmptyForm(),
        errors=errors or {},
        typed=typed or {},
        status=status,
    )


@bp.route("/choices")
@director
def choices():
    """Skills, values, interests and meeting formats: every option, active and retired."""
    return _choices_page()


@bp.route("/choices/<list_name>", methods=["POST"])
@director
def choice_add(list_name: str):
    """Add an option to a list."""
    label = request.form.get("label", "")
    with errors_onto() as outcome:
        choice = add_choice(list_name, label=label)
    if not outcome.ok:
        return _choices_page(errors={f"add-{list_name}": outcome.extra["label"]}, typed={f"add-{list_name}": label},
                             status=422)  # fmt: skip
    flash(f"\u201c{choice.label}\u201d is added to {EDITABLE_LISTS[list_name].lower()}.", "success")
    return redirect(url_for("programs.choices") + f"#list-{list_name}", code=303)


@bp.route("/choices/<int:choice_id>/rename", methods=["POST"])
@director
def choice_rename(choice_id: int):
    """New words for an option; answers that hold it keep it."""
    label = request.form.get("label", "")
    with errors_onto() as outcome:
        choice = rename_choice(choice_id, label=label)
    if not outcome.ok:
        return _choices_page(errors={f"choice-{choice_id}": outcome.extra["label"]},
                             typed={f"choice-{choice_id}": label}, status=422)  # fmt: skip
    flash(f"Renamed to \u201c{choice.label}\u201d.", "success")
    return redirect(url_for("programs.choices") + f"#list-{choice.list_name}", code=303)


@bp.route("/choices/<int:choice_id>/state", methods=["POST"])
@director
def choice_state(choice_id: int):
    """Retire an option or bring it back; the form names the state it wants."""
    wanted = request.form.get("state")
    if wanted not in ("retired", "active"):
        raise ValidationFailed({"state": "Please use the buttons on the page."})
    choice = set_retired(choice_id, retired=wanted == "retired")
    message = (
        f"\u201c{choice.label}\u201d is retired: no longer offered, and kept on the answers that hold it."
        if wanted == "retired"
        else f"\u201c{choice.label}\u201d is offered again."
    )
    flash(message, "success")
    return redirect(url_for("programs.choices") + f"#list-{choice.list_name}", code=303)
