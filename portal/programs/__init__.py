from flask import Blueprint

bp = Blueprint("programs", __name__, url_prefix="/programs")

from portal.programs import routes  # noqa: E402,F401
