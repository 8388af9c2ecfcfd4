from flask import Blueprint

bp = Blueprint("profiles", __name__, url_prefix="/profiles")

from portal.profiles import routes  # noqa: E402,F401
