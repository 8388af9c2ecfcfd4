"""The celebration wall: browse, react, share by choice, send kudos, report; the director's care."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import director, signed_in
from portal.celebrations import bp
from portal.celebrations.forms import EditForm, KudosForm, OfferForm, ReportForm, ShareForm
from portal.celebrations.services import (
    KIND_LABELS,
    REACTIONS,
    Cursor,
    WallFilters,
    accept_kudos,
    answer_offer,
    delete_post,
    dismiss_post,
    edit_post,
    filter_options,
    find_colleagues,
    get_post_for,
    get_post_for_director,
    give_kudos,
    month_totals,
    my_celebrations,
    my_reactions,
    offer_for,
    page_version,
    pair_posts,
    post_version,
    reaction_counts,
    report_post,
    reported_posts,
    set_hidden,
    set_reaction,
    share_post,
    skill_labels,
    waiting_count,
    wall_page,
)
from portal.celebrations.text import linkify
from portal.clock import today, utcnow
from portal.edge import id_arg
from portal.errors import Conflict, ValidationFailed
from portal.extensions import db, htmx, limiter
from portal.forms import EmptyForm
from portal.models import CelebrationKind, CelebrationStatus, Pairing
from portal.urls import safe_next
from portal.web import errors_onto, is_fragment, render, status_message

# Reaction spam: generous for a person, far below what a script would send.
REACTION_LIMIT = "60 per minute"

bp.add_app_template_filter(linkify, "linkify")


@bp.app_context_processor
def wall_helpers():
    return {
        "celebration_kinds": KIND_LABELS,
        "reaction_counts": reaction_counts,
        "post_version": post_version,
        "page_version": page_version,
    }


def _filters(skills: dict[str, str]) -> WallFilters:
    skill = request.args.get("skill") or None
    return WallFilters(skill=skill if skill in skills else None, cycle_id=id_arg("cycle"), team_id=id_arg("team"))


def _here() -> str:
    return request.full_path.rstrip("?")


@bp.route("/")
@signed_in
def index():
    skills = skill_labels()
    filters = _filters(skills)
    before = Cursor.parse(request.args.get("before"))
    page = wall_page(current_user, filters=filters, before=before)
    context = {"page": page, "filters": filters, "skills": skills, "next_url": _here()}
    if htmx and not htmx.boosted and before is not None:
        # The endless scroll asks for the next posts: they replace the "older posts" item they came from.
        return render_template("celebrations/_page.html", announce=True, **context)
    cycles, teams = filter_options()
    return render_template(
        "celebrations/index.html",
        before=before,
        cycles=cycles,
        teams=teams,
        totals=month_totals(today()),
        pair_posts=pair_posts(current_user),
        waiting=waiting_count(current_user),
        **context,
    )


@bp.route("/mine")
@signed_in
def mine():
    return render_template("celebrations/mine.html", posts=my_celebrations(current_user), skills=skill_labels())


def _render_post(post, *, share_form=None, edit_form=None, report_form=None, problem=None, status=200):
    """The post's page; what it offers depends on who is looking (see services.can_see)."""
    pairing = db.session.get(Pairing, post.pairing_id) if post.pairing_id else None
    me = current_user.id
    if post.status != CelebrationStatus.PUBLISHED and post.subject_id == me:
        mode = "kudos_for_me" if post.kind == CelebrationKind.KUDOS else "proposal"
    elif post.status != CelebrationStatus.PUBLISHED:
        mode = "kudos_sent"
    else:
        mode = "shared"
    if share_form is None:
        share_form = ShareForm(formdata=None, text=post.text)
    if pairing is None:
        share_form.audience.choices = [choice for choice in share_form.audience.choices if choice.value == "everyone"]
    return render_template(
        "celebrations/show.html",
        post=post,
        mode=mode,
        pairing=pairing,
        skills=skill_labels(),
        mine=my_reactions(current_user, [post.id]).get(post.id, set()),
        share_form=share_form,
        edit_form=edit_form or EditForm(formdata=None, text=post.text),
        report_form=report_form or ReportForm(formdata=None),
        form=EmptyForm(),
        problem=problem,
        next_url=url_for("celebrations.show", post_id=post.id),
    ), status


def _refused(post_id: int, refusal: Conflict):
    """The post's page again, with the reason it could not be done (services check before they write)."""
    return _render_post(get_post_for(current_user, post_id), problem=refusal.message, status=refusal.status)


