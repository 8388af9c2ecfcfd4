"""The mentorship portal: create_app builds the Flask application."""

from __future__ import annotations

import gc
import os

from flask import Flask, Response, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import (
    assets,
    database,  # noqa: F401  (registers the SQLite engine events)
    fragments,
    stamps,
)
from portal.config import from_environment
from portal.extensions import csrf, db, htmx, limiter, login_manager, migrate

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def create_app(config: dict | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, error pages and headers.

    ``config`` overrides what the environment says (tests use it).
    """
    app = Flask(__name__, instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or None)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
    _refuse_per_process_limits(app)
    if app.config["PROXY_FIX"]:
        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    # First, so that compression runs after every other after-request function.
    assets.init_app(app)
    fragments.init_app(app)
    stamps.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "migrations")))
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)

    from portal.edge import register_edge_checks
    from portal.nudges.roster import MAX_BYTES

    # Before the blueprints: their <int:...> parameters use the bounded converter it installs.
    register_edge_checks(app, larger_bodies={"nudges.roster": MAX_BYTES + 64 * 1024})
    _register_blueprints(app)
    _register_login(app)
    _register_errors(app)
    _register_headers(app)
    _register_template_helpers(app)
    _register_mail(app)

    from portal.cli import register_cli

    register_cli(app)
    return app


def settle_heap() -> None:
    """Set aside everything alive now (the application, its imports and templates) from the garbage collector.

    Call once a serving process has started. Python's full collections walk every object that lived long
    enough; a page that builds thousands of rows (the director's board) makes one every few requests, and with
    the start-up heap in it each took a hundred milliseconds. Frozen objects are never walked again (and, in a
    forked worker, their memory pages stay shared).
    """
    gc.collect()
    gc.freeze()


def _refuse_per_process_limits(app: Flask) -> None:
    """Refuse to start in production with rate limits counted per process (memory://).

    With several gunicorn workers each would count sign-in attempts on its own, multiplying every limit.
    """
    storage = app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    if (
        app.config["PORTAL_ENV"] == "production"
        and storage.startswith("memory://")
        and not app.config["SINGLE_PROCESS"]
    ):
        raise RuntimeError(
            "RATELIMIT_STORAGE_URI is memory://, which counts rate limits in each worker separately. "
            "Set RATELIMIT_STORAGE_URI=redis://host:6379/0 (shared by every worker), or PORTAL_SINGLE_PROCESS=1 "
            "when exactly one process serves."
        )


def _register_blueprints(app: Flask) -> None:
    from portal.accounts import bp as accounts_bp
    from portal.celebrations import bp as celebrations_bp
    from portal.goals import bp as goals_bp
    from portal.journals import bp as journals_bp
    from portal.main import bp as main_bp
    from portal.matches import bp as matches_bp
    from portal.notifications import bp as notifications_bp
    from portal.nudges import bp as nudges_bp
    from portal.onboarding import bp as onboarding_bp
    from portal.profiles import bp as profiles_bp
    from portal.programs import bp as programs_bp
    from portal.reports import bp as reports_bp
    from portal.support import bp as support_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(onboarding_bp)
    app.register_blueprint(profiles_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(programs_bp)
    app.register_blueprint(matches_bp)
    app.register_blueprint(nudges_bp)
    app.register_blueprint(goals_bp)
    app.register_blueprint(journals_bp)
    app.register_blueprint(celebrations_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(reports_bp)


def _register_login(app: Flask) -> None:
    from portal.database import READ_ONLY_METHODS
    from portal.models import User
    from portal.notifications.services import user_with_unread_count

    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        # The id carries the session epoch: signing out everywhere bumps it and old cookies stop working.
        try:
            raw_id, raw_epoch = user_id.split(":")
            if request.method in READ_ONLY_METHODS:
                # A page: its navigation's unread count comes in the same query (one round trip, not two).
                user = user_with_unread_count(int(raw_id))
            else:
                user = db.session.get(User, int(raw_id))
        except ValueError:
            return None
        if user is None or user.session_epoch != int(raw_epoch):
            return None
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import flash, redirect

        target = url_for("accounts.sign_in", next=request.full_path.rstrip("?"))
        if htmx:
            # A 302 would be followed by the XHR and the sign-in page swapped into a fragment.
            return Response(status=401, headers={"HX-Redirect": target})
        flash(login_manager.login_message, "info")
        return redirect(target, code=303)


def _register_errors(app: Flask) -> None:
    from portal.web import error_response, register_edge

    register_edge(app)

    def page(status: int, title: str, message: str):
        return error_response(status, title, message)

    @app.errorhandler(400)
    def bad_request(error):
        return page(400, "Something was missing", "The request could not be understood. Please try again.")

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return page(
            400,
            "This form has expired",
            "For your safety the form could not be sent. Please go back, reload the page and try again; "
            "nothing has been changed.",
        )

    @app.errorhandler(403)
    def forbidden(error):
        return page(403, "Not available to you", "This page is for someone else's role.")

    @app.errorhandler(404)
    def not_found(error):
        return page(404, "Page not found", "There is nothing here. It may have moved, or never existed.")

    @app.errorhandler(429)
    def too_many(error):
        if request.endpoint == "accounts.sign_in":
            from portal.accounts.routes import sign_in_too_often

            return sign_in_too_often()
        return page(
            429,
            "Let's pause for a moment",
            "That was a lot of requests in a short time. Please wait a few minutes and try again.",
        )

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return page(500, "Something went wrong on our side", "Nothing you did caused this. Please try again.")


def _register_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        # The same URL answers with a page or a fragment depending on this header.
        response.vary.add("HX-Request")
        if current_user.is_authenticated and not request.path.startswith("/static/"):
            # Personal pages must not be stored by shared caches or the back-forward cache.
            response.headers["Cache-Control"] = "no-store"
        return response


def _register_mail(app: Flask) -> None:
    from portal.queue import register_queue

    # Mail queued by a request (and any other job) is enqueued once the request's transaction commits.
    register_queue(app)


def _register_template_helpers(app: Flask) -> None:
    from portal.dates import register_filters
    from portal.notifications.services import unread_count

    register_filters(app)

    @app.template_filter("error_pairs")
    def error_pairs(form) -> list[tuple[str, str]]:
        """(field id, first error) for each invalid field of a WTForms form, for the error summary."""
        return [(field.id, field.errors[0]) for field in form if field.errors]

    @app.context_processor
    def nav_context():
        count = unread_count(current_user) if current_user.is_authenticated else 0
        return {"unread_notifications": count}
