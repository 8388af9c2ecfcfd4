from flask import Blueprint

bp = Blueprint("journals", __name__, url_prefix="/journals")

# ``activity`` listens to every session and keeps each pairing's held-meeting counts.
from portal.journals import activity, routes  # noqa: E402,F401
