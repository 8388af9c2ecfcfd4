"""A pair's journal: the timeline, planning and logging meetings, shared notes, reflections, action items.

Every page here is for the two people of a pairing alone; anyone else, the director included, gets 404.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.access import signed_in
from portal.clock import today, utcnow, zone_for
from portal.dates import in_two_zones, local, short_zone_name
from portal.edge import page_arg
from portal.errors import Conflict
from portal.extensions import db
from portal.forms import EmptyForm
from portal.journals import bp
from portal.journals.forms import ActionForm, CancelForm, LogForm, NotesForm, PlanForm, ReflectionForm, RescheduleForm
from portal.journals.services import (
    REFLECTION_PROMPTS,
    NotesConflict,
    action_for,
    actions_of,
    add_action,
    cancel_meeting,
    discard_notes_draft,
    format_choices,
    format_labels,
    goals_of,
    ics_for,
    journal_drafts,
    linked_goal_ids,
    log_meeting,
    meeting_for,
    notes_draft,
    plan_meeting,
    reflection_draft,
    reflection_for,
    reschedule_meeting,
    save_notes,
    save_notes_draft,
    save_reflection,
    save_reflection_draft,
    set_action_done,
    timeline_entries,
)
from portal.models import User
from portal.pairings import pairing_for
from portal.web import errors_onto, is_fragment, status_message


def _people(pairing) -> dict[int, User]:
    """The pair, by id. Read through the identity map, so it still works after a commit expired the pairing."""
    return {uid: db.session.get(User, uid) for uid in (pairing.mentor_id, pairing.mentee_id)}


def _partner(pairing) -> User:
    people = _people(pairing)
    return next(person for uid, person in people.items() if uid != current_user.id)


def _formats(form) -> None:
    form.format.choices = [SelectChoice("", "Choose one")] + [SelectChoice(c.key, c.label) for c in format_choices()]


def _today():
    """Today in the person's own zone: a day "still to come" or "past" is theirs, not UTC's."""
    return today(zone_for(current_user))


def _zone_hint(form) -> None:
    """Say which zone the time field is read in, with its short name now ("Europe/Berlin, CET")."""
    zone = zone_for(current_user)
    form.at.description = (
        f"In your time zone, {zone.key} ({short_zone_name(local(utcnow(), zone))}). For example 14:30."
    )


# --- the timeline -------------------------------------------------------------------------------------


@bp.route("/pairings/<int:pairing_id>")
@signed_in
def timeline(pairing_id: int):
    pairing = pairing_for(current_user, pairing_id)
    q = request.args.get("q", "").strip()
    pagination, entries = timeline_entries(pairing, current_user, page=page_arg(), q=q)
    context = {
        "pairing": pairing,
        "partner": _partner(pairing),
        "pagination": pagination,
        "entries": entries,
        "q": q,
        "labels": format_labels(),
    }
    if is_fragment() and request.headers.get("HX-Target") == "timeline-results":
        return render_template("journals/_timeline.html", **context)
    return render_template("journals/timeline.html", **context)


# --- planning, moving, cancelling ---------------------------------------------------------------------


@bp.route("/pairings/<int:pairing_id>/meetings/new", methods=["GET", "POST"])
@signed_in
def plan(pairing_id: int):
    pairing = pairing_for(current_user, pairing_id)
    form = PlanForm()
    _formats(form)
    _zone_hint(form)
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            meeting = plan_meeting(
                pairing,
                current_user,
                on=form.on.data,
                at=form.at.data,
                duration_minutes=form.duration_minutes.data,
                format=form.format.data,
                today=_today(),
            )
        if outcome.ok:
            partner = _partner(pairing)
            flash(f"Your meeting is planned and {partner.display_name} has been told.", "success")
            return redirect(url_for("journals.show", meeting_id=meeting.id), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("journals/plan.html", pairing=pairing, partner=_partner(pairing), form=form), status


def _change(meeting_id: int, kind: str):
    meeting, pairing = meeting_for(current_user, meeting_id)
    form = RescheduleForm() if kind == "reschedule" else CancelForm()
    if kind == "reschedule":
        _zone_hint(form)
    if request.method == "GET" and kind == "reschedule":
        mine = local(meeting.starts_at, zone_for(current_user))
        form.on.data, form.at.data = mine.date(), mine.time()
    problem = None
    if form.validate_on_submit():
        try:
            with errors_onto(form) as outcome:
                if kind == "reschedule":
                    reschedule_meeting(
                        meeting,
                        pairing,
                        current_user,
                        on=form.on.data,
                        at=form.at.data,
                        reason=form.reason.data,
                        today=_today(),
                    )
                else:
                    cancel_meeting(meeting, pairing, current_user, reason=form.reason.data)
        except Conflict as refusal:
            # Shown on the form rather than as the error page; the service raised before writing anything.
            problem = refusal.message
        else:
            if outcome.ok:
                partner = _partner(pairing)
                done = "moved" if kind == "reschedule" else "cancelled"
                flash(f"The meeting is {done} and {partner.display_name} has been told.", "success")
                return redirect(url_for("journals.show", meeting_id=meeting.id), code=303)
    status = 200 if not form.is_submitted() else 409 if problem else 422
    return render_template(
        "journals/change.html",
        kind=kind,
        meeting=meeting,
        pairing=pairing,
        partner=_partner(pairing),
        labels=format_labels(),
        form=form,
        problem=problem,
    ), status


@bp.route("/meetings/<int:meeting_id>/reschedule", methods=["GET", "POST"])
@signed_in
def reschedule(meeting_id: int):
    return _change(meeting_id, "reschedule")


@bp.route("/meetings/<int:meeting_id>/cancel", methods=["GET", "POST"])
@signed_in
def cancel(meeting_id: int):
    return _change(meeting_id, "cancel")


# --- logging ------------------------------------------------------------------------------------------


def _log(pairing, meeting=None):
    form = LogForm()
    _formats(form)
    goals = goals_of(pairing)
    if request.method == "GET":
        if meeting is not None:
            form.held_on.data = meeting.held_on or min(
                local(meeting.starts_at, zone_for(current_user)).date(), _today()
            )
            form.duration_minutes.data = meeting.duration_minutes
            form.format.data = meeting.format
            form.topics.data = meeting.topics
            form.goals.data = linked_goal_ids(meeting)
        else:
            form.held_on.data, form.duration_minutes.data = _today(), 30
    problem = None
    if form.validate_on_submit():
        try:
            with errors_onto(form) as outcome:
                logged = log_meeting(
                    pairing,
                    current_user,
                    meeting=meeting,
                    held_on=form.held_on.data,
                    duration_minutes=form.duration_minutes.data,
                    format=form.format.data,
                    topics=form.topics.data,
                    goal_ids=form.goals.data or [],
                    today=_today(),
                )
        except Conflict as refusal:
            # Shown on the form rather than as the error page; the service raised before writing anything.
            problem = refusal.message
        else:
            if outcome.ok:
                flash("The meeting is in your journal. Shared notes and your reflection are below.", "success")
                return redirect(url_for("journals.show", meeting_id=logged.id), code=303)
    status = 200 if not form.is_submitted() else 409 if problem else 422
    return render_template(
        "journals/log.html",
        form=form,
        goals=goals,
        meeting=meeting,
        pairing=pairing,
        partner=_partner(pairing),
        problem=problem,
    ), status


@bp.route("/pairings/<int:pairing_id>/meetings/log", methods=["GET", "POST"])
@signed_in
def log_new(pairing_id: int):
    return _log(pairing_for(current_user, pairing_id))


@bp.route("/meetings/<int:meeting_id>/log", methods=["GET", "POST"])
@signed_in
def log(meeting_id: int):
    meeting, pairing = meeting_for(current_user, meeting_id)
    return _log(pairing, meeting)


# --- the session page ---------------------------------------------------------------------------------


# Passed for a draft not read yet: the context reads it.
_UNREAD = object()


def _notes_context(meeting, pairing, *, conflict: NotesConflict | None = None, sent=None, error=None, draft=_UNREAD):
    """What the shared-notes section shows: the saved notes, the person's draft, what they sent, or a merge."""
    people = _people(pairing)
    if draft is _UNREAD:
        draft = notes_draft(meeting, current_user)
    if draft is not None and draft.text == meeting.notes:
        draft = None  # the draft is what everyone already has
    context = {
        "meeting": meeting,
        "draft": None,
        "conflict": conflict,
        "error": error,
        "updated_by": people.get(meeting.notes_updated_by_id),
    }
    if conflict is not None:
        merge = conflict.merge
        context.update(text=merge.text, version=conflict.version, merge=merge)
    elif sent is not None:
        context.update(text=sent[0], version=sent[1])
    elif draft is not None:
        context.update(text=draft.text, version=draft.version, draft=draft)
    else:
        context.update(text=meeting.notes, version=meeting.notes_version)
    context["stale"] = context["draft"] is not None and draft.version != meeting.notes_version
    return context


