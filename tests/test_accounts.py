"""Registering, signing in and out, passwords, rate limits, roles and security headers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.accounts.services import authenticate
from portal.extensions import db
from portal.models import Notification, OutboxEmail, Role, User
from portal.passwords import password_problem
from tests.conftest import csrf_token, login_as, post
from tests.factories import PASSWORD, make_user

GOOD = {
    "display_name": "Priya Natarajan",
    "email": "Priya.N@Example.com",
    "team": "Finance",
    "password": "tea and a long walk at dusk",
}


def register(client, **overrides):
    return post(client, "/accounts/register", {**GOOD, **overrides})


def test_registering_creates_a_participant_with_an_argon2id_hash_and_signs_them_in(client):
    response = register(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/onboarding/"
    user = db.session.scalar(select(User).where(User.email == "priya.n@example.com"))
    assert user.role == Role.PARTICIPANT
    assert user.team.name == "Finance"
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD["password"] not in user.password_hash
    assert "Hello, Priya Natarajan" in client.get("/").get_data(as_text=True)


def test_registering_welcomes_in_the_portal_and_by_email(client):
    register(client)
    user = db.session.scalar(select(User).where(User.email == "priya.n@example.com"))
    notes = db.session.scalars(select(Notification).where(Notification.user_id == user.id)).all()
    assert len(notes) == 1 and "questionnaire" in notes[0].message
    mail = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == user.email)).all()
    assert len(mail) == 1 and "Welcome" in mail[0].subject


def test_a_new_team_name_joins_an_existing_team_whatever_its_case(client):
    make_user(team="Data")
    register(client, team="  data ")
    user = db.session.scalar(select(User).where(User.email == "priya.n@example.com"))
    assert user.team.name == "Data"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short one", "at least 12 characters"),
        ("password1234", "common passwords"),
        ("qwertyuiop123", "common passwords"),
        ("aaaaaaaaaaaaaaaa", "common passwords"),
    ],
)
def test_a_weak_password_is_refused_at_the_field_and_the_rest_is_kept(client, password, message):
    response = register(client, password=password)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    # The message sits next to the password field, tied to it for screen readers.
    assert re.search(r'id="password-error"[^>]*>.*' + re.escape(message), page, re.S)
    assert 'aria-describedby="password-help password-error"' in page
    assert 'aria-invalid="true"' in page
    assert 'value="Priya Natarajan"' in page
    assert 'value="Priya.N@Example.com"' in page
    assert 'value="Finance"' in page
    assert db.session.scalar(select(User).where(User.email == "priya.n@example.com")) is None


def test_pasted_long_passwords_without_composition_rules_are_welcome():
    assert password_problem("all lower case words are fine") is None
    assert password_problem("plum-kite-42") is None  # exactly 12 characters
    assert password_problem("z" * 257) is not None


def test_an_email_already_registered_is_refused_at_the_email_field(client):
    make_user(email="priya.n@example.com")
    response = register(client)
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)


def test_missing_and_malformed_fields_each_get_a_message(client):
    response = register(client, display_name="", email="not-an-email", team="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please tell us your name." in page
    assert "does not look like an email address" in page
    assert "Please tell us your team." in page


def sign_in(client, email, password, next_url=None):
    url = "/accounts/sign-in" + (f"?next={next_url}" if next_url else "")
    return post(client, url, {"email": email, "password": password})


def test_signing_in_with_the_right_password_starts_a_fresh_session(client):
    user = make_user(email="asha@example.com")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    response = sign_in(client, "ASHA@example.com ", PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == user.get_id()


def test_a_wrong_email_and_a_wrong_password_get_the_same_message(client):
    make_user(email="asha@example.com")
    wrong_password = sign_in(client, "asha@example.com", "not the password at all")
    wrong_email = sign_in(client, "nobody@example.com", PASSWORD)
    assert wrong_password.status_code == wrong_email.status_code == 422

    def message(response):
        return re.search(r'<div class="error-summary".*?</div>', response.get_data(as_text=True), re.S).group(0)

    assert message(wrong_password) == message(wrong_email)
    assert "do not match an account" in message(wrong_email)
    assert 'value="asha@example.com"' in wrong_password.get_data(as_text=True)


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/profiles/me", "/profiles/me"),
        ("https://evil.example.com/", "/"),
        ("//evil.example.com/", "/"),
        ("/\\evil.example.com", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_sign_in_follows_next_only_within_the_portal(client, next_url, expected):
    make_user(email="asha@example.com")
    response = sign_in(client, "asha@example.com", PASSWORD, next_url=next_url)
    assert response.headers["Location"] == expected


def test_signing_out_ends_the_session(client):
    user = make_user()
    login_as(client, user)
    response = post(client, "/accounts/sign-out")
    assert response.status_code == 303
    assert client.get("/profiles/me").status_code == 303


def test_sign_in_is_rate_limited_per_account_with_a_kind_message(client, app):
    make_user(email="asha@example.com")
    limit = int(app.config["LOGIN_LIMITS_PER_ACCOUNT"].split()[0])
    for _ in range(limit):
        assert sign_in(client, "asha@example.com", "wrong guess number one").status_code == 422
    response = sign_in(client, "asha@example.com", PASSWORD)
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "pausing for a few minutes" in page
    assert 'value="asha@example.com"' in page
    # Another account from the same address is not blocked by this one's limit.
    make_user(email="ben@example.com")
    assert sign_in(client, "ben@example.com", PASSWORD).status_code == 303


def test_sign_in_is_rate_limited_per_address(client, app):
    limit = int(app.config["LOGIN_LIMITS_PER_ADDRESS"].split()[0])
    for number in range(limit):
        sign_in(client, f"guess{number}@example.com", "wrong guess number one")
    assert sign_in(client, "another@example.com", "wrong guess number one").status_code == 429


def test_successful_sign_ins_do_not_use_up_the_limit(client, app):
    make_user(email="asha@example.com")
    limit = int(app.config["LOGIN_LIMITS_PER_ACCOUNT"].split()[0])
    for _ in range(limit + 2):
        client.delete_cookie("session")
        assert sign_in(client, "asha@example.com", PASSWORD).status_code == 303


def test_make_director_grants_the_role(app):
    user = make_user(email="dana@example.com")
    result = app.test_cli_runner().invoke(args=["make-director", "DANA@example.com"])
    assert result.exit_code == 0, result.output
    assert "is now a program director" in result.output
    db.session.refresh(user)
    assert user.role == Role.DIRECTOR


def test_make_director_explains_an_unknown_email(app):
    result = app.test_cli_runner().invoke(args=["make-director", "ghost@example.com"])
    assert result.exit_code != 0
    assert "No account" in result.output


def test_authenticate_needs_both_right():
    make_user(email="asha@example.com")
    assert authenticate(email="asha@example.com", password=PASSWORD) is not None
    assert authenticate(email="asha@example.com", password=PASSWORD + "x") is None


def test_every_response_carries_the_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in response.headers["Vary"]
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get("/", base_url="https://portal.example.com")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_session_cookie_is_httponly_and_lax(client):
    response = client.get("/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_have_no_inline_script_or_style(client):
    user = make_user()
    login_as(client, user)
    for url in ["/", "/onboarding/step/values", "/onboarding/review", "/profiles/me", "/notifications/"]:
        page = client.get(url).get_data(as_text=True)
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None, url
        assert " style=" not in page and "<style" not in page, url


def test_csrf_token_is_offered_to_htmx_on_main(client):
    assert csrf_token(client)
