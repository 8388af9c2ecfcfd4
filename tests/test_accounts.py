"""Registering, signing in and out, passwords, rate limits, roles and security headers."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from portal.accounts.links import register_token
from portal.accounts.services import authenticate
from portal.extensions import db
from portal.models import Notification, OutboxEmail, PendingRegistration, Role, User
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


def emails_to(address: str) -> list[OutboxEmail]:
    return db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
    ).all()


def finish_link(address: str = "priya.n@example.com") -> str:
    """The path of the link in the newest email to ``address``."""
    match = re.search(r"https?://[^/\s]+(/accounts/register/finish/\S+)", emails_to(address)[-1].body)
    assert match, "no link to finish registering in the email"
    return match.group(1)


def register_and_finish(client, **overrides):
    """Register and follow the emailed link, as a person would; returns the final response."""
    register(client, **overrides)
    link = finish_link(overrides.get("email", GOOD["email"]).lower())
    assert client.get(link).status_code == 200
    return post(client, link)


def without_csrf(page: str) -> str:
    page = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", page)
    page = re.sub(r'value="[^"]*" name="csrf_token"', "", page)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", page)


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_registering_sends_a_link_and_creates_nothing_until_it_is_opened(client):
    response = register(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/accounts/register/sent"
    page = client.get("/accounts/register/sent").get_data(as_text=True)
    assert "Check your email" in page and "We sent a link to <strong>priya.n@example.com</strong>" in page
    assert db.session.scalar(select(User).where(User.email == "priya.n@example.com")) is None
    [mail] = emails_to("priya.n@example.com")
    assert mail.subject == "Finish creating your account"
    # The link carries ids only: never the password, nor its hash.
    assert GOOD["password"] not in mail.body and "argon2" not in mail.body
    pending = db.session.scalar(select(PendingRegistration))
    assert pending.password_hash.startswith("$argon2id$") and GOOD["password"] not in pending.password_hash
    assert authenticate(email=GOOD["email"], password=GOOD["password"]) is None


def test_the_emailed_link_creates_a_participant_with_an_argon2id_hash_and_signs_them_in(client):
    register(client)
    link = finish_link()
    page = client.get(link).get_data(as_text=True)
    assert "Finish creating your account" in page and "priya.n@example.com" in page
    assert user_count() == 0  # opening the link (as a mail scanner might) creates nothing
    response = post(client, link)
    assert response.status_code == 303
    assert response.headers["Location"] == "/onboarding/"
    user = db.session.scalar(select(User).where(User.email == "priya.n@example.com"))
    assert user.role == Role.PARTICIPANT
    assert user.team.name == "Finance"
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD["password"] not in user.password_hash
    assert "Hello, Priya Natarajan" in client.get("/").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PendingRegistration)) == 0
    assert authenticate(email=GOOD["email"], password=GOOD["password"]) is not None


def test_registering_welcomes_in_the_portal_and_by_email(client):
    register_and_finish(client)
    user = db.session.scalar(select(User).where(User.email == "priya.n@example.com"))
    notes = db.session.scalars(select(Notification).where(Notification.user_id == user.id)).all()
    assert len(notes) == 1 and "questionnaire" in notes[0].message
    mail = emails_to(user.email)
    assert [m.subject for m in mail] == ["Finish creating your account", "Welcome to the mentorship program"]


def test_the_link_creates_the_account_once_and_a_second_use_is_refused_kindly(client, app):
    register(client)
    link = finish_link()
    assert post(client, link).status_code == 303
    other = app.test_client()
    for response in (other.get(link), post(other, link)):
        assert response.status_code == 410
        page = response.get_data(as_text=True)
        assert "This link has been used already" in page and "You can sign in" in page
        assert 'href="/accounts/sign-in"' in page
    assert user_count() == 1
    assert "Hello, Priya Natarajan" not in other.get("/").get_data(as_text=True)


@pytest.mark.parametrize("kind", ["expired", "tampered", "cut short", "another salt"])
def test_an_expired_or_tampered_link_gets_a_clear_page_and_changes_nothing(client, app, monkeypatch, kind):
    from itsdangerous import URLSafeTimedSerializer

    register(client)
    link = finish_link()
    token = link.rsplit("/", 1)[1]
    if kind == "expired":
        pending = db.session.scalar(select(PendingRegistration))
        real = time.time()
        with monkeypatch.context() as patch:
            patch.setattr(time, "time", lambda: real - 3 * 24 * 3600)
            token = register_token(pending.id, pending.nonce)
    elif kind == "tampered":
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    elif kind == "cut short":
        token = token[:20]
    else:
        pending = db.session.scalar(select(PendingRegistration))
        token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="portal.nudges.claim").dumps(
            {"pending": pending.id, "nonce": pending.nonce}
        )
    for response in (
        client.get(f"/accounts/register/finish/{token}"),
        post(client, f"/accounts/register/finish/{token}"),
    ):
        page = response.get_data(as_text=True)
        if kind == "expired":
            assert response.status_code == 410
            assert "This link has expired" in page and "Nothing was created" in page
        else:
            assert response.status_code == 404
            assert "This link does not work" in page and "Nothing was created" in page
        assert 'href="/accounts/register"' in page
    assert user_count() == 0
    assert db.session.scalar(select(func.count()).select_from(PendingRegistration)) == 1


def test_an_existing_address_gets_the_same_answer_as_a_new_one(app):
    make_user(email="taken@example.com", display_name="Asha Rao")
    answers = []
    for email in ("Taken@Example.com", "free@example.com"):
        client = app.test_client()
        response = register(client, email=email, display_name="Sam Lee")
        page = client.get(response.headers["Location"])
        answers.append(
            (response.status_code, response.headers["Location"], page.status_code, page.get_data(as_text=True))
        )
    (taken_status, taken_to, taken_page_status, taken_page), (free_status, free_to, free_page_status, free_page) = (
        answers
    )
    assert (
        (taken_status, taken_to, taken_page_status)
        == (free_status, free_to, free_page_status)
        == (
            303,
            "/accounts/register/sent",
            200,
        )
    )
    assert "already" not in taken_page
    assert without_csrf(taken_page).replace("taken@example.com", "ADDRESS") == without_csrf(free_page).replace(
        "free@example.com", "ADDRESS"
    )


def test_the_owner_of_an_existing_address_is_told_someone_tried_and_nothing_changes(client):
    owner = make_user(email="priya.n@example.com", display_name="Priya Natarajan")
    old_hash = owner.password_hash
    register(client, display_name="Someone Else", team="Elsewhere")
    [mail] = emails_to("priya.n@example.com")
    assert mail.subject == "Someone tried to create an account with your email"
    assert "Hello Priya Natarajan" in mail.body
    assert "nothing was created and nothing about your account has changed" in mail.body
    assert "/accounts/sign-in" in mail.body and "/accounts/register/finish/" not in mail.body
    db.session.refresh(owner)
    assert owner.password_hash == old_hash and owner.display_name == "Priya Natarajan"
    assert user_count() == 1
    assert db.session.scalar(select(func.count()).select_from(PendingRegistration)) == 0
    assert authenticate(email=GOOD["email"], password=PASSWORD) is not None


def test_both_answers_hash_the_password(client, monkeypatch):
    import portal.accounts.services as services

    hashed = []
    real = services.hash_password
    monkeypatch.setattr(services, "hash_password", lambda password: hashed.append(password) or real(password))
    make_user(email="taken@example.com")
    register(client, email="taken@example.com")
    register(client, email="free@example.com")
    assert hashed == [GOOD["password"], GOOD["password"]]


@pytest.mark.parametrize("email", ["priya.n@example.com", "free@example.com"])
def test_a_double_submit_answers_as_if_once(app, email):
    if email == "priya.n@example.com":
        make_user(email=email)
    client = app.test_client()
    first = register(client, email=email)
    first_page = client.get("/accounts/register/sent").get_data(as_text=True)
    second = register(client, email=email)
    second_page = client.get("/accounts/register/sent").get_data(as_text=True)
    assert (first.status_code, first.headers["Location"]) == (second.status_code, second.headers["Location"])
    assert without_csrf(first_page) == without_csrf(second_page)
    assert len(emails_to(email)) == 1
    assert db.session.scalar(select(func.count()).select_from(PendingRegistration)) == (email != "priya.n@example.com")


def test_registering_again_keeps_the_first_link_working_with_the_latest_details(client):
    register(client, team="Finance")
    link = finish_link()
    register(client, team="Design")
    assert finish_link() == link  # one email: the second form sent none
    post(client, link)
    user = db.session.scalar(select(User).where(User.email == "priya.n@example.com"))
    assert user.team.name == "Design"


def test_a_new_team_name_joins_an_existing_team_whatever_its_case(client):
    make_user(team="Data")
    register_and_finish(client, team="  data ")
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