def _reflection_context(meeting, *, sent=None, error=None, draft=_UNREAD):
    mine = reflection_for(meeting, current_user)
    if draft is _UNREAD:
        draft = reflection_draft(meeting, current_user)
    if draft is not None and mine is not None and draft.text == mine.body:
        draft = None
    if sent is not None:
        text = sent
    elif draft is not None:
        text = draft.text
    else:
        text = mine.body if mine else ""
    return {
        "meeting": meeting,
        "reflection": mine,
        "draft": draft,
        "text": text,
        "error": error,
        "prompts": REFLECTION_PROMPTS,
    }


def _actions_context(meeting, pairing, *, form=None):
    form = form or ActionForm(formdata=None)
    people = _people(pairing)
    form.owner_id.choices = [
        SelectChoice(person.id, f"You ({person.display_name})" if person.id == current_user.id else person.display_name)
        for person in (people[pairing.mentee_id], people[pairing.mentor_id])
    ]
    if form.owner_id.data is None:
        form.owner_id.data = pairing.mentee_id
    return {
        "meeting": meeting,
        "people": people,
        "actions": actions_of(meeting),
        "form": form,
        "toggle_form": EmptyForm(),
    }


def _render_meeting(meeting, pairing, *, status=200, notes=None, reflection=None, actions=None):
    goal_ids = linked_goal_ids(meeting)
    goals = [goal for goal in goals_of(pairing) if goal.id in goal_ids] if goal_ids else []
    partner = _partner(pairing)
    if notes is None and reflection is None:
        # Both of the person's drafts in one query, not one per section.
        notes_draft_, reflection_draft_ = journal_drafts(meeting, current_user)
        notes = _notes_context(meeting, pairing, draft=notes_draft_)
        reflection = _reflection_context(meeting, draft=reflection_draft_)
    return render_template(
        "journals/meeting.html",
        meeting=meeting,
        pairing=pairing,
        partner=partner,
        # Partners in different zones see the time as each of them reads it.
        both_times=in_two_zones(meeting.starts_at, zone_for(current_user), partner.display_name, zone_for(partner)),
        labels=format_labels(),
        goals=goals,
        notes=notes or _notes_context(meeting, pairing),
        reflection=reflection or _reflection_context(meeting),
        actions=actions or _actions_context(meeting, pairing),
    ), status


