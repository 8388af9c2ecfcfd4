"""The request edge: domain errors answered app-wide, and one commit (or roll back) per request."""

from __future__ import annotations

import pytest
from flask import make_response

from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.models import User
from portal.web import errors_onto
from tests.factories import make_user


def answer(app, error, headers=None):
    with app.test_request_context("/somewhere", headers=headers or {}):
        return app.make_response(app.handle_user_exception(error))


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [(NotFound(), 404, "Page not found"), (NotAllowed("Only the mentee sets goals."), 403, "Only the mentee"),
     (Conflict("Already ended."), 409, "Already ended.")],
)  # fmt: skip
def test_a_domain_error_is_the_usual_page_with_its_status(app, error, status, text):
    response = answer(app, error)
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert text in body and "<html" in body


def test_during_htmx_a_domain_error_is_a_status_message_and_nothing_else_swaps(app):
    response = answer(app, Conflict("Already ended."), headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert response.headers["HX-Reswap"] == "none"
    body = response.get_data(as_text=True)
    assert 'hx-swap-oob="innerHTML:#status"' in body and "Already ended." in body
    assert "<html" not in body


def test_a_failed_request_changes_nothing_and_a_successful_one_keeps_its_change(app):
    user = make_user(display_name="Ana")
    with app.test_request_context("/somewhere", method="POST"):
        user.display_name = "Changed"
        app.process_response(make_response("no", 409))
    db.session.expire_all()
    assert db.session.get(User, user.id).display_name == "Ana"
    with app.test_request_context("/somewhere", method="POST"):
        db.session.get(User, user.id).display_name = "Kept"
        app.process_response(make_response("yes", 303))
    db.session.expire_all()
    assert db.session.get(User, user.id).display_name == "Kept"


def test_errors_onto_puts_messages_on_fields_and_keeps_the_rest():
    class Field:
        def __init__(self):
            self.errors = []

    form = {"title": Field()}
    with errors_onto(form) as outcome:
        raise ValidationFailed({"title": "Please give the goal a title.", "skills": "Pick one to three."})
    assert not outcome.ok
    assert form["title"].errors == ["Please give the goal a title."]
    assert outcome.extra == {"skills": "Pick one to three."}
