"""A pair's goals (the mentee drives, the mentor comments) and the director's objectives."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import director, signed_in
from portal.clock import today, utcnow
from portal.extensions import db
from portal.goals import bp
from portal.goals.forms import CommentForm, GoalForm, MilestoneForm, ObjectiveForm, StatusForm
from portal.goals.services import (
    GoalInput,
    LazyGoalViews,
    NotYours,
    StaleVersion,
    add_comment,
    add_milestone,
    create_goal,
    cycle_span,
    goal_in_pairing,
    goal_stamps,
    goal_views,
    milestone_in_pairing,
    objectives,
    save_objective,
    set_milestone_done,
    set_status,
    skill_keys_of,
    skill_options,
    update_goal,
)
from portal.models import Cycle, Objective, Team
from portal.pairings import pairing_for
from portal.urls import safe_next
from portal.web import errors_onto, is_fragment


def _objective_choices(form: GoalForm) -> None:
    from wtforms.fields.choices import SelectChoice

    form.objective_id.choices = [SelectChoice("", "None")] + [
        SelectChoice(str(o.id), f"{o.title} ({o.level.value})") for o in objectives(active_only=True)
    ]


def _input(form: GoalForm) -> GoalInput:
    return GoalInput(
        title=form.title.data or "",
        outcome=form.outcome.data or "",
        measure=form.measure.data or "",
        target=form.target.data or "",
        due_on=form.due_on.data,
        project=form.project.data or "",
        skills=request.form.getlist("skills"),
        objective_id=form.objective_id.data,
    )


def _offers(goal_ids: list[int]) -> dict:
    """The signed-in person's unanswered "Share this on the wall?" offers, by goal (one query)."""
    from portal.celebrations.services import pending_offers

    return pending_offers(current_user, goal_ids)


def _card(view, pairing, *, message: str | None = None, status: int = 200):
    return render_template(
        "goals/_goal.html",
        view=view,
        pairing=pairing,
        offers=_offers([view.goal.id]),
        milestone_form=MilestoneForm(formdata=None),
        status_form=StatusForm(formdata=None, status=view.goal.status.value),
        comment_form=CommentForm(formdata=None),
        message=message,
        standalone=False,
    ), status


class LazyForm:
    """An empty form built on first use, so that a page whose cards all come from the cache builds none."""

    def __init__(self, form_class):
        self._form_class = form_class
        self._form = None

    def __getattr__(self, name):
        if self._form is None:
            self._form = self._form_class(formdata=None)
        return getattr(self._form, name)


@bp.route("/pairings/<int:pairing_id>")
@signed_in
def index(pairing_id: int):
    pairing = pairing_for(current_user, pairing_id)
    stamps = goal_stamps(pairing)
    return render_template(
        "goals/index.html",
        pairing=pairing,
        stamps=stamps,
        offers=_offers([stamp[0] for stamp in stamps]),
        views=LazyGoalViews(pairing),
        # Only a card missing from the fragment cache uses these.
        milestone_form=LazyForm(MilestoneForm),
        comment_form=LazyForm(CommentForm),
        status_form=LazyForm(StatusForm),
        standalone=False,
    )


@bp.route("/pairings/<int:pairing_id>/new", methods=["GET", "POST"])
@signed_in
def new(pairing_id: int):
    pairing = pairing_for(current_user, pairing_id)
    if not pairing.is_mentee(current_user):
        abort(403)
    form = GoalForm()
    _objective_choices(form)
    extra = {}
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            goal = create_goal(pairing, current_user, _input(form), today=today())
        extra = outcome.extra
        if outcome.ok:
            flash(f"Your goal \u201c{goal.title}\u201d is set. Add a first milestone when you are ready.", "success")
            return redirect(url_for("goals.index", pairing_id=pairing.id) + f"#goal-{goal.id}", code=303)
    return _render_form(form, pairing, None, extra, status=422 if form.is_submitted() else 200)


