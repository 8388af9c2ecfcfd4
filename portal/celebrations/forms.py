"""Forms of the wall. The rules live in services.py; these parse and carry the CSRF token."""

from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.celebrations.services import TEXT_MAX

AUDIENCES = {"everyone": "Everyone in the program", "pair": "Only my mentoring pair"}


class ShareForm(FlaskForm):
    text = TextAreaField(
        "Your words",
        description=f"Change anything you like, up to {TEXT_MAX} characters. Links to web pages become clickable.",
    )
    audience = RadioField(
        "Who may see it?",
        choices=[SelectChoice(value, label) for value, label in AUDIENCES.items()],
        default="everyone",
        validators=[Optional()],
        validate_choice=False,  # services.share_post says what is wrong, kindly
    )


class EditForm(FlaskForm):
    text = TextAreaField("Your words", description=f"Up to {TEXT_MAX} characters.")


class KudosForm(FlaskForm):
    to = EmailField("Their work email", description="Kudos go to them first; they choose whether the wall sees it.")
    skill = SelectField("The soft skill they showed", validators=[Optional()], validate_choice=False)
    text = TextAreaField(
        "Your words", description=f"What they did, in a sentence or two (up to {TEXT_MAX} characters)."
    )

    def set_skills(self, labels: dict[str, str]) -> None:
        self.skill.choices = [SelectChoice("", "Choose a skill")] + [
            SelectChoice(key, label) for key, label in labels.items()
        ]


class ReportForm(FlaskForm):
    reason = TextAreaField(
        "What is wrong? (optional)",
        description="Only the program director reads this. The author is not told who reported it.",
    )


class OfferForm(FlaskForm):
    """ "Share this on the wall?" where the progress happened: the words, then post or skip."""

    text = TextAreaField("Your words", description=f"Change anything you like, up to {TEXT_MAX} characters.")
