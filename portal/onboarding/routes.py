"""The questionnaire: one question per screen, each saved when submitted, resumable any time."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import signed_in
from portal.clock import zone_for
from portal.extensions import htmx
from portal.forms import EmptyForm
from portal.onboarding import bp
from portal.onboarding.questions import QUESTIONS, Question
from portal.onboarding.services import (
    all_choices,
    finish,
    get_draft,
    get_question,
    load_state,
    neighbours,
    progress_for,
    question_number,
    save_answer,
    save_draft,
    set_timezone,
    skip_question,
)
from portal.reports.services import save_baselines
from portal.web import errors_onto, render

# Where an edit started, so that saving returns there instead of walking on through the steps.
RETURN_TARGETS = {"review": "onboarding.review", "profile": "profiles.me"}


def _return_to() -> str | None:
    value = request.values.get("return")
    return value if value in RETURN_TARGETS else None


def _render_step(question: Question, *, status: int = 200, errors=None, submitted=None, message=None):
    """The step as a full page, or as the fragment htmx swaps in place."""
    state = load_state(current_user)[question.key]
    text = state.text or ""
    draft = get_draft(current_user, question) if question.kind == "text" else None
    if draft is not None:
        text = draft.text
    if submitted is not None:
        # Bad input: show exactly what the person sent, not what was saved before.
        selected, text = set(submitted["values"]), submitted["text"]
    else:
        selected = state.keys
    zone = (submitted or {}).get("zone")
    before, after = neighbours(question)
    context = {
        "question": question,
        "number": question_number(question),
        "total": len(QUESTIONS),
        "options": all_choices().get(question.list_name, []) if question.list_name else [],
        "selected": selected,
        "text": text,
        "draft_saved": draft is not None,
        "before": before,
        "after": after,
        "errors": errors or {},
        "return_to": _return_to(),
        "message": message,
        "zone_value": zone if zone is not None else zone_for(current_user).key,
        # Never chose a zone: the browser's own may be suggested (portal.js), unless they just typed one.
        "suggest_zone": not current_user.timezone and zone is None,
    }
    return render("onboarding/step.html", "onboarding/_step.html", status=status, **context)


@bp.route("/")
@signed_in
def start():
    progress = progress_for(current_user)
    if progress.next_question is None:
        return redirect(url_for("onboarding.review"))
    return redirect(url_for("onboarding.step", key=progress.next_question.key))


@bp.route("/step/<key>")
@signed_in
def step(key: str):
    return _render_step(get_question(key))


@bp.route("/step/<key>", methods=["POST"])
@signed_in
def answer(key: str):
    question = get_question(key)
    action = request.form.get("action", "next")
    values = request.form.getlist("choice")
    text = request.form.get("text", "")
    zone = request.form.get("timezone") if question.asks_zone else None
    has_answer = bool(values) if question.kind != "text" else bool(text.strip())
    with errors_onto() as outcome:
        if action == "skip":
            skip_question(current_user, question)
        elif action == "later" and not has_answer:
            if zone is not None:
                set_timezone(current_user, timezone=zone)  # the zone alone is worth keeping
        else:
            save_answer(current_user, question, values=values, text=text, timezone=zone)
            if question.key == "skills_grow":
                # Where they feel today on each ticked skill (optional): the impact report's baseline.
                levels = {key: request.form.get(f"baseline-{key}", "") for key in values}
                save_baselines(current_user, levels=levels)
    if not outcome.ok:
        submitted = {"values": values, "text": text, "zone": zone}
        return _render_step(question, status=422, errors=outcome.extra, submitted=submitted)

    if action == "later":
        flash("Saved. You can pick up where you left off whenever you like.", "success")
        return _go(url_for("main.home"), full_page=True)
    return_to = _return_to()
    if return_to:
        flash("Your answer is saved.", "success")
        return _go(url_for(RETURN_TARGETS[return_to]), full_page=True)
    _, after = neighbours(question)
    if after is None:
        return _go(url_for("onboarding.review"), full_page=True)
    done = "skipped for now" if action == "skip" else "saved"
    message = f"Your answer is {done}. Step {question_number(after)} of {len(QUESTIONS)}."
    if htmx:
        response, status = _render_step(after, message=message)
        return Response(response, status, headers={"HX-Push-Url": url_for("onboarding.step", key=after.key)})
    flash(message, "success")
    return redirect(url_for("onboarding.step", key=after.key), code=303)


def _go(target: str, *, full_page: bool):
    """Redirect after a POST: a 303 without JavaScript, a full-page HX-Redirect for htmx."""
    if htmx and full_page:
        return Response(status=204, headers={"HX-Redirect": target})
    return redirect(target, code=303)


@bp.route("/draft/<key>", methods=["POST"])
@signed_in
def draft(key: str):
    question = get_question(key)
    # errors_onto rolls the failed draft back, so the 303 below (committed at the edge) keeps nothing of it.
    with errors_onto() as outcome:
        save_draft(current_user, question, request.form.get("text", ""))
    if not outcome.ok:
        if not htmx:
            flash(outcome.extra[question.key], "error")
            return redirect(url_for("onboarding.step", key=key), code=303)
        return render_template("onboarding/_draft_status.html", error=outcome.extra[question.key]), 422
    if not htmx:
        return redirect(url_for("onboarding.step", key=key), code=303)
    return render_template("onboarding/_draft_status.html", saved=True)


@bp.route("/review")
@signed_in
def review():
    return render_template(
        "onboarding/review.html",
        states=load_state(current_user),
        questions=QUESTIONS,
        progress=progress_for(current_user),
        form=EmptyForm(),
    )


@bp.route("/finish", methods=["POST"])
@signed_in
def finish_questionnaire():
    first_time = finish(current_user)
    flash(
        "Thank you. Your answers are saved, and you can change them any time from your profile."
        if first_time
        else "Your answers are saved.",
        "success",
    )
    return redirect(url_for("profiles.me"), code=303)
