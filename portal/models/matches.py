"""Requests from mentees to mentors, the pairings that come of them, and the director's matching runs."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.extensions import db
from portal.models.accounts import User
from portal.models.base import UTCDateTime, string_enum


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class MentorRequest(db.Model):
    """A mentee asking one mentor, with a note and a proposed rhythm."""

    __tablename__ = "mentor_requests"
    __table_args__ = (
        Index("ix_mentor_requests_mentee_status", "cycle_id", "mentee_id", "status"),
        Index("ix_mentor_requests_mentor_status", "cycle_id", "mentor_id", "status"),
        Index("ix_mentor_requests_due", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(Text)
    rhythm: Mapped[str] = mapped_column(String(20))
    status: Mapped[RequestStatus] = mapped_column(string_enum(RequestStatus), default=RequestStatus.OPEN)
    score: Mapped[int] = mapped_column(default=0)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The mentor's message on accepting or declining; shown to the mentee alone.
    response: Mapped[str | None] = mapped_column(Text)

    mentee: Mapped[User] = relationship(foreign_keys=[mentee_id], lazy="raise")
    mentor: Mapped[User] = relationship(foreign_keys=[mentor_id], lazy="raise")


class PairingStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class PairingEnd(enum.StrEnum):
    """How an ended pairing ended: with its cycle, or earlier (by a partner or the director)."""

    COMPLETED = "completed"
    CLOSED_EARLY = "closed_early"


class Pairing(db.Model):
    """A mentor and a mentee inside a cycle, with the reasons they were matched."""

    __tablename__ = "pairings"
    __table_args__ = (
        # A mentee has one active pairing per cycle, whatever races happen above.
        Index(
            "uq_pairings_active_mentee",
            "cycle_id",
            "mentee_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_pairings_mentor", "cycle_id", "mentor_id", "status"),
        # "This person's pairings" (home, the wall, retrospectives) asks mentor_id = ? OR mentee_id = ?: with an
        # index on each side SQLite and PostgreSQL read the few rows, not the whole cycle.
        Index("ix_pairings_mentor_id", "mentor_id"),
        Index("ix_pairings_mentee_id", "mentee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[PairingStatus] = mapped_column(string_enum(PairingStatus), default=PairingStatus.ACTIVE)
    source: Mapped[str] = mapped_column(String(20))  # "request" or "director"
    score: Mapped[int] = mapped_column(default=0)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_kind: Mapped[PairingEnd | None] = mapped_column(string_enum(PairingEnd))

    mentor: Mapped[User] = relationship(foreign_keys=[mentor_id], lazy="raise")
    mentee: Mapped[User] = relationship(foreign_keys=[mentee_id], lazy="raise")

    def is_mentee(self, user) -> bool:
        """Whether ``user`` is this pairing's mentee (who drives its goals)."""
        return user is not None and self.mentee_id == getattr(user, "id", None)

    def is_mentor(self, user) -> bool:
        """Whether ``user`` is this pairing's mentor."""
        return user is not None and self.mentor_id == getattr(user, "id", None)


class MentorMark(db.Model):
    """A mentee's private note on a recommended mentor: saved for later, or hidden from the list."""

    __tablename__ = "mentor_marks"
    __table_args__ = (UniqueConstraint("cycle_id", "mentee_id", "mentor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # "saved" or "hidden"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    PUBLISHED = "published"


class MatchingRun(db.Model):
    """The director's "Match the rest": a proposal to review before anything is published."""

    __tablename__ = "matching_runs"
    __table_args__ = (
        # One running run per cycle, whatever races happen when "Match the rest" is pressed several times.
        Index(
            "uq_matching_runs_running_cycle",
            "cycle_id",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[RunStatus] = mapped_column(string_enum(RunStatus), default=RunStatus.RUNNING)
    stage: Mapped[str] = mapped_column(String(40), default="starting")
    progress: Mapped[float] = mapped_column(default=0.0)
    # [{"mentee_id": 1, "reason": "..."}] for the mentees the run could not match.
    unmatched: Mapped[list] = mapped_column(JSON, default=list)
    # The cycle's minimum score when the run was computed: the review flags pairs close to it.
    min_score: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Written by the worker as it goes; a running run whose heartbeat stopped lost its worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProposedPair(db.Model):
    """One pair a matching run proposes; the director can drop or swap it before publishing."""

    __tablename__ = "proposed_pairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("matching_runs.id", ondelete="CASCADE"), index=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(default=0)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    dropped: Mapped[bool] = mapped_column(default=False)

    mentee: Mapped[User] = relationship(foreign_keys=[mentee_id], lazy="raise")
    mentor: Mapped[User] = relationship(foreign_keys=[mentor_id], lazy="raise")
