"""Program cycles and who takes part in each."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.extensions import db
from portal.models.accounts import User
from portal.models.base import UTCDateTime, string_enum


class Cycle(db.Model):
    """One run of the program, with its enrolment and matching windows and its dates."""

    __tablename__ = "cycles"
    __table_args__ = (
        # At most one current cycle, enforced by the database as well as by the form.
        Index(
            "uq_cycles_one_current",
            "is_current",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        CheckConstraint("request_expiry_days BETWEEN 1 AND 60", name="expiry_days"),
        CheckConstraint("default_capacity BETWEEN 1 AND 5", name="default_capacity"),
        CheckConstraint("min_score BETWEEN 0 AND 100", name="min_score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    enrolment_opens_on: Mapped[date]
    enrolment_closes_on: Mapped[date]
    matching_opens_on: Mapped[date]
    matching_closes_on: Mapped[date]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    request_expiry_days: Mapped[int] = mapped_column(default=7)
    default_capacity: Mapped[int] = mapped_column(default=2)
    is_current: Mapped[bool] = mapped_column(default=False)
    # Matching weights the director tuned for this cycle (see portal.matching.Weights); empty means defaults.
    weights: Mapped[dict] = mapped_column(JSON, default=dict)
    # "Match the rest" never proposes a pair scoring less: better no match than a poor one.
    min_score: Mapped[int] = mapped_column(default=30, server_default="30")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def enrolment_open(self, today: date) -> bool:
        """People may enrol, or change how they take part, from enrolment opening until matching closes."""
        return self.enrolment_opens_on <= today <= self.matching_closes_on

    def matching_open(self, today: date) -> bool:
        return self.matching_opens_on <= today <= self.matching_closes_on


class EnrolmentRole(enum.StrEnum):
    MENTEE = "mentee"
    MENTOR = "mentor"
    BOTH = "both"


class Enrolment(db.Model):
    """A person taking part in a cycle, as mentee, mentor or both."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("cycle_id", "user_id"),
        CheckConstraint("capacity BETWEEN 1 AND 5", name="capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[EnrolmentRole] = mapped_column(string_enum(EnrolmentRole))
    capacity: Mapped[int] = mapped_column(default=2)
    paused: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="raise")
    cycle: Mapped[Cycle] = relationship(lazy="raise")

    @property
    def mentors(self) -> bool:
        return self.role in (EnrolmentRole.MENTOR, EnrolmentRole.BOTH)

    @property
    def mentored(self) -> bool:
        return self.role in (EnrolmentRole.MENTEE, EnrolmentRole.BOTH)