def _render_form(form, pairing, goal, extra, *, status=200, stale=None):
    cycle = db.session.get(Cycle, pairing.cycle_id)
    first, last = cycle_span(cycle)
    picked = set(request.form.getlist("skills")) if request.method == "POST" else set(extra.get("_skills", ()))
    template = "goals/_form.html" if is_fragment() else "goals/form.html"
    return render_template(
        template,
        form=form,
        pairing=pairing,
        goal=goal,
        skills=skill_options(),
        picked=picked,
        skill_error=extra.get("skills"),
        last_day=last,
        first_day=max(first, today()),
        stale=stale,
    ), status


@bp.route("/<int:goal_id>")
@signed_in
def show(goal_id: int):
    goal, pairing = goal_in_pairing(current_user, goal_id)
    view = goal_views([goal.id])[0]
    return render_template(
        "goals/show.html",
        view=view,
        pairing=pairing,
        offers=_offers([goal.id]),
        milestone_form=MilestoneForm(formdata=None),
        status_form=StatusForm(formdata=None, status=goal.status.value),
        comment_form=CommentForm(formdata=None),
        standalone=True,
    )


@bp.route("/<int:goal_id>/edit", methods=["GET", "POST"])
@signed_in
def edit(goal_id: int):
    goal, pairing = goal_in_pairing(current_user, goal_id)
    if not pairing.is_mentee(current_user):
        abort(403)
    form = GoalForm(obj=goal)
    _objective_choices(form)
    extra: dict = {}
    if request.method == "GET":
        form.version.data = goal.version
        extra["_skills"] = skill_keys_of(goal)
    if form.validate_on_submit():
        try:
            with errors_onto(form) as outcome:
                update_goal(goal, pairing, current_user, _input(form), version=form.version.data or 0,
                            today=today())  # fmt: skip
        except StaleVersion as conflict:
            # The newer version is read before the edge rolls back; nothing was changed by this request.
            stale = goal_views([conflict.current.id])[0]
            # The person's text stays in the form; the next save knowingly replaces the newer version.
            form.version.data = stale.goal.version
            return _render_form(form, pairing, goal, extra, status=409, stale=stale)
        if not outcome.ok:
            extra = outcome.extra
        else:
            # goal_id, not goal.id: the saved goal is expired, and reading it again would cost a query.
            if is_fragment():
                return _card(goal_views([goal_id])[0], pairing, message="Your goal is saved.")
            flash("Your goal is saved.", "success")
            return redirect(url_for("goals.index", pairing_id=pairing.id) + f"#goal-{goal_id}", code=303)
    return _render_form(form, pairing, goal, extra, status=422 if form.is_submitted() else 200)


def _after_change(goal, pairing, message: str):
    if is_fragment():
        return _card(goal_views([goal.id])[0], pairing, message=message)
    flash(message, "success")
    # Only a path on this site: the form's ``next_url`` comes from the outside (no open redirect).
    return redirect(safe_next(request.form.get("next_url"), url_for("goals.show", goal_id=goal.id)), code=303)


def _problem(goal, pairing, errors: dict, status: int):
    """Show a card-level problem: in place for htmx, on the goal's page otherwise, input kept."""
    view = goal_views([goal.id])[0]
    milestone_form = MilestoneForm()
    status_form = StatusForm()
    comment_form = CommentForm()
    for form in (milestone_form, status_form, comment_form):
        for name, message in errors.items():
            if name in form:
                form[name].errors = [message]
    context = {
        "view": view,
        "pairing": pairing,
        "milestone_form": milestone_form,
        "status_form": status_form,
        "comment_form": comment_form,
        "problem": errors.get("_", None),
    }
    if is_fragment():
        return render_template("goals/_goal.html", standalone=False, **context), status
    return render_template("goals/show.html", standalone=True, **context), status


@bp.route("/<int:goal_id>/milestones", methods=["POST"])
@signed_in
def milestone(goal_id: int):
    goal, pairing = goal_in_pairing(current_user, goal_id)
    form = MilestoneForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with errors_onto() as outcome:
            add_milestone(goal, pairing, current_user, title=form.milestone_title.data,
                          due_on=form.milestone_due_on.data, today=today())  # fmt: skip
    except NotYours as refusal:
        return _problem(goal, pairing, {"_": refusal.message}, 403)
    if not outcome.ok:
        return _problem(goal, pairing, outcome.extra, 422)
    return _after_change(goal, pairing, "The milestone is added.")


