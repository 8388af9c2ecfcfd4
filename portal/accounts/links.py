"""The signed link that finishes a registration. It carries ids only, never the password or its hash."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

REGISTER_LINK_MAX_AGE = 2 * 24 * 3600
REGISTER_SALT = "portal.accounts.register"


class LinkExpired(Exception):
    """The link was genuine but is older than its time."""


class LinkInvalid(Exception):
    """The link was changed, cut short, or was never ours."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=REGISTER_SALT)


def register_token(pending_id: int, nonce: str) -> str:
    """A signed token that finishes the pending registration ``pending_id`` (valid for two days)."""
    return _serializer().dumps({"pending": pending_id, "nonce": nonce})


def read_register_token(token: str) -> tuple[int, str]:
    """(pending registration id, nonce). Raises LinkInvalid or LinkExpired."""
    try:
        data = _serializer().loads(token, max_age=REGISTER_LINK_MAX_AGE)
    except SignatureExpired:
        raise LinkExpired from None
    except BadSignature:
        raise LinkInvalid from None
    if not isinstance(data, dict) or not isinstance(data.get("pending"), int) or not isinstance(data.get("nonce"), str):
        raise LinkInvalid
    return data["pending"], data["nonce"]
