"""Settings read from the environment. No secret is ever a constant in the code."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _secret_key(instance_path: str) -> str:
    """Return SECRET_KEY from the environment, or a key generated once and kept in the instance folder.

    The file fallback keeps development sessions valid across restarts without a constant in the code;
    production sets SECRET_KEY (see README).
    """
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two workers starting at once must agree on a single key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: str) -> dict:
    """Build the configuration mapping for create_app from environment variables."""
    production = os.environ.get("PORTAL_ENV", "development") == "production"
    database_url = os.environ.get("DATABASE_URL") or ("sqlite:///" + str(Path(instance_path) / "portal.sqlite3"))
    # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3 spelled out.
    if database_url.startswith(("postgres://", "postgresql://")):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return {
        "PORTAL_ENV": "production" if production else "development",
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # No ping per checkout (a round trip per request on PostgreSQL): portal.database pings idle connections only.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Where every process keeps the report's counted figures (portal.stamps): Redis, else files in the
        # instance folder.
        "KEPT_STORE_URL": os.environ.get("KEPT_STORE_URL") or os.environ.get("REDIS_URL", ""),
        "RATELIMIT_HEADERS_ENABLED": True,
        # A moving window counts the attempts of the last ten minutes whenever they began; a fixed window starts
        # afresh at every tenth minute of the clock, so a guesser could spend two windows' worth across one
        # boundary (and a slow test would see its count vanish there).
        "RATELIMIT_STRATEGY": "moving-window",
        # Its own key names: a moving window keeps a list where a fixed one kept a counter, and meeting a counter
        # left by an earlier release would fail until it expired.
        "RATELIMIT_KEY_PREFIX": "moving",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "WTF_CSRF_TIME_LIMIT": None,
        # A session ends after this much idle time (the cookie is re-signed on every request, and Flask refuses
        # a signature older than this): a working day by default.
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=float(os.environ.get("SESSION_IDLE_HOURS", "8"))),
        # Set to 1 only when exactly one process serves: then the memory:// rate-limit storage is allowed in
        # production (every worker would otherwise count sign-in attempts on its own).
        "SINGLE_PROCESS": _bool("PORTAL_SINGLE_PROCESS"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "Mentorship program <mentoring@example.com>"),
        # The program's name, at the top and bottom of every email.
        "PROGRAM_NAME": os.environ.get("PORTAL_PROGRAM_NAME", "Mentorship program"),
        # The organisation's time zone: everyone's until they choose their own.
        "DEFAULT_TIMEZONE": os.environ.get("PORTAL_DEFAULT_TIMEZONE", "Europe/London"),
        "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "PROXY_FIX": int(os.environ.get("PROXY_FIX", "0")),
        # Failed sign-ins: tight for one account from one address, looser for one address over all accounts,
        # so nobody can lock the owner out from the owner's usual address by failing from elsewhere.
        "LOGIN_LIMITS_PER_ADDRESS": os.environ.get("LOGIN_LIMITS_PER_ADDRESS", "40 per 10 minutes"),
        "LOGIN_LIMITS_PER_ACCOUNT": os.environ.get("LOGIN_LIMITS_PER_ACCOUNT", "8 per 10 minutes"),
        "NUDGE_LIMITS_PER_SENDER": os.environ.get("NUDGE_LIMITS_PER_SENDER", "5 per day"),
        "NUDGE_ATTEMPTS_PER_SENDER": os.environ.get("NUDGE_ATTEMPTS_PER_SENDER", "20 per day"),
    }
