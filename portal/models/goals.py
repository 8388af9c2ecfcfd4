"""Objectives (director), and each pair's goals with their milestones and the mentor's comments."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.extensions import db
from portal.models.accounts import Team, User
from portal.models.base import UTCDateTime, string_enum


class ObjectiveLevel(enum.StrEnum):
    TEAM = "team"
    PRODUCT = "product"
    COMPANY = "company"


class Objective(db.Model):
    """A team, product or company objective that goals can support; reports roll up by it."""

    __tablename__ = "objectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    level: Mapped[ObjectiveLevel] = mapped_column(string_enum(ObjectiveLevel))
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner_team: Mapped[Team | None] = relationship(lazy="raise")


class GoalStatus(enum.StrEnum):
    ACTIVE = "active"
    ACHIEVED = "achieved"
    SET_ASIDE = "set_aside"


class Goal(db.Model):
    """A SMART goal of a pairing: outcome, measure and target, due date, skills, project, objective."""

    __tablename__ = "goals"
    __table_args__ = (Index("ix_goals_pairing_status", "pairing_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(120))
    outcome: Mapped[str] = mapped_column(Text)
    measure: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date]
    project: Mapped[str] = mapped_column(String(200))
    objective_id: Mapped[int | None] = mapped_column(ForeignKey("objectives.id"), index=True)
    status: Mapped[GoalStatus] = mapped_column(string_enum(GoalStatus), default=GoalStatus.ACTIVE)
    # A short reflection when the goal is achieved or set aside; never a failure label.
    reflection: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic concurrency: an edit made against an older version is shown, never applied blindly.
    version: Mapped[int] = mapped_column(default=1)

    objective: Mapped[Objective | None] = relationship(lazy="raise")
    milestones: Mapped[list[Milestone]] = relationship(
        lazy="raise", order_by="Milestone.position", cascade="all, delete-orphan", back_populates="goal"
    )

    # Every UPDATE of a goal is "... WHERE id = ? AND version = ?" and raises StaleDataError when it matched
    # no row, so two saves made against one version can never both land (the check happens in the database).
    __mapper_args__ = {"version_id_col": version}


class GoalSkill(db.Model):
    """A soft skill (from the questionnaire's skills list) that a goal builds."""

    __tablename__ = "goal_skills"

    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True)
    choice_id: Mapped[int] = mapped_column(ForeignKey("choices.id"), primary_key=True, index=True)


class Milestone(db.Model):
    """A step towards a goal, with a due date; progress follows the milestones done."""

    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date | None]
    position: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    goal: Mapped[Goal] = relationship(lazy="raise", back_populates="milestones")


class GoalComment(db.Model):
    """The mentor's comment or suggestion on a goal (the mentee drives; the mentor never overwrites)."""

    __tablename__ = "goal_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    is_suggestion: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(lazy="raise")
