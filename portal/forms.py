"""Forms shared by every area."""

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A form with no fields, so that a lone button is still a CSRF-protected POST."""
