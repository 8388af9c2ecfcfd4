"""In-app notifications and the email outbox."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.extensions import db
from portal.models.base import UTCDateTime, string_enum


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(String(300))
    # A path inside the portal; never an outside address.
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxEmail(db.Model):
    """An email waiting to be sent. A row leaves the queue only by being sent; failures are retried."""

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # The same message as simple HTML, extra headers (List-Unsubscribe ...) and a calendar invitation.
    html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict | None] = mapped_column(JSON)
    calendar: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Channel(enum.StrEnum):
    """How one kind of news reaches a person."""

    EMAIL = "email"  # in the portal and by email
    PORTAL = "portal"  # in the portal only
    OFF = "off"


class NotificationSetting(db.Model):
    """A person's choices about what reaches them and how; no row means the defaults."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    meetings: Mapped[Channel] = mapped_column(string_enum(Channel), default=Channel.EMAIL)
    # The reminder an hour before a meeting: in the portal, and by email only when asked for.
    hour_before_by_email: Mapped[bool] = mapped_column(default=False)
    requests: Mapped[Channel] = mapped_column(string_enum(Channel), default=Channel.EMAIL)
    pairings: Mapped[Channel] = mapped_column(string_enum(Channel), default=Channel.EMAIL)
    wall: Mapped[Channel] = mapped_column(string_enum(Channel), default=Channel.PORTAL)
    digest: Mapped[Channel] = mapped_column(string_enum(Channel), default=Channel.EMAIL)
    # 0 is Monday, as in date.weekday().
    digest_day: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Hours of the day (in the person's zone) when no email is sent; None for none.
    quiet_from: Mapped[int | None] = mapped_column(SmallInteger)
    quiet_until: Mapped[int | None] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SentNotice(db.Model):
    """A reminder or digest already sent: a periodic job that runs twice finds it here and sends nothing twice."""

    __tablename__ = "sent_notices"
    __table_args__ = (UniqueConstraint("user_id", "kind", "subject_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    # What it was about: a meeting and its time, a request, a week.
    subject_key: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FailedJob(db.Model):
    """A background job that still failed after its retries, kept for the director to see and retry."""

    __tablename__ = "failed_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    # The job's arguments (ids and plain values), so "Try again" can enqueue it once more.
    arguments: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(String(500))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
