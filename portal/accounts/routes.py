"""Register, sign in and sign out."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from portal.access import public, signed_in
from portal.accounts import bp
from portal.accounts.forms import PasswordForm, RegisterForm, SignInForm
from portal.accounts.links import LinkExpired, LinkInvalid, read_register_token
from portal.accounts.services import (
    RegistrationUsed,
    authenticate,
    change_password,
    end_sessions,
    finish_registration,
    pending_registration,
    request_registration,
)
from portal.database import read_first
from portal.extensions import db, limiter, posted_email
from portal.forms import EmptyForm
from portal.models import Team
from portal.urls import safe_next
from portal.web import errors_onto, render


def _team_names() -> list[str]:
    return list(db.session.scalars(select(Team.name).order_by(Team.name)))


def _start_session(user) -> None:
    # A fresh session on sign-in: nothing from before (a planted session id or stale data) carries over.
    session.clear()
    login_user(user)
    session.permanent = True


@bp.route("/register", methods=["GET", "POST"])
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"), code=303)
    form = RegisterForm()
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            # The same answer whether or not the address has an account: the email says which it is.
            email = request_registration(
                email=form.email.data,
                display_name=form.display_name.data,
                team_name=form.team.data,
                password=form.password.data,
            )
        if outcome.ok:
            session["registered_email"] = email
            return redirect(url_for("accounts.check_email"), code=303)
    status = 422 if form.is_submitted() else 200
    return render("accounts/register.html", status=status, form=form, teams=_team_names())


@bp.route("/register/sent")
@public
def check_email():
    return render("accounts/check_email.html", email=session.get("registered_email"))


@bp.route("/register/finish/<token>", methods=["GET", "POST"])
@public
def finish_registration_page(token: str):
    try:
        pending_id, nonce = read_register_token(token)
    except LinkExpired:
        return _link_problem(
            410,
            "This link has expired",
            "Links to finish an account work for two days. Nothing was created. You can register again, "
            "and we will send a fresh link.",
        )
    except LinkInvalid:
        return _link_problem(
            404,
            "This link does not work",
            "It may have been cut short when it was copied. Nothing was created. Please open the link from "
            "the email again, or register again for a fresh one.",
        )
    form = EmptyForm()
    try:
        if form.validate_on_submit():
            user = finish_registration(pending_id=pending_id, nonce=nonce)
            _start_session(user)
            flash("Your account is ready. Welcome.", "success")
            return redirect(url_for("onboarding.start"), code=303)
        pending = pending_registration(pending_id=pending_id, nonce=nonce)
    except RegistrationUsed:
        return _link_problem(
            410,
            "This link has been used already",
            "The account for this link is ready, so there is nothing more to do here. You can sign in.",
            sign_in=True,
        )
    return render("accounts/finish.html", form=form, pending=pending)


def _link_problem(status: int, title: str, message: str, *, sign_in: bool = False):
    return render("accounts/link_problem.html", status=status, title=title, message=message, sign_in=sign_in)


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMITS_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 303,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMITS_PER_ACCOUNT"],
    key_func=posted_email,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 303,
)
def sign_in():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("main.home")), code=303)
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        read_first()
        user = authenticate(email=form.email.data, password=form.password.data)
        if user is not None:
            # Committed before the session starts so that a rehashed password is kept even if the redirect
            # below fails; the edge would commit it too.
            db.session.commit()
            _start_session(user)
            return redirect(safe_next(request.args.get("next"), url_for("main.home")), code=303)
        # One message for a wrong email and a wrong password, so the form does not reveal who has an account.
        error = "That email and password do not match an account. Please check both and try again."
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/sign_in.html", form=form, error=error), status


def sign_in_too_often():
    """The sign-in form again, email kept, with a kind word that there were too many attempts (429)."""
    form = SignInForm()
    form.password.data = ""
    error = (
        "There have been several sign-in attempts in a short time, so we are pausing for a few minutes "
        "to keep the account safe. Please try again a little later."
    )
    return render_template("accounts/sign_in.html", form=form, error=error), 429


@bp.route("/sign-out", methods=["POST"])
@signed_in
def sign_out():
    if EmptyForm().validate_on_submit():
        # Server-side: the session epoch moves on, so a copied cookie stops working too (on every device).
        end_sessions(current_user)
        logout_user()
        session.clear()
        flash("You are signed out. Your answers are saved for next time.", "info")
    return redirect(url_for("main.home"), code=303)


@bp.route("/sign-out-everywhere", methods=["POST"])
@signed_in
def sign_out_everywhere():
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("profiles.me"), code=303)
    end_sessions(current_user)
    logout_user()
    session.clear()
    flash("You are signed out on every device. Your answers are saved for next time.", "info")
    return redirect(url_for("accounts.sign_in"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            change_password(current_user, current=form.current_password.data, new=form.new_password.data)
        if outcome.ok:
            user = current_user._get_current_object()
            # This session carries on with the new epoch; every other one has ended.
            _start_session(user)
            flash("Your password is changed. You are signed out on your other devices.", "success")
            return redirect(url_for("profiles.me"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/password.html", form=form), status
