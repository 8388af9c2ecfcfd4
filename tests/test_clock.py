"""Each person's time zone: their own choice, else the organisation's default."""

from zoneinfo import ZoneInfo

from portal.clock import zone_for
from tests.factories import make_user


def test_a_person_without_a_zone_reads_times_in_the_organisations_zone(app):
    assert zone_for(make_user()) == ZoneInfo(app.config["DEFAULT_TIMEZONE"])


def test_a_person_with_a_zone_reads_times_in_it(app):
    assert zone_for(make_user(timezone="America/New_York")) == ZoneInfo("America/New_York")


def test_an_unknown_zone_name_falls_back_to_the_default(app):
    user = make_user()
    user.timezone = "Mars/Olympus_Mons"
    assert zone_for(user) == ZoneInfo(app.config["DEFAULT_TIMEZONE"])
