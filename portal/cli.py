"""Commands run with ``flask --app portal ...``."""

from __future__ import annotations

import click
from flask import Flask

from portal.extensions import db


def register_cli(app: Flask) -> None:
    @app.cli.command("make-director")
    @click.argument("email")
    def make_director_command(email: str) -> None:
        """Grant the program director role to the account with EMAIL."""
        from portal.accounts.services import make_director

        try:
            user = make_director(email)
        except LookupError as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
        click.echo(f"{user.display_name} <{user.email}> is now a program director.")

    @app.cli.command("seed-choices")
    def seed_choices_command() -> None:
        """Add the default questionnaire choice lists where a list is empty."""
        from portal.onboarding.services import seed_choices

        added = seed_choices()
        db.session.commit()
        click.echo(f"{added} choices added.")

    @app.cli.command("seed-demo")
    @click.option("--password", default=None, help="Password for every demo account (default: a phrase).")
    @click.option("--if-empty", is_flag=True, help="Do nothing, successfully, when people already exist.")
    def seed_demo_command(password: str | None, if_empty: bool) -> None:
        """Fill an empty database with a believable organisation to explore."""
        from portal.demo import DEMO_PASSWORD, seed_demo

        try:
            summary = seed_demo(password=password or DEMO_PASSWORD)
        except RuntimeError as error:
            if if_empty:
                click.echo(f"{error} Leaving it as it is.")
                return
            raise click.ClickException(str(error)) from None
        db.session.commit()
        click.echo(summary)

    @app.cli.command("expire-requests")
    def expire_requests_command() -> None:
        """Close mentor requests that had no answer in time and tell their mentees (cron, hourly)."""
        from portal.clock import utcnow
        from portal.matches.services import expire_due_requests

        closed = expire_due_requests(utcnow())
        db.session.commit()
        click.echo(f"{closed} unanswered requests closed.")

    @app.cli.command("send-mail")
    @click.option("--limit", default=200, show_default=True)
    def send_mail_command(limit: int) -> None:
        """Send the emails waiting in the outbox (safe to run from cron every minute)."""
        from portal.notifications.services import deliver_pending

        sent, failed = deliver_pending(limit=limit)
        db.session.commit()
        click.echo(f"{sent} sent, {failed} kept for a later try.")
