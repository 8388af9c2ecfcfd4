"""Signed links sent by email: claim an invited account, open a nudge's card. They expire after 14 days."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

LINK_MAX_AGE = 14 * 24 * 3600
CLAIM_SALT = "portal.nudges.claim"
CARD_SALT = "portal.nudges.card"


class LinkExpired(Exception):
    """The link was genuine but is older than its time."""


class LinkInvalid(Exception):
    """The link was changed, cut short, or was never ours."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def claim_token(entry_id: int, nudge_id: int | None = None) -> str:
    """A signed token for claiming the roster entry's account (and then opening the nudge, if any)."""
    return _serializer(CLAIM_SALT).dumps({"entry": entry_id, "nudge": nudge_id})


def card_token(nudge_id: int) -> str:
    """A signed token that opens a nudge's card for its recipient (who still has to be signed in)."""
    return _serializer(CARD_SALT).dumps({"nudge": nudge_id})


def _read(token: str, salt: str, keys: tuple[str, ...]) -> dict:
    try:
        data = _serializer(salt).loads(token, max_age=LINK_MAX_AGE)
    except SignatureExpired:
        raise LinkExpired from None
    except BadSignature:
        raise LinkInvalid from None
    if not isinstance(data, dict) or any(key not in data for key in keys):
        raise LinkInvalid
    return data


def read_claim_token(token: str) -> tuple[int, int | None]:
    """(roster entry id, nudge id or None). Raises LinkInvalid or LinkExpired."""
    data = _read(token, CLAIM_SALT, ("entry", "nudge"))
    return int(data["entry"]), (int(data["nudge"]) if data["nudge"] is not None else None)


def read_card_token(token: str) -> int:
    """The nudge id. Raises LinkInvalid or LinkExpired."""
    return int(_read(token, CARD_SALT, ("nudge",))["nudge"])
