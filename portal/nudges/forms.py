"""Forms for nudges and for claiming an invited account."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from portal.nudges.services import MESSAGE_MAX


class NudgeForm(FlaskForm):
    to = HiddenField()
    message = TextAreaField(
        "A short, personal note",
        description=(
            f"Up to {MESSAGE_MAX} characters. Say why you thought of them, for example \u201cI think you\u2019d be a "
            "wonderful mentor for new analysts because \u2026\u201d."
        ),
        validators=[
            DataRequired("Please write a line or two: why you thought of them."),
            Length(max=MESSAGE_MAX, message=f"Please keep your note to {MESSAGE_MAX} characters."),
        ],
    )
    suggested_role = RadioField(
        "Do you picture them as a mentor or a mentee?",
        choices=[
            SelectChoice("none", "I\u2019d rather not say"),
            SelectChoice("mentor", "As a mentor"),
            SelectChoice("mentee", "As a mentee"),
            SelectChoice("either", "Either"),
        ],
        default="none",
        validators=[InputRequired("Please pick one.")],
    )
    show_name = RadioField(
        "How should your note be signed?",
        choices=[
            SelectChoice("name", "With my name"),
            SelectChoice("colleague", "As \u201ca colleague\u201d"),
        ],
        default="name",
        validators=[InputRequired("Please pick one.")],
    )


class ClaimForm(FlaskForm):
    display_name = StringField(
        "Your name, as colleagues know you",
        validators=[DataRequired("Please tell us your name."), Length(max=80)],
    )
    password = PasswordField(
        "Choose a password",
        description="At least 12 characters. A short sentence works well; a password manager is welcome.",
        validators=[DataRequired("Please choose a password.")],
    )
