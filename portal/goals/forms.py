"""Forms for objectives and goals."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.models import ObjectiveLevel


class ObjectiveForm(FlaskForm):
    title = StringField("Objective")
    level = RadioField(
        "Level",
        choices=[SelectChoice(level.value, level.value.capitalize()) for level in ObjectiveLevel],
        validators=[Optional()],
        validate_choice=False,  # the service checks it, with a message in our words
    )
    owner_team_id = SelectField("Owner team", coerce=lambda v: int(v) if v not in (None, "", "None") else None)
    is_active = BooleanField("Active (goals can link to it)", default=True)


class GoalForm(FlaskForm):
    title = StringField("Goal", description="A few words you will recognise, e.g. \u201cRun calmer negotiations\u201d.")
    outcome = TextAreaField(
        "The specific outcome",
        description="What will be different when you get there? Be concrete.",
    )
    measure = TextAreaField(
        "How you will measure success",
        description="What you will count or observe, so that progress is visible to you both.",
    )
    target = StringField("Target", description="The number or result you aim for, e.g. \u201c3 of 4 meetings\u201d.")
    due_on = DateField("Due date", description="Inside the cycle, and from today on.", validators=[Optional()])
    project = StringField(
        "The work project you practise on",
        description="Soft skills grow best on real work: name the project.",
    )
    objective_id = SelectField(
        "The objective it supports (optional)",
        coerce=lambda v: int(v) if v not in (None, "", "None") else None,
        validators=[Optional()],
    )
    version = IntegerField(validators=[Optional()])


class MilestoneForm(FlaskForm):
    milestone_title = StringField("Next step")
    milestone_due_on = DateField("By (optional)", validators=[Optional()])


class StatusForm(FlaskForm):
    status = RadioField(
        "Where this goal stands",
        choices=[
            SelectChoice("active", "Still working on it"),
            SelectChoice("achieved", "Achieved"),
            SelectChoice("set_aside", "Set aside for now"),
        ],
        validators=[Optional()],
    )
    reflection = TextAreaField(
        "A short reflection",
        description="What did you learn? Needed when setting a goal aside; there is no failure here.",
    )


class CommentForm(FlaskForm):
    comment = TextAreaField("Add a comment")
    is_suggestion = BooleanField("This is a suggested change")
