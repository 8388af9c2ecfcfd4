"""The current date and time, and each person's time zone, in one place.

Everything is stored in UTC; a person's zone (``zone_for``) only decides how a time is read and entered.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def today(zone: ZoneInfo | None = None) -> date:
    """Today's date in ``zone`` (a person's, from ``zone_for``), or in UTC."""
    return utcnow().astimezone(zone).date() if zone is not None else utcnow().date()


def default_zone() -> ZoneInfo:
    """The organisation's time zone (``PORTAL_DEFAULT_TIMEZONE``), or UTC outside an application."""
    from flask import current_app, has_app_context

    name = current_app.config.get("DEFAULT_TIMEZONE", "UTC") if has_app_context() else "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone_for(user) -> ZoneInfo:
    """The zone ``user`` reads and enters times in: their own choice, else the organisation's default."""
    name = getattr(user, "timezone", None)
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return default_zone()
