"""What reaches each person and how: per kind of news, quiet hours, and signed one-click unsubscribe links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.clock import zone_for
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import Channel, NotificationSetting, User

UNSUBSCRIBE_SALT = "unsubscribe"
# An unsubscribe link keeps working for a year: people find old emails.
UNSUBSCRIBE_MAX_AGE = 365 * 24 * 3600
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    hint: str
    channels: tuple[Channel, ...]


# Requests and pairing updates need an answer or tell you who you work with, so they stay in the portal.
KINDS = (
    Kind(
        "meetings",
        "Meetings and their reminders",
        "A reminder the morning before each meeting, and an hour before it, plus plans and changes.",
        (Channel.EMAIL, Channel.PORTAL, Channel.OFF),
    ),
    Kind(
        "requests",
        "Mentor requests",
        "Requests to answer, their answers, and a note a day before a request runs out.",
        (Channel.EMAIL, Channel.PORTAL),
    ),
    Kind(
        "pairings",
        "Pairing updates",
        "A new mentor or mentee, goals your partner set or commented on.",
        (Channel.EMAIL, Channel.PORTAL),
    ),
    Kind(
        "wall",
        "The celebration wall",
        "Kudos for you, and posts you might like to share.",
        (Channel.EMAIL, Channel.PORTAL, Channel.OFF),
    ),
    Kind(
        "digest",
        "A weekly digest",
        "Once a week, only when there is something to say: your next meeting, what you planned, goals due soon.",
        (Channel.EMAIL, Channel.OFF),
    ),
)
KINDS_BY_KEY = {kind.key: kind for kind in KINDS}
CHANNEL_LABELS = {
    Channel.EMAIL: "In the portal and by email",
    Channel.PORTAL: "In the portal only",
    Channel.OFF: "Off",
}
DIGEST_LABELS = {Channel.EMAIL: "By email", Channel.OFF: "Off"}


class LinkProblem(Exception):
    """An unsubscribe link that was changed or is too old; nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def settings_for(user: User) -> NotificationSetting:
    """The person's settings, or the defaults (not added to the session) when they never chose."""
    setting = db.session.get(NotificationSetting, user.id)
    if setting is None:
        setting = NotificationSetting(
            user_id=user.id,
            meetings=Channel.EMAIL,
            hour_before_by_email=False,
            requests=Channel.EMAIL,
            pairings=Channel.EMAIL,
            wall=Channel.PORTAL,
            digest=Channel.EMAIL,
            digest_day=0,
        )
    return setting


def channel_for(user: User, kind: str, *, setting: NotificationSetting | None = None) -> Channel:
    """How news of ``kind`` reaches ``user``; kinds without a setting (account news) reach them by email."""
    if kind not in KINDS_BY_KEY:
        return Channel.EMAIL
    return getattr(setting or settings_for(user), kind)


def _stored(user: User) -> NotificationSetting:
    setting = db.session.get(NotificationSetting, user.id)
    if setting is None:
        setting = settings_for(user)
        db.session.add(setting)
    return setting


def _hour(raw: str | None, name: str, errors: dict[str, str]) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= 23:
        errors[name] = "Please choose an hour from the list."
        return None
    return value


def save_preferences(user: User, choices: dict[str, str | None]) -> NotificationSetting:
    """Store the person's choices (a form's values by field name) and return the settings.

    Raises ValidationFailed for a channel a kind does not allow, an unknown day or hour, or quiet hours
    with only one end.
    """
    errors: dict[str, str] = {}
    values: dict = {}
    for kind in KINDS:
        raw = choices.get(kind.key)
        try:
            channel = Channel(raw)
        except ValueError:
            channel = None
        if channel not in kind.channels:
            errors[kind.key] = "Please choose one of the options."
        values[kind.key] = channel
    try:
        day = int(choices.get("digest_day") or "")
    except ValueError:
        day = -1
    if not 0 <= day <= 6:
        errors["digest_day"] = "Please choose a day of the week."
    quiet_from = _hour(choices.get("quiet_from"), "quiet_from", errors)
    quiet_until = _hour(choices.get("quiet_until"), "quiet_until", errors)
    if (quiet_from is None) != (quiet_until is None) and "quiet_from" not in errors and "quiet_until" not in errors:
        errors["quiet_until" if quiet_until is None else "quiet_from"] = (
            "Please choose both ends of your quiet hours, or neither."
        )
    if quiet_from is not None and quiet_from == quiet_until:
        errors["quiet_until"] = "Quiet hours need to end at another hour than they start."
    if errors:
        raise ValidationFailed(errors)
    setting = _stored(user)
    for key, channel in values.items():
        setattr(setting, key, channel)
    setting.hour_before_by_email = choices.get("hour_before_by_email") in ("1", "on", "y", "true")
    setting.digest_day, setting.quiet_from, setting.quiet_until = day, quiet_from, quiet_until
    db.session.flush()
    return setting


def email_not_before(user: User, now: datetime, *, setting: NotificationSetting | None = None) -> datetime | None:
    """When an email to ``user`` may leave: None for straight away, or the end of their quiet hours (their zone)."""
    setting = setting or settings_for(user)
    start, end = setting.quiet_from, setting.quiet_until
    if start is None or end is None:
        return None
    local = now.astimezone(zone_for(user))
    hour = local.hour
    quiet = start <= hour < end if start < end else (hour >= start or hour < end)
    if not quiet:
        return None
    until = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until.astimezone(now.tzinfo)


# --- unsubscribe links -------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user: User, kind: str | None) -> str:
    """A signed token for one person and one kind of email ("all" for every optional email)."""
    return _serializer().dumps({"u": user.id, "k": kind if kind in KINDS_BY_KEY else "all"})


def read_unsubscribe_token(token: str) -> tuple[User, str]:
    """The person and kind an unsubscribe token names. Raises LinkProblem when changed, too old or unknown."""
    try:
        data = _serializer().loads(token, max_age=UNSUBSCRIBE_MAX_AGE)
    except SignatureExpired:
        raise LinkProblem(
            "This unsubscribe link is too old. Your choices can always be changed on the preferences page."
        ) from None
    except BadSignature:
        raise LinkProblem(
            "This unsubscribe link does not look complete; it may have been cut by your email program. "
            "Your choices can always be changed on the preferences page."
        ) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    kind = data.get("k") if isinstance(data, dict) else None
    if user is None or (kind != "all" and kind not in KINDS_BY_KEY):
        raise LinkProblem("This unsubscribe link is not in use any more. Nothing was changed.")
    return user, kind


def unsubscribe(user: User, kind: str) -> list[str]:
    """Stop emails of ``kind`` ("all": every kind) for the person; news stays in the portal where it can.

    Returns the labels of the kinds changed. Doing it twice changes nothing the second time.
    """
    setting = _stored(user)
    changed = []
    for item in KINDS if kind == "all" else (KINDS_BY_KEY[kind],):
        if getattr(setting, item.key) == Channel.EMAIL:
            setattr(setting, item.key, Channel.PORTAL if Channel.PORTAL in item.channels else Channel.OFF)
            changed.append(item.label)
        if item.key == "meetings":
            setting.hour_before_by_email = False
    db.session.flush()
    return changed
