"""The current date and time, in one place so that tests and demo data can reason about windows."""

from datetime import date

from portal.models.base import utcnow


def today() -> date:
    """Today's date in UTC."""
    return utcnow().date()
