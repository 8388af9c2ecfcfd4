"""What the impact report is built from: skill baselines, end-of-pairing retrospectives, the sponsor's message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.extensions import db
from portal.models.base import UTCDateTime
from portal.models.goals import Goal
from portal.models.journals import Meeting


class SkillBaseline(db.Model):
    """Where a person feels they are today (1 to 5) on a soft skill they want to grow; optional."""

    __tablename__ = "skill_baselines"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="baseline_level"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    choice_id: Mapped[int] = mapped_column(ForeignKey("choices.id"), primary_key=True)
    level: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Retrospective(db.Model):
    """One partner's look back at an ended pairing: answered, or skipped (which is always fine).

    The free text is read by the director alone, without names, and only once enough people answered;
    ``cycle_id`` and ``role`` are copied from the pairing so the report reads one table.
    """

    __tablename__ = "retrospectives"
    __table_args__ = (
        UniqueConstraint("pairing_id", "user_id"),
        Index("ix_retrospectives_cycle", "cycle_id", "answered_at"),
        CheckConstraint("recommend BETWEEN 0 AND 10", name="recommend_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # "mentee" or "mentor"
    # Goal ids the person says were reached (prefilled with the goals marked achieved).
    goals_reached: Mapped[list] = mapped_column(JSON, default=list)
    recommend: Mapped[int | None]
    went_well: Mapped[str | None] = mapped_column(Text)
    to_change: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    skipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RetrospectiveSkill(db.Model):
    """A skill's self-rating at the retrospective, beside the baseline the person gave before (if any)."""

    __tablename__ = "retrospective_skills"
    __table_args__ = (
        CheckConstraint("level_after BETWEEN 1 AND 5", name="after_level"),
        CheckConstraint("level_before IS NULL OR level_before BETWEEN 1 AND 5", name="before_level"),
    )

    retrospective_id: Mapped[int] = mapped_column(ForeignKey("retrospectives.id", ondelete="CASCADE"), primary_key=True)
    choice_id: Mapped[int] = mapped_column(ForeignKey("choices.id"), primary_key=True, index=True)
    level_before: Mapped[int | None]
    level_after: Mapped[int]


class SponsorMessage(db.Model):
    """The executive sponsor's message on the program page, written by the director; each edit is a new row."""

    __tablename__ = "sponsor_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sponsor_name: Mapped[str] = mapped_column(String(80))
    sponsor_title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Covering indexes for the impact report: its per-pair meeting counts and goal roll-ups read these columns
# only, so the database answers from the index without visiting 60,000 meeting or 20,000 goal rows.
Index("ix_meetings_report", Meeting.pairing_id, Meeting.status, Meeting.reschedules)
Index("ix_goals_report", Goal.pairing_id, Goal.status, Goal.due_on, Goal.closed_at, Goal.objective_id)
