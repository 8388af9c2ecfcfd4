"""The preferences form: one choice per kind of news, the digest's day and quiet hours.

Choices are checked by ``preferences.save_preferences`` (which knows which kinds allow "off"), not here.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice

from portal.notifications.preferences import CHANNEL_LABELS, DAYS, DIGEST_LABELS, KINDS

HOURS = [SelectChoice("", "No quiet hours")] + [SelectChoice(str(hour), f"{hour:02d}:00") for hour in range(24)]


def _channel_field(kind) -> RadioField:
    labels = DIGEST_LABELS if kind.key == "digest" else CHANNEL_LABELS
    return RadioField(
        kind.label,
        choices=[SelectChoice(channel.value, labels[channel]) for channel in kind.channels],
        description=kind.hint,
        validate_choice=False,
    )


class PreferencesForm(FlaskForm):
    meetings = _channel_field(KINDS[0])
    hour_before_by_email = BooleanField("Also email me the reminder an hour before a meeting")
    requests = _channel_field(KINDS[1])
    pairings = _channel_field(KINDS[2])
    wall = _channel_field(KINDS[3])
    digest = _channel_field(KINDS[4])
    digest_day = SelectField(
        "The digest's day", choices=[SelectChoice(str(i), day) for i, day in enumerate(DAYS)], validate_choice=False
    )
    quiet_from = SelectField("No email from", choices=HOURS, validate_choice=False)
    quiet_until = SelectField("until", choices=HOURS, validate_choice=False)
