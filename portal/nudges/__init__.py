"""The interest nudge: the roster, "just curious", personal nudges and their private cards."""

from flask import Blueprint

bp = Blueprint("nudges", __name__, url_prefix="/nudges")

from portal.nudges import routes  # noqa: E402,F401  (routes register themselves on bp)
