"""Forms for registering and signing in."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length


class RegisterForm(FlaskForm):
    display_name = StringField(
        "Your name, as colleagues know you",
        validators=[DataRequired("Please tell us your name."), Length(max=80)],
    )
    email = EmailField(
        "Work email",
        validators=[
            DataRequired("Please enter your work email."),
            Email("That does not look like an email address.", check_deliverability=False),
            Length(max=254),
        ],
    )
    team = StringField(
        "Team",
        description="The local team you work in. Mentors are always found outside it.",
        validators=[DataRequired("Please tell us your team."), Length(max=80)],
    )
    password = PasswordField(
        "Password",
        description="At least 12 characters. A short sentence works well; a password manager is welcome.",
        validators=[DataRequired("Please choose a password.")],
    )


class SignInForm(FlaskForm):
    email = EmailField("Work email", validators=[DataRequired("Please enter your work email.")])
    password = PasswordField("Password", validators=[DataRequired("Please enter your password.")])


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Please enter your current password.")]
    )
    new_password = PasswordField(
        "New password",
        description="At least 12 characters. A short sentence works well; a password manager is welcome.",
        validators=[DataRequired("Please choose a new password.")],
    )
