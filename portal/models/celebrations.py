"""The celebration wall: posts (proposed, shared or kept private), reactions and private reports."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.extensions import db
from portal.models.accounts import Team, User
from portal.models.base import UTCDateTime, string_enum


class CelebrationKind(enum.StrEnum):
    MILESTONE = "milestone"
    GOAL = "goal"
    FIRST_MEETING = "first_meeting"
    CYCLE_COMPLETED = "cycle_completed"
    KUDOS = "kudos"


class CelebrationStatus(enum.StrEnum):
    # Proposed to its subject (or kudos waiting for them): visible to the subject (and a kudos giver) only.
    PROPOSED = "proposed"
    PUBLISHED = "published"
    # Dismissed by its subject: never shown to anyone else; a kudos giver only ever hears "delivered".
    DISMISSED = "dismissed"


class CelebrationAudience(enum.StrEnum):
    EVERYONE = "everyone"
    PAIR = "pair"


class Celebration(db.Model):
    """A post about someone's progress; on the wall only when its subject chose to share it with everyone."""

    __tablename__ = "celebrations"
    __table_args__ = (
        # The wall, newest first, read with a keyset cursor on (published_at, id); one index per filter. The wall's
        # own index also carries what decides visibility and the kind, so the month's totals never touch the table.
        Index("ix_celebrations_wall", "published_at", "id", "status", "audience", "hidden_at", "deleted_at", "kind"),
        Index("ix_celebrations_skill_wall", "skill_key", "published_at", "id"),
        Index("ix_celebrations_team_wall", "team_id", "published_at", "id"),
        Index("ix_celebrations_cycle_wall", "cycle_id", "published_at", "id"),
        # "Waiting for your choice" and "your posts".
        Index("ix_celebrations_subject_status", "subject_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CelebrationKind] = mapped_column(string_enum(CelebrationKind))
    status: Mapped[CelebrationStatus] = mapped_column(
        string_enum(CelebrationStatus), default=CelebrationStatus.PROPOSED
    )
    audience: Mapped[CelebrationAudience] = mapped_column(
        string_enum(CelebrationAudience), default=CelebrationAudience.EVERYONE
    )
    # The person celebrated; for a proposal also its author. For kudos the author is the giver.
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    skill_key: Mapped[str | None] = mapped_column(String(60))  # a key of the "skills" choice list
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"))
    # The subject's team when the post was shared, so a later move does not rewrite the wall's history.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    pairing_id: Mapped[int | None] = mapped_column(ForeignKey("pairings.id", ondelete="SET NULL"), index=True)
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Reaction counts kept on the post (moved with each reaction given or taken back) so the wall never counts a
    # million rows.
    clap_count: Mapped[int] = mapped_column(default=0)
    heart_count: Mapped[int] = mapped_column(default=0)
    sparkle_count: Mapped[int] = mapped_column(default=0)

    subject: Mapped[User] = relationship(foreign_keys=[subject_id], lazy="raise")
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="raise")
    team: Mapped[Team | None] = relationship(lazy="raise")

    @property
    def on_wall(self) -> bool:
        """Shared with everyone, and neither hidden by the director nor deleted."""
        return (
            self.status == CelebrationStatus.PUBLISHED
            and self.audience == CelebrationAudience.EVERYONE
            and self.hidden_at is None
            and self.deleted_at is None
        )

    def count_of(self, reaction: str) -> int:
        return getattr(self, f"{reaction}_count")


class CelebrationReaction(db.Model):
    """One person's reaction of one kind to a post (given, or taken back by deleting it)."""

    __tablename__ = "celebration_reactions"

    celebration_id: Mapped[int] = mapped_column(ForeignKey("celebrations.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CelebrationReport(db.Model):
    """A private report about a post, read by the director alone."""

    __tablename__ = "celebration_reports"
    __table_args__ = (UniqueConstraint("celebration_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    celebration_id: Mapped[int] = mapped_column(ForeignKey("celebrations.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the director hid the post or kept it on the wall.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
