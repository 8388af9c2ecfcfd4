"""Sessions that really end: sign-out, on every device, after a password change or a working day idle; sign-in
limits that an attacker cannot turn against the owner; and no start in production with per-worker limits."""

from __future__ import annotations

import time

import pytest

from portal import create_app
from tests.conftest import limiter_kept, post
from tests.factories import PASSWORD, make_user


def signed_in_client(app, user, address: str = "127.0.0.1"):
    """A new client signed in through the form, from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    response = post(client, "/accounts/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 303
    return client


def copy_of(app, client):
    """Another client holding a copy of ``client``'s session cookie, as a thief would."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def is_signed_in(client) -> bool:
    return client.get("/profiles/me").status_code == 200


def test_a_copied_cookie_stops_working_after_sign_out(app):
    user = make_user()
    client = signed_in_client(app, user)
    thief = copy_of(app, client)
    assert is_signed_in(thief)
    assert post(client, "/accounts/sign-out").status_code == 303
    assert not is_signed_in(client)
    assert not is_signed_in(thief)


def test_sign_out_everywhere_on_the_profile_ends_every_session(app):
    user = make_user()
    laptop, phone = signed_in_client(app, user), signed_in_client(app, user)
    page = laptop.get("/profiles/me").get_data(as_text=True)
    assert "Sign out on every device" in page
    response = post(laptop, "/accounts/sign-out-everywhere")
    assert response.status_code == 303 and "/accounts/sign-in" in response.headers["Location"]
    assert not is_signed_in(laptop) and not is_signed_in(phone)
    assert is_signed_in(signed_in_client(app, user))  # signing in again works as before


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app):
    user = make_user()
    laptop, phone = signed_in_client(app, user), signed_in_client(app, user)
    new = "a long new sentence for a password"
    wrong = post(laptop, "/accounts/password", {"current_password": "not it", "new_password": new})
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    assert is_signed_in(phone)
    response = post(laptop, "/accounts/password", {"current_password": PASSWORD, "new_password": new})
    assert response.status_code == 303
    assert is_signed_in(laptop) and not is_signed_in(phone)
    from portal.accounts.services import authenticate

    assert authenticate(email=user.email, password=new) is not None


def test_a_session_ends_after_its_idle_lifetime(app, monkeypatch):
    from datetime import timedelta

    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)  # a working day, configurable
    client = signed_in_client(app, make_user())
    monkeypatch.setattr(app, "permanent_session_lifetime", timedelta(seconds=1))
    assert is_signed_in(client)  # each request re-signs the cookie: activity keeps it alive
    time.sleep(2.2)
    assert not is_signed_in(client)


def test_failed_sign_ins_from_elsewhere_do_not_lock_the_owner_out(app):
    user = make_user()
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    limit = int(app.config["LOGIN_LIMITS_PER_ACCOUNT"].split()[0])
    for _ in range(limit):
        assert post(attacker, "/accounts/sign-in", {"email": user.email, "password": "wrong guess"}).status_code == 422
    refused = post(attacker, "/accounts/sign-in", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 429
    signed_in_client(app, user, address="198.51.100.7")  # the owner, from their usual address


def test_production_refuses_per_worker_rate_limits(app):
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        create_app({"PORTAL_ENV": "production", "RATELIMIT_STORAGE_URI": "memory://", "SECRET_KEY": "x"})
    # One process, said so explicitly: allowed.
    with limiter_kept():
        create_app(
            {"PORTAL_ENV": "production", "RATELIMIT_STORAGE_URI": "memory://", "SECRET_KEY": "x",
             "SINGLE_PROCESS": True}
        )  # fmt: skip
