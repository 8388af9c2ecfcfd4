"""The interest nudge: the company roster, personal invitations, each person's nudge settings, and counts.

People are linked by their work email (stored lower-cased), not by a user id: someone on the roster may
not have an account yet ("invited"), and becomes the same person the moment an account with that email
exists, however it was created.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.extensions import db
from portal.models.accounts import User
from portal.models.base import UTCDateTime, string_enum


class RosterEntry(db.Model):
    """One person on the company roster, as the director's last import described them."""

    __tablename__ = "roster_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    team_name: Mapped[str] = mapped_column(String(80))
    # Matching never pairs a person with their manager or their reports.
    manager_email: Mapped[str | None] = mapped_column(String(254), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # When the signed claim link was used; a claim link works once.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RosterImport(db.Model):
    """An uploaded roster file, parsed and kept between the preview and "Apply", so apply trusts no re-post."""

    __tablename__ = "roster_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the uploaded bytes, shown on the preview so the director can tell two uploads apart.
    digest: Mapped[str] = mapped_column(String(64))
    # Valid rows: [email, name, team, manager email or null], in file order.
    rows: Mapped[list] = mapped_column(JSON, default=list)
    # Bad rows: {"line", "reason", "name", "email", "team", "manager_email"} as typed, in file order.
    problems: Mapped[list] = mapped_column(JSON, default=list)
    # What applying would do when the preview was made: {"added": [...], "changed": [...], "unchanged": n}.
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class NudgeRole(enum.StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"
    EITHER = "either"


class NudgeAnswer(enum.StrEnum):
    INTERESTED = "interested"
    MORE = "more"
    NOT_NOW = "not_now"
    NO_THANKS = "no_thanks"


class Nudge(db.Model):
    """A personal, private invitation to someone not enrolled. Its answer is the recipient's alone."""

    __tablename__ = "nudges"
    __table_args__ = (Index("ix_nudges_recipient_created", "recipient_email", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recipient_email: Mapped[str] = mapped_column(String(254))
    message: Mapped[str] = mapped_column(Text)
    suggested_role: Mapped[NudgeRole | None] = mapped_column(string_enum(NudgeRole))
    # False: the recipient sees "a colleague"; the director can still see who sent it.
    show_name: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer: Mapped[NudgeAnswer | None] = mapped_column(string_enum(NudgeAnswer))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    sender: Mapped[User] = relationship(lazy="raise")


class NudgePreference(db.Model):
    """What a person said about being nudged: switched off, "no thanks", or "not now" until a day."""

    __tablename__ = "nudge_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    nudges_off: Mapped[bool] = mapped_column(default=False)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snoozed_until: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class InterestKind(enum.StrEnum):
    VISIT = "visit"
    START = "start"
    MORE = "more"
    NOT_NOW = "not_now"


class InterestEvent(db.Model):
    """A count and never a person: a visit to "Curious about mentoring?" or a choice made there.

    Only the kind, where it came from and the day are kept, so nobody can learn who looked.
    """

    __tablename__ = "interest_events"
    __table_args__ = (Index("ix_interest_events_kind_day", "kind", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InterestKind] = mapped_column(string_enum(InterestKind))
    source: Mapped[str] = mapped_column(String(20), default="curious")  # "curious" or "nudge"
    occurred_on: Mapped[date]
