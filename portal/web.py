"""The request edge: page or fragment, form errors, status messages, and one commit per request.

Routes parse the request, call a service and hand the result to ``render`` or a redirect; the transaction is
committed here once the response is a success (below 400) and rolled back otherwise, so routes never call
``commit`` or ``rollback`` themselves.
"""

from __future__ import annotations

from flask import Flask, Response, make_response, render_template
from markupsafe import Markup

from portal.errors import DomainError, ValidationFailed
from portal.extensions import db, htmx


def is_fragment() -> bool:
    """True when htmx asked for a part of the page (not a boosted link or form, which wants the whole page)."""
    return bool(htmx) and not htmx.boosted


def render(page: str, partial: str | None = None, *, status: int = 200, **context) -> tuple[str, int]:
    """Render ``partial`` for an htmx request when one is given, else the whole ``page``."""
    template = partial if partial and is_fragment() else page
    return render_template(template, **context), status


def status_message(message: str, kind: str = "success") -> Markup:
    """The message for the persistent status region, as an out-of-band swap to append to a fragment."""
    # Safe: the template is rendered with autoescaping on.
    return Markup(render_template("_status.html", message=message, kind=kind))  # noqa: S704


class errors_onto:
    """Run a service call; a ``ValidationFailed`` it raises lands on the form instead of propagating.

    ``with errors_onto(form) as outcome: service(...)``; afterwards ``outcome.ok`` says whether it worked,
    field errors are on ``form[name].errors`` and errors without a field in ``outcome.extra``. The session is
    rolled back on failure so nothing half-done is flushed later.
    """

    def __init__(self, form=None):
        self.form = form
        self.ok = True
        self.extra: dict[str, str] = {}

    def __enter__(self) -> errors_onto:
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if error is None or not isinstance(error, ValidationFailed):
            return False
        db.session.rollback()
        self.ok = False
        for name, message in error.errors.items():
            if self.form is not None and name in self.form:
                self.form[name].errors = [message]
            else:
                self.extra[name] = message
        return True


def error_response(status: int, title: str, message: str) -> Response:
    """The error page, or during an htmx request the message in the status region with nothing else swapped."""
    if htmx:
        response = make_response(status_message(message, kind="error"), status)
        response.headers["HX-Reswap"] = "none"
        return response
    return make_response(render_template("errors/error.html", title=title, message=message), status)


def register_edge(app: Flask) -> None:
    """Answer domain errors app-wide and commit (or roll back) once per request."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return error_response(error.status, error.title, error.message)

    @app.after_request
    def commit_at_the_edge(response: Response) -> Response:
        if response.status_code >= 400:
            db.session.rollback()
        else:
            db.session.commit()
        return response