# Each part of the session page (notes, reflection, action items) is one partial, swapped in place by htmx.
SECTIONS = {
    "notes": "journals/_notes.html",
    "reflection": "journals/_reflection.html",
    "actions": "journals/_actions.html",
}


def _section_problem(meeting, pairing, name: str, context, *, status: int):
    """A section shown again with its problem: the partial for htmx, else the whole session page."""
    if is_fragment():
        return render_template(SECTIONS[name], **{name: context}), status
    return _render_meeting(meeting, pairing, status=status, **{name: context})


def _section_saved(meeting, pairing, name: str, fresh_context, message: str):
    """After a save: the refreshed partial and the announcement for htmx, else a flash and a 303 to the section."""
    if is_fragment():
        return render_template(SECTIONS[name], **{name: fresh_context()}) + str(status_message(message))
    flash(message, "success")
    return redirect(url_for("journals.show", meeting_id=meeting.id, _anchor=f"{name}-section"), code=303)


def _text(field) -> str:
    """A textarea's text with the line endings browsers send normalised."""
    return (field.data or "").replace("\r\n", "\n")


@bp.route("/meetings/<int:meeting_id>")
@signed_in
def show(meeting_id: int):
    meeting, pairing = meeting_for(current_user, meeting_id)
    return _render_meeting(meeting, pairing)


# --- shared notes -------------------------------------------------------------------------------------


def _version(raw: str | None) -> int | None:
    try:
        return int(raw or "")
    except ValueError:
        return None


@bp.route("/meetings/<int:meeting_id>/notes", methods=["POST"])
@signed_in
def notes(meeting_id: int):
    meeting, pairing = meeting_for(current_user, meeting_id)
    form = NotesForm()
    if not form.validate_on_submit():
        abort(400)
    body, version = _text(form.notes), _version(form.version.data)
    try:
        with errors_onto() as outcome:
            save_notes(meeting, current_user, body=body, base_version=version)
    except NotesConflict as conflict:
        # Nothing was written. Keep what they typed as their draft, still based on the old version, so that
        # closing the tab now loses nothing and a later save from it is caught again. The answer is a 409, so
        # the edge would roll back: this one write is kept on purpose, committed here.
        save_notes_draft(meeting, current_user, text=body, base_version=version if version is not None else -1)
        db.session.commit()
        context = _notes_context(meeting, pairing, conflict=conflict)
        return _section_problem(meeting, pairing, "notes", context, status=409)
    if not outcome.ok:
        context = _notes_context(meeting, pairing, sent=(body, form.version.data), error=outcome.extra["notes"])
        return _section_problem(meeting, pairing, "notes", context, status=422)
    return _section_saved(
        meeting, pairing, "notes", lambda: _notes_context(meeting, pairing), "The shared notes are saved."
    )