@bp.route("/milestones/<int:milestone_id>/toggle", methods=["POST"])
@signed_in
def toggle(milestone_id: int):
    item, goal, pairing = milestone_in_pairing(current_user, milestone_id)
    wanted = request.form.get("done")
    if wanted not in ("1", "0"):
        abort(400)
    set_milestone_done(item, goal, pairing, current_user, done=wanted == "1", now=utcnow())
    # The form's state is the milestone's state now, whether this request or an earlier one set it.
    done = wanted == "1"
    return _after_change(goal, pairing, f"\u201c{item.title}\u201d is {'done. Well done' if done else 'open again'}.")


@bp.route("/<int:goal_id>/status", methods=["POST"])
@signed_in
def status(goal_id: int):
    goal, pairing = goal_in_pairing(current_user, goal_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with errors_onto() as outcome:
            set_status(goal, pairing, current_user, status=form.status.data or "", reflection=form.reflection.data,
                       now=utcnow())  # fmt: skip
    except NotYours as refusal:
        return _problem(goal, pairing, {"_": refusal.message}, 403)
    if not outcome.ok:
        return _problem(goal, pairing, outcome.extra, 422)
    words = {"achieved": "achieved. Congratulations", "set_aside": "set aside, with your reflection kept",
             "active": "active again"}  # fmt: skip
    return _after_change(goal, pairing, f"\u201c{goal.title}\u201d is {words[goal.status.value]}.")


@bp.route("/<int:goal_id>/comments", methods=["POST"])
@signed_in
def comment(goal_id: int):
    goal, pairing = goal_in_pairing(current_user, goal_id)
    form = CommentForm()
    if not form.validate_on_submit():
        abort(400)
    with errors_onto() as outcome:
        add_comment(goal, pairing, current_user, body=form.comment.data,
                    is_suggestion=bool(form.is_suggestion.data) and current_user.id == pairing.mentor_id)  # fmt: skip
    if not outcome.ok:
        return _problem(goal, pairing, outcome.extra, 422)
    return _after_change(goal, pairing, "Your comment is added.")


# Objectives (director)


def _team_choices(form: ObjectiveForm) -> None:
    from wtforms.fields.choices import SelectChoice

    teams = db.session.scalars(select(Team).order_by(Team.name))
    form.owner_team_id.choices = [SelectChoice("", "No particular team")] + [
        SelectChoice(str(t.id), t.name) for t in teams
    ]


def _objective_form_submitted(form: ObjectiveForm, objective: Objective | None, message: str):
    """Save the objective from a submitted form: a 303 on success, None when the form must be shown again."""
    if not form.validate_on_submit():
        return None
    with errors_onto(form) as outcome:
        save_objective(objective, title=form.title.data, level=form.level.data or "",
                       owner_team_id=form.owner_team_id.data, is_active=form.is_active.data)  # fmt: skip
    if not outcome.ok:
        return None
    flash(message, "success")
    return redirect(url_for("goals.objective_list"), code=303)


@bp.route("/objectives", methods=["GET", "POST"])
@director
def objective_list():
    form = ObjectiveForm()
    _team_choices(form)
    done = _objective_form_submitted(form, None, "The objective is added.")
    if done is not None:
        return done
    status = 422 if form.is_submitted() else 200
    return render_template("goals/objectives.html", form=form, objectives=objectives()), status


@bp.route("/objectives/<int:objective_id>/edit", methods=["GET", "POST"])
@director
def objective_edit(objective_id: int):
    objective = db.session.get(Objective, objective_id)
    if objective is None:
        abort(404)
    form = ObjectiveForm(obj=objective)
    _team_choices(form)
    if request.method == "GET":
        form.level.data = objective.level.value
    done = _objective_form_submitted(form, objective, "The objective is saved.")
    if done is not None:
        return done
    status = 422 if form.is_submitted() else 200
    return render_template("goals/objective_form.html", form=form, objective=objective), status
