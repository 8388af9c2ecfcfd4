from flask import Blueprint

bp = Blueprint("journals", __name__, url_prefix="/journals")

from portal.journals import routes  # noqa: E402,F401
