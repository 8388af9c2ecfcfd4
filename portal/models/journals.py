"""A pair's meetings: planned, held or cancelled; their shared notes, private reflections and action items."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.extensions import db
from portal.models.accounts import User
from portal.models.base import UTCDateTime, string_enum


class MeetingStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class Meeting(db.Model):
    """One session of a pair: planned (with a time), held (logged), or cancelled with a reason."""

    __tablename__ = "meetings"
    __table_args__ = (
        # The journal timeline: a pair's meetings, newest first.
        Index("ix_meetings_pairing_timeline", "pairing_id", "starts_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"))
    status: Mapped[MeetingStatus] = mapped_column(string_enum(MeetingStatus), default=MeetingStatus.PLANNED)
    # When it is (or was) planned to start; for a meeting logged after the fact, when it was held.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(default=30)
    format: Mapped[str] = mapped_column(String(20))  # a key of the "formats" choice list
    held_on: Mapped[date | None]
    topics: Mapped[str | None] = mapped_column(Text)
    # Why it was cancelled or last moved; the other person is told.
    change_reason: Mapped[str | None] = mapped_column(String(300))
    reschedules: Mapped[int] = mapped_column(default=0)
    planned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Shared notes live on the meeting: both partners edit them; the version number catches overwrites.
    notes: Mapped[str] = mapped_column(Text, default="")
    notes_version: Mapped[int] = mapped_column(default=0)
    notes_updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notes_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PairingActivity(db.Model):
    """A pairing's activity and signals as health reads them, kept up to date by ``portal.journals.activity``
    whenever a meeting, check-in, question for the director or pause of the pair changes. The director's board
    judges thousands of pairs on each visit; reading these beats working them out from every row each time.
    Metadata only: no note or message text."""

    __tablename__ = "pairing_activity"

    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), primary_key=True)
    # Meetings held, and the first and last day one was (UTC days).
    held_meetings: Mapped[int] = mapped_column(default=0)
    first_held_on: Mapped[date | None]
    last_held_on: Mapped[date | None]
    # Meetings cancelled, and meetings moved to another time at least once (the impact report counts both).
    cancelled_meetings: Mapped[int] = mapped_column(default=0, server_default="0")
    moved_meetings: Mapped[int] = mapped_column(default=0, server_default="0")
    # Questions for the director about the pair that are not resolved.
    open_help: Mapped[int] = mapped_column(default=0, server_default="0")
    # The latest day a pause not yet resumed runs to (a pause whose day has passed has ended by itself).
    paused_until: Mapped[date | None]
    # Whether either partner answered the first check-in with "Not a good fit".
    said_not_a_fit: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # The lower of the two partners' latest answered pulse scores.
    lowest_latest_pulse: Mapped[int | None]


class NoteVersion(db.Model):
    """The shared notes' text as saved at one version, so a merge can show what each person changed since
    the version they started from (the base of a three-way merge)."""

    __tablename__ = "note_versions"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MeetingGoal(db.Model):
    """A goal that a held meeting moved forward."""

    __tablename__ = "meeting_goals"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True, index=True)


class Reflection(db.Model):
    """One person's private reflection on a meeting: readable by its author alone, ever."""

    __tablename__ = "reflections"
    __table_args__ = (UniqueConstraint("meeting_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ActionItem(db.Model):
    """Something one partner will do before a due date, ticked off in place."""

    __tablename__ = "action_items"
    __table_args__ = (Index("ix_action_items_owner_open", "owner_id", "done_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date | None]
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="raise")
