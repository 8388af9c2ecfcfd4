"""Register, sign in and sign out."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from portal.access import public, signed_in
from portal.accounts import bp
from portal.accounts.forms import PasswordForm, RegisterForm, SignInForm
from portal.accounts.services import authenticate, change_password, end_sessions, register_user
from portal.database import read_first
from portal.errors import ValidationFailed
from portal.extensions import db, limiter, posted_email
from portal.forms import EmptyForm
from portal.models import Team
from portal.urls import safe_next
from portal.web import errors_onto


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
        try:
            user = register_user(
                email=form.email.data,
                display_name=form.display_name.data,
                team_name=form.team.data,
                password=form.password.data,
            )
        except ValidationFailed as failure:
            for field, message in failure.errors.items():
                form[field].errors.append(message)
        else:
            db.session.commit()
            _start_session(user)
            flash("Your account is ready. Welcome.", "success")
            return redirect(url_for("onboarding.start"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/register.html", form=form, teams=_team_names()), status


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
