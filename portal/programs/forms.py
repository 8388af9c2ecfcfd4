"""Forms for cycles (director) and enrolment (participants)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

DATE_MESSAGE = "Please enter a date, for example 2027-03-01."


def _date(label: str, description: str = "") -> DateField:
    return DateField(label, description=description, validators=[InputRequired(DATE_MESSAGE)])


class CycleForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Please give the cycle a name."), Length(max=80)])
    enrolment_opens_on = _date("Enrolment opens")
    enrolment_closes_on = _date("Enrolment closes")
    matching_opens_on = _date("Matching opens", "Mentees can send requests from this day.")
    matching_closes_on = _date("Matching closes", "People can change how they take part until this day.")
    starts_on = _date("Program starts")
    ends_on = _date("Program ends", "Six months after the start is a good length.")
    request_expiry_days = IntegerField(
        "Days before an unanswered request closes",
        validators=[InputRequired("Please enter a number of days."), NumberRange(1, 60, "Between 1 and 60.")],
    )
    default_capacity = IntegerField(
        "Mentees per mentor, by default",
        validators=[InputRequired("Please enter a number."), NumberRange(1, 5, "Between 1 and 5.")],
    )
    is_current = BooleanField("This is the current cycle")
    min_score = IntegerField(
        "Lowest score to propose a pair",
        description="“Match the rest” leaves a mentee unmatched rather than propose a pair scoring less "
        "(0 to 100; left empty, 30).",
        validators=[Optional(), NumberRange(0, 100, "From 0 to 100.")],
    )
    weight_values = IntegerField("Shared values", validators=[Optional(), NumberRange(0, 100, "0 to 100.")])
    weight_interests = IntegerField("Shared interests", validators=[Optional(), NumberRange(0, 100, "0 to 100.")])
    weight_experiences = IntegerField("Similar experiences", validators=[Optional(), NumberRange(0, 100, "0 to 100.")])
    weight_skills = IntegerField(
        "Skills to grow that the mentor offers", validators=[Optional(), NumberRange(0, 100, "0 to 100.")]
    )
    weight_logistics = IntegerField(
        "Compatible time and meeting formats", validators=[Optional(), NumberRange(0, 100, "0 to 100.")]
    )
    weight_perspective = IntegerField(
        "Perspective as the mentee asked", validators=[Optional(), NumberRange(0, 100, "0 to 100.")]
    )

    WEIGHT_FIELDS = ("values", "interests", "experiences", "skills", "logistics", "perspective")


class EnrolForm(FlaskForm):
    role = RadioField(
        "How will you take part in this cycle?",
        choices=[
            SelectChoice("mentee", "Be mentored"),
            SelectChoice("mentor", "Mentor someone"),
            SelectChoice("both", "Both"),
        ],
        validators=[InputRequired("Please choose how you will take part.")],
    )
    capacity = IntegerField(
        "How many mentees could you take on?",
        description="From 1 to 5. One is a generous gift of time.",
        validators=[Optional()],
    )
    paused = BooleanField(
        "Pause new requests for now",
        description="Open requests are answered kindly for you; you can resume any time.",
    )
