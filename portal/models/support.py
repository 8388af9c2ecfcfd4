"""The back-up plan: check-ins, pauses, closing surveys, the director's help queue and catch-up notes."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.extensions import db
from portal.models.accounts import User
from portal.models.base import UTCDateTime, string_enum
from portal.models.journals import Meeting


class SupportSettings(db.Model):
    """A cycle's thresholds for pair health, check-ins and catch-up notes; no row means the defaults."""

    __tablename__ = "support_settings"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True)
    # Health: how long without a logged meeting before a pair "might need a check-in".
    quiet_warning_weeks: Mapped[int] = mapped_column(default=5)
    overdue_milestones: Mapped[int] = mapped_column(default=2)
    too_early_days: Mapped[int] = mapped_column(default=21)
    # Check-ins: the first a few days after the first meeting (or at the latest after first_max_days).
    first_check_in_days: Mapped[int] = mapped_column(default=3)
    first_check_in_max_days: Mapped[int] = mapped_column(default=14)
    pulse_weeks: Mapped[int] = mapped_column(default=6)
    # Catch-up notes: after this many quiet weeks, and no more often than every note_spacing_weeks.
    quiet_weeks: Mapped[int] = mapped_column(default=4)
    note_spacing_weeks: Mapped[int] = mapped_column(default=3)


class Fit(enum.StrEnum):
    """The answer to the first check-in, "How is this pairing going for you?"."""

    GOING_WELL = "going_well"
    FINDING_FEET = "finding_feet"
    NOT_A_FIT = "not_a_fit"


class CheckIn(db.Model):
    """One partner's private answer to one round of check-ins (round 0 is the first, then pulses).

    Read by its author and the director only; a skipped round has ``skipped_at`` and can still be answered.
    """

    __tablename__ = "check_ins"
    __table_args__ = (
        UniqueConstraint("pairing_id", "user_id", "round"),
        CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="check_in_score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(default=0)
    fit: Mapped[Fit | None] = mapped_column(string_enum(Fit))
    score: Mapped[int | None]
    # Written for the program director, never shown to the partner.
    note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    skipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PairingPause(db.Model):
    """A pairing paused until a date by one partner (or the director); it resumes then, or earlier."""

    __tablename__ = "pairing_pauses"
    __table_args__ = (Index("ix_pairing_pauses_open", "pairing_id", "resumed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"))
    paused_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    until: Mapped[date]
    # For the partner, optional.
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resumed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ClosingReason(enum.StrEnum):
    GOALS_MET = "goals_met"
    SCHEDULES = "schedules"
    NOT_A_FIT = "not_a_fit"
    LEAVING = "leaving"
    OTHER = "other"


class ClosingSurvey(db.Model):
    """Why a pairing was ended early, answered by whoever ended it. Only the director ever reads it."""

    __tablename__ = "closing_surveys"
    __table_args__ = (CheckConstraint("suitability IS NULL OR suitability BETWEEN 1 AND 5", name="suitability"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), unique=True)
    ended_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    by_director: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[ClosingReason] = mapped_column(string_enum(ClosingReason))
    suitability: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HelpTopic(enum.StrEnum):
    SCHEDULING = "scheduling"
    FIT = "fit"
    GOALS = "goals"
    REMATCH = "rematch"
    OTHER = "other"


class HelpStatus(enum.StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


class HelpRequest(db.Model):
    """A question for the program director. Private: the asker and the director alone see it."""

    __tablename__ = "help_requests"
    __table_args__ = (Index("ix_help_requests_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    pairing_id: Mapped[int | None] = mapped_column(ForeignKey("pairings.id", ondelete="SET NULL"), index=True)
    topic: Mapped[HelpTopic] = mapped_column(string_enum(HelpTopic))
    status: Mapped[HelpStatus] = mapped_column(string_enum(HelpStatus), default=HelpStatus.NEW)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="raise")


class HelpMessage(db.Model):
    """One message of a help request's short thread, from the asker or the director."""

    __tablename__ = "help_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    help_request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    from_director: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CatchUpNote(db.Model):
    """A kind "time for a catch-up?" note sent to a quiet pair; kept so notes stay weeks apart."""

    __tablename__ = "catch_up_notes"
    # One per pair and day: running the job twice on a day sends nothing twice, even when two runs race.
    __table_args__ = (UniqueConstraint("pairing_id", "sent_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"))
    sent_on: Mapped[date]


# Pair health reads each pair's first and last held meeting and their count over every pair of a cycle; this
# covering index answers that from the index alone (four times faster at 60,000 meetings on SQLite).
Index("ix_meetings_pairing_status_start", Meeting.pairing_id, Meeting.status, Meeting.starts_at)
