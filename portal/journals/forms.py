"""Forms for meetings, notes, reflections and action items.

Fields only parse here (dates, times, numbers); the rules live in portal.journals.services, which names
the field of each problem so that the message appears next to it.
"""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import Optional

from portal.journals.services import LENGTH_MAX, LENGTH_MIN, REASON_MAX

DATE_HINT = "For example 2027-03-01."


class PlanForm(FlaskForm):
    on = DateField("Day", description=DATE_HINT, validators=[Optional()])
    at = TimeField("Time", description="In your time zone. For example 14:30.", validators=[Optional()])
    duration_minutes = IntegerField(
        "Length in minutes",
        description=f"From {LENGTH_MIN} to {LENGTH_MAX}. Half an hour is plenty for many pairs.",
        default=30,
        validators=[Optional()],
    )
    format = SelectField("How you will meet", validate_choice=False, validators=[Optional()])


class RescheduleForm(FlaskForm):
    on = DateField("New day", description=DATE_HINT, validators=[Optional()])
    at = TimeField("New time", description="In your time zone. For example 14:30.", validators=[Optional()])
    reason = TextAreaField(
        "A short reason",
        description=f"Your partner is told. A few words are enough (up to {REASON_MAX} characters).",
        validators=[Optional()],
    )


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "A short reason",
        description=f"Your partner is told. A few words are enough (up to {REASON_MAX} characters).",
        validators=[Optional()],
    )


class LogForm(FlaskForm):
    held_on = DateField("The day you met", description=DATE_HINT, validators=[Optional()])
    duration_minutes = IntegerField(
        "How long, in minutes", description=f"From {LENGTH_MIN} to {LENGTH_MAX}.", validators=[Optional()]
    )
    format = SelectField("How you met", validate_choice=False, validators=[Optional()])
    topics = TextAreaField(
        "Topics",
        description="What you talked about, in a line or two. Both of you can see this.",
        validators=[Optional()],
    )
    goals = SelectMultipleField("Which goals it moved", coerce=int, validate_choice=False, validators=[Optional()])


class NotesForm(FlaskForm):
    notes = TextAreaField("Shared notes", validators=[Optional()])
    version = HiddenField()


class ReflectionForm(FlaskForm):
    reflection = TextAreaField("Your reflection", validators=[Optional()])


class ActionForm(FlaskForm):
    title = StringField("What will be done", validators=[Optional()])
    owner_id = SelectField("Who will do it", coerce=int, validate_choice=False, validators=[Optional()])
    due_on = DateField("By when", description=DATE_HINT, validators=[Optional()])