@bp.route("/<int:post_id>")
@signed_in
def show(post_id: int):
    return _render_post(get_post_for(current_user, post_id))


def _valid_or_400(form) -> None:
    if not form.validate_on_submit():
        abort(400)


@bp.route("/<int:post_id>/share", methods=["POST"])
@signed_in
def share(post_id: int):
    post = get_post_for(current_user, post_id)
    form = ShareForm()
    _valid_or_400(form)
    try:
        with errors_onto(form) as outcome:
            share_post(post, current_user, text=form.text.data or "", audience=form.audience.data or "", now=utcnow())
    except Conflict as refusal:
        return _refused(post_id, refusal)
    if not outcome.ok:
        return _render_post(get_post_for(current_user, post_id), share_form=form, status=422)
    if post.audience == "pair":
        flash("Shared with your pair. Only the two of you see it.", "success")
    else:
        flash("It is on the wall. Thank you for sharing your progress.", "success")
    return redirect(url_for("celebrations.show", post_id=post.id), code=303)


def _simple_action(post_id: int, action, message: str, target: str | None = None):
    """A lone-button action on a post the person can see: run it, flash, 303."""
    post = get_post_for(current_user, post_id)
    try:
        action(post)
    except Conflict as refusal:
        return _refused(post_id, refusal)
    flash(message, "success")
    return redirect(target or url_for("celebrations.show", post_id=post.id), code=303)


@bp.route("/<int:post_id>/accept", methods=["POST"])
@signed_in
def accept(post_id: int):
    return _simple_action(
        post_id, lambda post: accept_kudos(post, current_user, now=utcnow()), "Your kudos are on the wall."
    )


@bp.route("/<int:post_id>/dismiss", methods=["POST"])
@signed_in
def dismiss(post_id: int):
    return _simple_action(
        post_id,
        lambda post: dismiss_post(post, current_user),
        "Kept to yourself. Nobody else will see it, and nobody is told.",
        url_for("celebrations.mine"),
    )


@bp.route("/<int:post_id>/delete", methods=["POST"])
@signed_in
def delete(post_id: int):
    return _simple_action(
        post_id,
        lambda post: delete_post(post, current_user, now=utcnow()),
        "The post is deleted.",
        url_for("celebrations.mine"),
    )


@bp.route("/<int:post_id>/edit", methods=["POST"])
@signed_in
def edit(post_id: int):
    post = get_post_for(current_user, post_id)
    form = EditForm()
    _valid_or_400(form)
    try:
        with errors_onto(form) as outcome:
            edit_post(post, current_user, text=form.text.data or "")
    except Conflict as refusal:
        return _refused(post_id, refusal)
    if not outcome.ok:
        return _render_post(get_post_for(current_user, post_id), edit_form=form, status=422)
    flash("Your changes are saved.", "success")
    return redirect(url_for("celebrations.show", post_id=post.id), code=303)


@bp.route("/<int:post_id>/report", methods=["POST"])
@signed_in
def report(post_id: int):
    post = get_post_for(current_user, post_id)
    form = ReportForm()
    _valid_or_400(form)
    try:
        with errors_onto(form) as outcome:
            report_post(post, current_user, reason=form.reason.data or "")
    except Conflict as refusal:
        return _refused(post_id, refusal)
    if not outcome.ok:
        return _render_post(get_post_for(current_user, post_id), report_form=form, status=422)
    flash("Thank you. The program director will look at it; nobody else is told who reported it.", "success")
    return redirect(url_for("celebrations.show", post_id=post.id), code=303)


def _reaction_key() -> str:
    return f"user:{current_user.id}"


