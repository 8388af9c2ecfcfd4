"""Forms of the reports area."""

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField


class SponsorForm(FlaskForm):
    sponsor_name = StringField("The sponsor's name", description="The leader who stands behind the program.")
    sponsor_title = StringField("Their role (optional)", description="For example \u201cChief Operating Officer\u201d.")
    body = TextAreaField(
        "Their message",
        description="A few warm sentences on why the company backs mentoring, in the sponsor's own words.",
    )
