"""People, their teams and their roles."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.extensions import db
from portal.models.base import UTCDateTime, string_enum


class Role(enum.StrEnum):
    PARTICIPANT = "participant"
    DIRECTOR = "director"


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased so that sign-in and uniqueness ignore case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        string_enum(Role),
        default=Role.PARTICIPANT,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the person finishes the questionnaire's review; answers stay editable afterwards.
    onboarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on sign-out and password change so that old session cookies stop working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    # An IANA zone name ("Europe/Berlin"); None means the organisation's default (clock.zone_for).
    timezone: Mapped[str | None] = mapped_column(String(64))

    team: Mapped[Team] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_director(self) -> bool:
        return self.role == Role.DIRECTOR

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"


class PendingRegistration(db.Model):
    """A registration waiting for its emailed link: nothing is an account until the address is shown to be theirs.

    One row per address (registering again updates it, so the link already sent keeps working); the row is
    deleted when the account is created. The password is stored only as its argon2id hash.
    """

    __tablename__ = "pending_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, like users.email.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    team_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Carried in the link with the id: a link made for an earlier row with the same id never opens this one.
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the link was last emailed: a form sent twice (or many times) sends one email, not one each.
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
