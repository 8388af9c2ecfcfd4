"""Questionnaire answers: the choice lists, each person's answers step by step, and text drafts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.extensions import db
from portal.models.base import UTCDateTime, string_enum


class Choice(db.Model):
    """One option of a list (skills, values, formats ...), kept in the database for the director to edit."""

    __tablename__ = "choices"
    __table_args__ = (UniqueConstraint("list_name", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(40), index=True)
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


class StepStatus(enum.StrEnum):
    ANSWERED = "answered"
    SKIPPED = "skipped"


class ProfileStep(db.Model):
    """Where a person stands on one question: answered or skipped, and the text of a free-text answer."""

    __tablename__ = "profile_steps"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    question: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[StepStatus] = mapped_column(string_enum(StepStatus))
    text: Mapped[str | None] = mapped_column(Text)
    # Indexed: "Mentors who fit you" reads the steps saved since it last looked (portal/matches/cohort.py).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, index=True)


class ProfileAnswer(db.Model):
    """One chosen option for one question (several rows for a multiple-choice question)."""

    __tablename__ = "profile_answers"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    question: Mapped[str] = mapped_column(String(40), primary_key=True)
    choice_id: Mapped[int] = mapped_column(ForeignKey("choices.id"), primary_key=True, index=True)

    choice: Mapped[Choice] = relationship(lazy="raise")


class Draft(db.Model):
    """Text being typed, autosaved before it is submitted, so nothing typed is lost."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
