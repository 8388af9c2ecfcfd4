"""The profile's own small forms."""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional


class ZoneForm(FlaskForm):
    # Parsed only; portal.profiles.services.set_timezone decides what a time zone is.
    timezone = StringField("Your time zone", validators=[Optional()])
