"""Rendered fragments (a goal card, a wall post) kept per process, keyed by the row's version and by the viewer.

A template wraps one row in ``{% cache FRAGMENT_SECONDS, fragment_key("goal", stamp) %}...{% endcache %}``
(Flask-Caching's Jinja extension over a per-process SimpleCache). The key names what the row shows (its version)
and who looks: their id, their time zone and their session's CSRF token, which the fragment's forms carry. So a
person is never served someone else's fragment, a changed row gets a new key at once, and what no key captures
(a renamed person, say) is at most ``FRAGMENT_SECONDS`` old.
"""

from __future__ import annotations

from flask import Flask, g, session
from flask_caching import Cache
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

FRAGMENT_SECONDS = 600
cache = Cache(with_jinja2_ext=True)


def fragment_key(kind: str, *version) -> str:
    """The cache key of one row's fragment as the current person sees it."""
    if "fragment_viewer" not in g:
        generate_csrf()  # makes sure the session holds its token before the key names it
        person = (current_user.id, current_user.timezone) if current_user.is_authenticated else (None, None)
        g.fragment_viewer = (*person, session.get("csrf_token"))
    return repr((kind, *version, *g.fragment_viewer))


def init_app(app: Flask) -> None:
    app.config.setdefault("CACHE_TYPE", "SimpleCache")
    app.config.setdefault("CACHE_THRESHOLD", 5000)
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", FRAGMENT_SECONDS)
    cache.init_app(app)
    app.add_template_global(fragment_key)
    app.add_template_global(FRAGMENT_SECONDS, "FRAGMENT_SECONDS")