@bp.route("/<int:post_id>/react", methods=["POST"])
@signed_in
@limiter.limit(REACTION_LIMIT, key_func=_reaction_key)
def react(post_id: int):
    kind, wanted = request.form.get("kind", ""), request.form.get("on", "")
    try:
        if wanted not in ("1", "0"):
            # Each reaction's form says whether it is being given or taken back; a form without it is not ours.
            raise ValidationFailed({"kind": "Please choose one of the reactions."})
        post, _ = set_reaction(post_id, current_user, kind, on=wanted == "1")
    except ValidationFailed as failure:
        return render_template(
            "errors/error.html", title="Please choose a reaction", message=failure.errors["kind"]
        ), 400
    except Conflict as refusal:
        if htmx:
            raise  # the edge puts the message in the status region and swaps nothing
        return render_template("errors/error.html", title="This post has left the wall", message=refusal.message), 409
    label = REACTIONS[kind][1]
    message = f"{label} added." if wanted == "1" else f"{label} taken back."
    if htmx and not htmx.boosted:
        post = get_post_for(current_user, post.id)
        return render_template(
            "celebrations/_reactions.html",
            post=post,
            mine=my_reactions(current_user, [post.id]).get(post.id, set()),
            next_url=request.form.get("next", ""),
            status_message=message,
        )
    target = safe_next(request.form.get("next"), url_for("celebrations.index"))
    return redirect(f"{target}#post-{post.id}", code=303)


def _status_only(message: str, status: int):
    """For htmx: only the message, into the status region; the reactions stay as they are."""
    return status_message(message, kind="error"), status, {"HX-Reswap": "none"}


@bp.errorhandler(429)
def too_many_reactions(error):
    message = "That was a lot of reactions in a short time. Please wait a minute, then carry on; nothing was lost."
    if htmx:
        return _status_only(message, 429)
    return render_template("errors/error.html", title="Let's pause for a moment", message=message), 429


@bp.route("/kudos/new", methods=["GET", "POST"])
@signed_in
def kudos():
    skills = skill_labels()
    form = KudosForm()
    form.set_skills(skills)
    if request.method == "GET" and request.args.get("to"):
        form.to.data = request.args["to"]
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            post = give_kudos(current_user, to=form.to.data or "", skill_key=form.skill.data, text=form.text.data or "")
        if outcome.ok:
            name = post.subject.display_name
            flash(
                f"Your kudos are on their way to {name}. They appear on the wall if they choose to share them.",
                "success",
            )
            return redirect(url_for("celebrations.mine"), code=303)
    elif form.is_submitted():
        abort(400)
    # The people picker: a plain GET search form, upgraded by htmx to show colleagues as the name is typed.
    term = request.args.get("q", "").strip()[:80]
    people = find_colleagues(current_user, term)
    return render(
        "celebrations/kudos.html",
        "celebrations/_kudos_people.html",
        form=form,
        term=term,
        people=people,
        status=422 if form.is_submitted() else 200,
    )


@bp.route("/reports")
@director
def reports():
    open_reports, hidden = reported_posts()
    return render_template(
        "celebrations/reports.html", reported=open_reports, hidden=hidden, skills=skill_labels(), form=EmptyForm()
    )


def _director_action(post_id: int, *, hidden: bool):
    post = get_post_for_director(post_id)
    set_hidden(post, current_user, hidden=hidden, now=utcnow())
    flash(
        "The post is off the wall. Its author is told, kindly." if hidden else "The post is on the wall.",
        "success",
    )
    return redirect(url_for("celebrations.reports"), code=303)


@bp.route("/<int:post_id>/hide", methods=["POST"])
@director
def hide(post_id: int):
    return _director_action(post_id, hidden=True)


@bp.route("/<int:post_id>/restore", methods=["POST"])
@director
def restore(post_id: int):
    return _director_action(post_id, hidden=False)


@bp.route("/<int:post_id>/offer", methods=["POST"])
@signed_in
def offer(post_id: int):
    """Answer "Share this on the wall?" in place: post with the person's words, or skip. Without JavaScript a
    303 back to where it was offered (a path on this site only)."""
    form = OfferForm()
    share = request.form.get("choice") == "share"
    back = safe_next(request.form.get("next"), url_for("celebrations.mine"))
    with errors_onto(form) as outcome:
        post = answer_offer(current_user, post_id, share=share, text=form.text.data or "", now=utcnow())
    if not outcome.ok:
        return render("celebrations/offer.html", "celebrations/_offer.html", offer=offer_for(current_user, post_id),
                      offer_form=form, back=back, status=422)  # fmt: skip
    message = (
        "It is on the wall. Thank you for sharing your progress."
        if share
        else "Kept to yourself. Nobody else will see it, and nobody is told."
    )
    if is_fragment():
        return render_template("celebrations/_offer_answered.html", post=post, shared=share) + str(
            status_message(message)
        )
    flash(message, "success")
    return redirect(back, code=303)
