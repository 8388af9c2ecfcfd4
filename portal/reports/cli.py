"""``flask --app portal reports close-cycles``: the reports area's scheduled job, for cron or the job queue."""

from __future__ import annotations

import click

from portal.clock import today
from portal.extensions import db
from portal.reports import bp


@bp.cli.command("close-cycles")
def close_cycles_command() -> None:
    """Close the active pairings of cycles that have ended, as completed, and offer the retrospective (daily)."""
    from portal.reports.jobs import close_finished_cycles

    closed = close_finished_cycles(on=today())
    db.session.commit()
    click.echo(f"{closed} pairings closed at the end of their cycle.")
