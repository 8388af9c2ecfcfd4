"""How dates and times read, in one place: in the reader's zone, one long and one short format, over Babel.

Everything is stored in UTC (``portal.clock``); this module only decides how a moment is shown to a person
and how a local day and time that a person typed becomes a UTC moment. Templates reach it through the
``when``, ``day`` and ``time`` filters (``register_filters``); services call the ``format_*`` functions with
the zone of the person who will read the text.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from babel.dates import get_timezone_location

from portal.clock import default_zone, zone_for

LOCALE = "en_GB"
# The two ways a day reads throughout the portal, and the one way a time of day does.
LONG_DAY = "EEEE d MMMM y"  # Friday 11 December 2026
SHORT_DAY = "d MMMM y"  # 11 December 2026
CLOCK = "HH:mm"  # 10:30


@functools.cache
def _known_zones() -> frozenset[str]:
    # available_timezones() walks the zone database on disk; once per process is enough.
    return frozenset(available_timezones())


@functools.cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted, for the time zone field's suggestions."""
    return tuple(sorted(name for name in _known_zones() if "/" in name and not name.startswith(("Etc/", "SystemV/"))))


def is_zone(name: str) -> bool:
    """True when ``name`` is an IANA time zone name (``Europe/Berlin``, ``UTC``), exactly as written."""
    return name in _known_zones()


def reader_zone() -> ZoneInfo:
    """The zone of the person reading the current page: their own, else the organisation's default."""
    from flask import has_request_context
    from flask_login import current_user

    # Not cached on ``g``: tests keep one application context across requests by different people.
    if has_request_context() and current_user.is_authenticated:
        return zone_for(current_user)
    return default_zone()


def _aware(moment: datetime) -> datetime:
    # The database hands back aware values; a naive one can only be UTC here.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` as the wall-clock time in ``zone``."""
    return _aware(moment).astimezone(zone)


def short_zone_name(moment: datetime) -> str:
    """The zone's short name at that moment ("CET", "CEST", "EST", "GMT", "UTC"); "GMT+4" where none exists."""
    name = moment.tzname() or ""
    if name and not name.startswith(("+", "-")):
        return name
    minutes = int(moment.utcoffset().total_seconds() // 60)
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    return f"GMT{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


def city(zone: ZoneInfo) -> str:
    """The zone as a place ("Berlin", "New York"), for sentences that compare two people's times."""
    if zone.key == "UTC":
        return "UTC"
    return get_timezone_location(zone, locale=LOCALE, return_city=True)


def format_day(value: date | datetime, zone: ZoneInfo | None = None, *, style: str = "short") -> str:
    """A day: "11 December 2026" (short) or "Friday 11 December 2026" (long); a moment is read in ``zone``."""
    if isinstance(value, datetime):
        value = local(value, zone or reader_zone()).date()
    return _day_in_words(value, LONG_DAY if style == "long" else SHORT_DAY)


@functools.lru_cache(maxsize=4096)
def _day_in_words(day: date, pattern: str) -> str:
    # Babel takes a tenth of a millisecond per day it formats, and pages show the same few days over and over.
    return babel_date(day, pattern, locale=LOCALE)


def format_time(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """A time of day in ``zone`` with the zone's short name: "10:30 CET"."""
    at = local(moment, zone or reader_zone())
    return f"{babel_time(at, CLOCK, locale=LOCALE)} {short_zone_name(at)}"


def format_when(moment: datetime, zone: ZoneInfo | None = None, *, style: str = "short") -> str:
    """A day and time in ``zone``: "11 December 2026, 10:30 CET" or "Friday 11 December 2026, 10:30 CET"."""
    zone = zone or reader_zone()
    return f"{format_day(moment, zone, style=style)}, {format_time(moment, zone)}"


def in_two_zones(moment: datetime, mine: ZoneInfo, name: str, theirs: ZoneInfo) -> str | None:
    """The moment for the reader and for ``name`` in another zone ("10:30 GMT in London, 11:30 CET for Ana in
    Berlin"), with their day when it differs; None when both read the same clock."""
    here, there = local(moment, mine), local(moment, theirs)
    if here.utcoffset() == there.utcoffset():
        return None
    their_time = format_time(moment, theirs)
    if there.date() != here.date():
        their_time += f" on {format_day(there.date(), style='long')}"
    return f"{format_time(moment, mine)} in {city(mine)}, {their_time} for {name} in {city(theirs)}"


# --- local times people type --------------------------------------------------------------------------


class LocalTimeProblem(ValueError):
    """A local day and time that does not exist (clocks go forward) or happens twice (clocks go back)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _round_trips(wall: datetime) -> bool:
    return wall.astimezone(UTC).astimezone(wall.tzinfo).replace(tzinfo=None) == wall.replace(tzinfo=None)


def _exists(wall: datetime) -> bool:
    return _round_trips(wall.replace(fold=0)) or _round_trips(wall.replace(fold=1))


def _repeats(wall: datetime) -> bool:
    return wall.replace(fold=0).utcoffset() != wall.replace(fold=1).utcoffset() and _exists(wall)


def _window(wall: datetime, inside) -> tuple[datetime, datetime]:
    """The first minute of the skipped or repeated stretch around ``wall``, and the first minute after it."""
    start = wall.replace(second=0, microsecond=0)
    while inside(start - timedelta(minutes=1)):
        start -= timedelta(minutes=1)
    end = wall.replace(second=0, microsecond=0)
    while inside(end):
        end += timedelta(minutes=1)
    return start, end


def to_utc(on: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC moment of a local day and time in ``zone``.

    Raises LocalTimeProblem, with a message for the person, when the clocks go forward past that time (it
    never happens) or go back over it (it happens twice, so it is not clear which one is meant).
    """
    wall = datetime.combine(on, at.replace(tzinfo=None), tzinfo=zone)
    place, said = city(zone), babel_time(at, CLOCK, locale=LOCALE)
    if not _exists(wall):
        start, end = _window(wall, lambda w: not _exists(w))
        raise LocalTimeProblem(
            f"The clocks go forward on {format_day(on, style='long')} in {place}, so {said} does not exist there. "
            f"Please choose a time before {start:%H:%M} or from {end:%H:%M}."
        )
    if _repeats(wall):
        start, end = _window(wall, _repeats)
        raise LocalTimeProblem(
            f"The clocks go back on {format_day(on, style='long')} in {place}, so {said} happens twice there. "
            f"Please choose a time before {start:%H:%M} or from {end:%H:%M}."
        )
    return wall.astimezone(UTC)


def register_filters(app) -> None:
    """The ``when``, ``day`` and ``time`` filters, each read in the reader's zone; None reads as nothing.

    Also ``zone_names()`` for the time zone field's list.
    """
    app.add_template_global(zone_names)

    @app.template_filter("when")
    def when_filter(value, style: str = "short") -> str:
        if value is None:
            return ""
        if not isinstance(value, datetime):
            return format_day(value, style=style)
        return format_when(value, style=style)

    @app.template_filter("day")
    def day_filter(value, style: str = "short") -> str:
        return "" if value is None else format_day(value, style=style)

    @app.template_filter("time")
    def time_filter(value) -> str:
        return "" if value is None else format_time(value)
