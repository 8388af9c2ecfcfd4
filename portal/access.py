"""One place that states who may use each route.

Every view carries an ``access_rule`` attribute (``public``, ``signed_in`` or ``director``); a test walks
the URL map and fails for any route without one.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def public(view):
    """Anyone, signed in or not."""
    view.access_rule = "public"
    return view


def signed_in(view):
    """Anyone signed in; others are sent to the sign-in page."""
    wrapped = login_required(view)
    wrapped.access_rule = "signed_in"
    return wrapped


def director(view):
    """The program director only: others signed in get 403, visitors go to sign in."""

    @wraps(view)
    def check(*args, **kwargs):
        if not current_user.is_director:
            abort(403)
        return view(*args, **kwargs)

    wrapped = login_required(check)
    wrapped.access_rule = "director"
    return wrapped


def director_unseen(view):
    """The program director only; to anyone else signed in the page does not exist (404).

    For pages about pairs that may be struggling: a participant learns nothing, not even that they exist.
    """

    @wraps(view)
    def check(*args, **kwargs):
        if not current_user.is_director:
            abort(404)
        return view(*args, **kwargs)

    wrapped = login_required(check)
    wrapped.access_rule = "director"
    wrapped.unseen = True
    return wrapped