@bp.route("/meetings/<int:meeting_id>/notes/draft", methods=["POST"])
@signed_in
def notes_draft_save(meeting_id: int):
    meeting, pairing = meeting_for(current_user, meeting_id)
    form = NotesForm()
    if not form.validate_on_submit():
        abort(400)
    if request.form.get("discard"):
        discard_notes_draft(meeting, current_user)
        message = "Your draft is discarded; these are the shared notes as saved."
        return _section_saved(meeting, pairing, "notes", lambda: _notes_context(meeting, pairing), message)
    with errors_onto() as outcome:
        save_notes_draft(meeting, current_user, text=_text(form.notes), base_version=_version(form.version.data))
    if not outcome.ok:
        return _draft_status(meeting, error=outcome.extra["notes"], status=422)
    return _draft_status(meeting, what="notes")


def _draft_status(meeting, *, what="notes", error=None, status=200):
    if not is_fragment():
        # Drafts are saved by htmx as people type; a form post lands back on the page.
        return redirect(url_for("journals.show", meeting_id=meeting.id), code=303)
    return render_template("journals/_draft_status.html", error=error, what=what, at=utcnow()), status


# --- private reflections ------------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/reflection", methods=["POST"])
@signed_in
def reflection(meeting_id: int):
    meeting, pairing = meeting_for(current_user, meeting_id)
    form = ReflectionForm()
    if not form.validate_on_submit():
        abort(400)
    body = _text(form.reflection)
    with errors_onto() as outcome:
        saved = save_reflection(meeting, current_user, body=body)
    if not outcome.ok:
        context = _reflection_context(meeting, sent=body, error=outcome.extra["reflection"])
        return _section_problem(meeting, pairing, "reflection", context, status=422)
    message = "Your reflection is saved. Only you can read it." if saved else "Your reflection is removed."
    return _section_saved(meeting, pairing, "reflection", lambda: _reflection_context(meeting), message)


@bp.route("/meetings/<int:meeting_id>/reflection/draft", methods=["POST"])
@signed_in
def reflection_draft_save(meeting_id: int):
    meeting, _ = meeting_for(current_user, meeting_id)
    form = ReflectionForm()
    if not form.validate_on_submit():
        abort(400)
    with errors_onto() as outcome:
        save_reflection_draft(meeting, current_user, text=_text(form.reflection))
    if not outcome.ok:
        return _draft_status(meeting, what="reflection", error=outcome.extra["reflection"], status=422)
    return _draft_status(meeting, what="reflection")


# --- action items -------------------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/actions", methods=["POST"])
@signed_in
def add_action_item(meeting_id: int):
    meeting, pairing = meeting_for(current_user, meeting_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _section_problem(meeting, pairing, "actions", _actions_context(meeting, pairing, form=form), status=422)
    with errors_onto(form) as outcome:
        item = add_action(
            meeting,
            pairing,
            current_user,
            title=form.title.data,
            owner_id=form.owner_id.data,
            due_on=form.due_on.data,
            today=_today(),
        )
    if not outcome.ok:
        return _section_problem(meeting, pairing, "actions", _actions_context(meeting, pairing, form=form), status=422)
    return _section_saved(
        meeting, pairing, "actions", lambda: _actions_context(meeting, pairing), f"Added: {item.title}."
    )


@bp.route("/actions/<int:action_id>/toggle", methods=["POST"])
@signed_in
def toggle(action_id: int):
    item, pairing = action_for(current_user, action_id)
    wanted = request.form.get("done")
    if wanted not in ("1", "0"):
        abort(400)
    set_action_done(item, done=wanted == "1", now=utcnow())
    message = f"Done: {item.title}." if wanted == "1" else f"Open again: {item.title}."
    if is_fragment():
        people = _people(pairing)
        html = render_template(
            "journals/_action_item.html", item=item, owner=people[item.owner_id], toggle_form=EmptyForm()
        )
        return html + str(status_message(message))
    flash(message, "success")
    if item.meeting_id is None:
        return redirect(url_for("journals.timeline", pairing_id=pairing.id), code=303)
    return redirect(url_for("journals.show", meeting_id=item.meeting_id, _anchor="actions-section"), code=303)


# --- the calendar file --------------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>.ics")
@signed_in
def ics(meeting_id: int):
    meeting, pairing = meeting_for(current_user, meeting_id)
    url = url_for("journals.show", meeting_id=meeting.id, _external=True)
    body = ics_for(meeting, pairing, host=urlsplit(url).hostname or "portal", url=url)
    filename = f"mentoring-{local(meeting.starts_at, zone_for(current_user)).date().isoformat()}.ics"
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
