"""The back-up plan: check-ins, pair health, pausing, a no-fault way out, rematching, the director's help queue."""

from flask import Blueprint

# cli_group=None: the catch-up command is a top-level ``flask send-catch-up-notes`` like the other jobs.
bp = Blueprint("support", __name__, url_prefix="/support", cli_group=None)

from portal.support import jobs, readonly, routes  # noqa: E402,F401

# Ended pairings are read only on every journal and goal page (see portal.support.readonly).
bp.before_app_request(readonly.refuse_posts_to_ended_pairings)
