"""Rendered fragments (a goal card, a wall post) kept per process, keyed by the row's version and by the viewer.

A template wraps one row in ``{% cache FRAGMENT_SECONDS, fragment_key("goal", stamp) %}...{% endcache %}``
(Flask-Caching's Jinja extension over a per-process SimpleCache). The key names what the row shows (its version)
and who looks: their id, their time zone and their session's CSRF token, which the fragment's forms carry. So a
person is never served someone else's fragment, a changed row gets a new key at once, and what no key captures
(a renamed person, say) is at most ``FRAGMENT_SECONDS`` old.

Compressed responses are kept too (``BodyCachedCompress``), keyed by a digest of the exact body: the same bytes
compress to the same bytes, so a page that has not changed is not compressed again, and nobody can be sent
another body than the one their own request rendered.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import OrderedDict

from flask import Flask, Response, current_app, g, session
from flask_caching import Cache
from flask_compress import Compress
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

FRAGMENT_SECONDS = 600
# A signed CSRF token is reused for this long (it stays valid for WTF_CSRF_TIME_LIMIT, an hour, after signing), so
# that a page rendered twice within it is the same bytes and is not signed or compressed again.
CSRF_REUSE_SECONDS = 60


class FragmentCache(Cache):
    """Flask-Caching's cache; clearing it also forgets what ``per_process`` keeps."""

    def clear(self):
        for memo in _memos:
            memo.clear()
        return super().clear()


cache = FragmentCache(with_jinja2_ext=True)
_memos: list[dict] = []


def per_process(seconds: int):
    """Keep a function's result per process for ``seconds``, by its (hashable) arguments.

    For lists every page shows the same to everyone (filter choices, labels). Flask-Caching's memoize did the same
    at a cost of about a tenth of a millisecond per call (it inspects the signature and pickles the value).
    """

    def decorate(function):
        kept: dict = {}
        _memos.append(kept)

        @functools.wraps(function)
        def wrapper(*args):
            now = time.monotonic()
            found = kept.get(args)
            if found is None or found[0] <= now:
                found = kept[args] = (now + seconds, function(*args))
            return found[1]

        wrapper.forget = kept.clear
        return wrapper

    return decorate


def reuse_signed_csrf_token() -> None:
    """Before a request: the session's CSRF token as signed at most CSRF_REUSE_SECONDS ago, if there is one."""
    raw = session.get("csrf_token")
    found = _signed_tokens.get((current_app.secret_key, raw)) if raw else None
    if found is not None and found[0] > time.monotonic():
        g.csrf_token = found[1]


def remember_signed_csrf_token(response: Response) -> Response:
    """After a request that signed the session's CSRF token afresh: keep the signature for the next requests."""
    raw, signed = session.get("csrf_token"), g.get("csrf_token")
    key = (current_app.secret_key, raw)
    if raw and signed and _signed_tokens.get(key, (0, None))[1] != signed:
        if len(_signed_tokens) > 10_000:  # one per recent session; forget them all rather than grow
            _signed_tokens.clear()
        _signed_tokens[key] = (time.monotonic() + CSRF_REUSE_SECONDS, signed)
    return response


_signed_tokens: dict[tuple, tuple[float, str]] = {}


def fragment_key(kind: str, *version) -> str:
    """The cache key of one row's fragment as the current person sees it."""
    if "fragment_viewer" not in g:
        generate_csrf()  # makes sure the session holds its token before the key names it
        person = (current_user.id, current_user.timezone) if current_user.is_authenticated else (None, None)
        g.fragment_viewer = (*person, session.get("csrf_token"))
    return repr((kind, *version, *g.fragment_viewer))


class BoundedCache:
    """A small least-recently-used map shared by a process's threads (``get`` and ``set``, as Flask-Compress asks)."""

    def __init__(self, size: int = 256):
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class BodyCachedCompress(Compress):
    """Flask-Compress, with each compressed body kept by the digest of the body it was made from.

    Brotli costs about as much as rendering a page; hashing it costs a few per cent of that.
    """

    def after_request(self, response: Response | None) -> Response:
        g.compress_response = response
        return super().after_request(response)


def body_key(request) -> str:
    """The compressed-body cache key of the response being compressed: a digest of its bytes and its length."""
    data = g.compress_response.get_data()
    return f"{len(data)}:{hashlib.blake2b(data, digest_size=20).hexdigest()}"


def init_app(app: Flask) -> None:
    app.config.setdefault("CACHE_TYPE", "SimpleCache")
    app.config.setdefault("CACHE_THRESHOLD", 5000)
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", FRAGMENT_SECONDS)
    cache.init_app(app)
    app.before_request(reuse_signed_csrf_token)
    app.after_request(remember_signed_csrf_token)
    app.add_template_global(fragment_key)
    app.add_template_global(FRAGMENT_SECONDS, "FRAGMENT_SECONDS")
