from flask import Blueprint

bp = Blueprint("celebrations", __name__, url_prefix="/celebrations")

from portal.celebrations import routes  # noqa: E402,F401
