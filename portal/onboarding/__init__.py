from flask import Blueprint

bp = Blueprint("onboarding", __name__, url_prefix="/onboarding")

from portal.onboarding import routes  # noqa: E402,F401
