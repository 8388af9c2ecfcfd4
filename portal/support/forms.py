"""Forms of the back-up plan. Fields only parse here; the rules and their messages live in the services."""

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.support.services import (
    CLOSING_LABELS,
    FIT_LABELS,
    HELP_MAX,
    NOTE_MAX,
    REASON_MAX,
    STATUS_LABELS,
    TOPIC_LABELS,
)

SCORES = [SelectChoice(str(n), str(n)) for n in range(1, 6)]


class CheckInForm(FlaskForm):
    round = IntegerField("Round", validators=[Optional()])
    fit = RadioField(
        "How is this pairing going for you?",
        choices=[SelectChoice(k.value, v) for k, v in FIT_LABELS.items()],
        validate_choice=False,
        validators=[Optional()],
    )
    score = RadioField(
        "How is your mentoring going, from 1 (not well) to 5 (very well)?",
        choices=SCORES,
        validate_choice=False,
        validators=[Optional()],
    )
    note = TextAreaField(
        "A note for the program director (optional)",
        description=f"Only the program director reads it, never your partner. Up to {NOTE_MAX:,} characters.",
        validators=[Optional()],
    )


class PauseForm(FlaskForm):
    until = DateField(
        "Pause until",
        description="The day it picks up again, inside the cycle. For example 2027-03-01.",
        validators=[Optional()],
    )
    reason = TextAreaField(
        "A few words for your partner (optional)",
        description=f"For example \u201cA busy release month\u201d. Up to {REASON_MAX} characters.",
        validators=[Optional()],
    )


class EndForm(FlaskForm):
    reason = RadioField(
        "Why are you ending it?",
        choices=[SelectChoice(k.value, v) for k, v in CLOSING_LABELS.items()],
        validate_choice=False,
        validators=[Optional()],
    )
    suitability = RadioField(
        "How suitable was the match, from 1 (not at all) to 5 (very)? (optional)",
        choices=SCORES,
        validate_choice=False,
        validators=[Optional()],
    )
    note = TextAreaField(
        "A note for the program director (optional)",
        description=f"Only the program director reads it. Up to {NOTE_MAX:,} characters.",
        validators=[Optional()],
    )


class AskForm(FlaskForm):
    pairing_id = HiddenField()
    topic = RadioField(
        "What is it about?",
        choices=[SelectChoice(k.value, v) for k, v in TOPIC_LABELS.items()],
        validate_choice=False,
        validators=[Optional()],
    )
    body = TextAreaField(
        "Your message",
        description=f"Private: your partner never learns of it. Up to {HELP_MAX:,} characters.",
        validators=[Optional()],
    )


class ReplyForm(FlaskForm):
    body = TextAreaField("Your message", description=f"Up to {HELP_MAX:,} characters.", validators=[Optional()])


class StatusForm(FlaskForm):
    # Not "status": that id belongs to the page's status region.
    state = SelectField(
        "Status",
        choices=[SelectChoice(k.value, v) for k, v in STATUS_LABELS.items()],
        validate_choice=False,
        validators=[Optional()],
    )


class SuggestForm(FlaskForm):
    mentor_id = SelectField("A mentor who fits them", validate_choice=False, validators=[Optional()])


class ThresholdsForm(FlaskForm):
    """The cycle's thresholds; labels and ranges come from ``services.THRESHOLD_LIMITS``."""

    quiet_warning_weeks = IntegerField(validators=[Optional()])
    overdue_milestones = IntegerField(validators=[Optional()])
    too_early_days = IntegerField(validators=[Optional()])
    first_check_in_days = IntegerField(validators=[Optional()])
    first_check_in_max_days = IntegerField(validators=[Optional()])
    pulse_weeks = IntegerField(validators=[Optional()])
    quiet_weeks = IntegerField(validators=[Optional()])
    note_spacing_weeks = IntegerField(validators=[Optional()])
