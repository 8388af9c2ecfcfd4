"""Forms for requests and answers."""

from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.matches.services import DEFAULT_ACCEPT, DEFAULT_DECLINE, RHYTHMS


class RequestForm(FlaskForm):
    note = TextAreaField(
        "A short note to the mentor",
        description="What you hope to work on, and why them. Two or three sentences are plenty.",
    )
    rhythm = RadioField(
        "How often would you like to meet?",
        choices=[SelectChoice(value, label) for value, label in RHYTHMS.items()],
        validators=[Optional()],
    )


class AcceptForm(FlaskForm):
    message = TextAreaField("A message to go with your yes", default=DEFAULT_ACCEPT)


class DeclineForm(FlaskForm):
    message = TextAreaField(
        "A message to go with your answer",
        description="Only they will see it. The words already here make clear there is no fault.",
        default=DEFAULT_DECLINE,
    )
