"""Objectives (director) and a pair's SMART goals: milestones, progress, status, comments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, case, delete, func, select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal.clock import utcnow
from portal.dates import format_day
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.extensions import db
from portal.models import (
    Choice,
    Cycle,
    Goal,
    GoalComment,
    GoalSkill,
    GoalStatus,
    Milestone,
    Objective,
    ObjectiveLevel,
    Pairing,
    Team,
    User,
)
from portal.notifications.services import notify

MAX_SKILLS = 3
TEXT_MAX = 2000
COMMENT_MAX = 2000


class NotYours(Exception):
    """The person is in the pair but this action belongs to the other one (the mentee drives goals)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Objectives


def objectives(*, active_only: bool = False) -> list[Objective]:
    """Objectives, active first, by level and title, with their owner team loaded."""
    query = select(Objective).options(joinedload(Objective.owner_team))
    if active_only:
        query = query.where(Objective.is_active.is_(True))
    return list(db.session.scalars(query.order_by(Objective.is_active.desc(), Objective.level, Objective.title)))


def save_objective(
    objective: Objective | None, *, title: str, level: str, owner_team_id: int | None, is_active: bool
) -> Objective:
    """Create or update an objective. Raises ValidationFailed (title, level, owner_team_id)."""
    errors = {}
    title = " ".join((title or "").split())
    if not title:
        errors["title"] = "Please give the objective a short title."
    elif len(title) > 120:
        errors["title"] = "Please keep the title to 120 characters."
    try:
        chosen_level = ObjectiveLevel(level)
    except ValueError:
        errors["level"] = "Please choose team, product or company."
        chosen_level = None
    if owner_team_id is not None and db.session.get(Team, owner_team_id) is None:
        errors["owner_team_id"] = "Please choose a team from the list."
    if errors:
        raise ValidationFailed(errors)
    if objective is None:
        objective = Objective(title=title, level=chosen_level, owner_team_id=owner_team_id, is_active=is_active)
        db.session.add(objective)
    else:
        objective.title, objective.level = title, chosen_level
        objective.owner_team_id, objective.is_active = owner_team_id, is_active
    db.session.flush()
    return objective


# Goals


@dataclass
class GoalInput:
    title: str = ""
    outcome: str = ""
    measure: str = ""
    target: str = ""
    due_on: date | None = None
    project: str = ""
    skills: list[str] = field(default_factory=list)
    objective_id: int | None = None


def cycle_span(cycle: Cycle) -> tuple[date, date]:
    """The dates a goal or milestone may fall on: from enrolment opening to the program's end."""
    return cycle.enrolment_opens_on, cycle.ends_on


def _check_date(errors: dict, name: str, value: date | None, cycle: Cycle, today: date, *, required: bool) -> None:
    if value is None:
        if required:
            errors[name] = "Please choose a date, for example " + today.isoformat() + "."
        return
    first, last = cycle_span(cycle)
    if value < today:
        errors[name] = "Please choose a date from today on."
    elif not first <= value <= last:
        errors[name] = f"Please choose a date inside the cycle, by {format_day(last)}."


def _skill_choices(keys: list[str]) -> dict[str, Choice]:
    found = db.session.scalars(
        select(Choice).where(Choice.list_name == "skills", Choice.key.in_(keys), Choice.is_active.is_(True))
    )
    return {choice.key: choice for choice in found}


def _validate_goal(data: GoalInput, cycle: Cycle, today: date) -> dict[str, Choice]:
    errors: dict[str, str] = {}
    required = {
        "title": ("Please give the goal a short title.", 120),
        "outcome": ("Please describe the specific outcome you are aiming for.", TEXT_MAX),
        "measure": ("Please say how you will measure success; this is what makes progress visible.", TEXT_MAX),
        "target": ("Please give the target you will measure against.", 200),
        "project": ("Please name the real piece of work you will practise on.", 200),
    }
    for name, (message, limit) in required.items():
        value = (getattr(data, name) or "").strip()
        if not value:
            errors[name] = message
        elif len(value) > limit:
            errors[name] = f"Please keep this to {limit} characters; it is {len(value)} now."
    _check_date(errors, "due_on", data.due_on, cycle, today, required=True)
    picked = list(dict.fromkeys(data.skills))
    skills = _skill_choices(picked)
    if not picked:
        errors["skills"] = "Please choose at least one soft skill this goal builds."
    elif len(picked) > MAX_SKILLS:
        errors["skills"] = f"Please choose up to {MAX_SKILLS} skills; you chose {len(picked)}."
    elif len(skills) != len(picked):
        errors["skills"] = "Please choose skills from the list shown."
    if data.objective_id is not None:
        objective = db.session.get(Objective, data.objective_id)
        if objective is None or not objective.is_active:
            errors["objective_id"] = "Please choose an objective from the list, or none."
    if errors:
        raise ValidationFailed(errors)
    return skills


def _set_skills(goal_id: int, skills: dict[str, Choice]) -> None:
    db.session.execute(delete(GoalSkill).where(GoalSkill.goal_id == goal_id))
    db.session.add_all(GoalSkill(goal_id=goal_id, choice_id=choice.id) for choice in skills.values())


def skill_keys_of(goal: Goal) -> set[str]:
    """The keys of the skills a goal builds (one query)."""
    return set(
        db.session.scalars(
            select(Choice.key).join(GoalSkill, GoalSkill.choice_id == Choice.id).where(GoalSkill.goal_id == goal.id)
        )
    )


def _require_mentee(pairing: Pairing, user: User) -> None:
    if not pairing.is_mentee(user):
        raise NotYours("Goals belong to the mentee, who drives them. You can comment or suggest a change instead.")


def create_goal(pairing: Pairing, user: User, data: GoalInput, *, today: date) -> Goal:
    """The mentee sets a goal for their pairing; the mentor is told.

    Raises NotYours for the mentor, ValidationFailed for a missing measure, a date outside the cycle or in the
    past, an unknown skill or objective, or over-long text.
    """
    _require_mentee(pairing, user)
    cycle = db.session.get(Cycle, pairing.cycle_id)
    skills = _validate_goal(data, cycle, today)
    goal = Goal(
        pairing_id=pairing.id,
        title=data.title.strip(),
        outcome=data.outcome.strip(),
        measure=data.measure.strip(),
        target=data.target.strip(),
        due_on=data.due_on,
        project=data.project.strip(),
        objective_id=data.objective_id,
        created_by_id=user.id,
    )
    db.session.add(goal)
    db.session.flush()
    _set_skills(goal.id, skills)
    db.session.flush()
    mentor = db.session.get(User, pairing.mentor_id)
    notify(
        mentor,
        f"{user.display_name} set a new goal: \u201c{goal.title}\u201d.",
        endpoint="goals.show",
        goal_id=goal.id,
        kind="pairings",
    )
    return goal


class StaleVersion(Exception):
    """Someone saved the goal after this edit began; the current goal is in ``current``."""

    def __init__(self, current: Goal):
        super().__init__("stale")
        self.current = current


def update_goal(goal: Goal, pairing: Pairing, user: User, data: GoalInput, *, version: int, today: date) -> Goal:
    """Change a goal the mentee owns, only if nobody saved it since ``version``.

    Raises NotYours, ValidationFailed, or StaleVersion (nothing is changed then), also when another save of the
    same version won a race with this one.
    """
    _require_mentee(pairing, user)
    cycle = db.session.get(Cycle, pairing.cycle_id)
    if data.due_on == goal.due_on and data.due_on is not None and data.due_on < today:
        # An existing due date that has passed may stay as it is; only a new date must be in the future.
        today = data.due_on
    skills = _validate_goal(data, cycle, today)
    if goal.version != version:
        raise StaleVersion(goal)
    # The goal's row is written first, in one UPDATE ... WHERE id = ? AND version = ? (the check Goal's
    # version_id_col makes for the ORM, without a savepoint to recover from its error): on PostgreSQL a second
    # save of the same version waits for the first one's row lock and then matches no row. Always an UPDATE (and
    # a new version), even when only the skills change.
    saved = db.session.execute(
        update(Goal)
        .where(Goal.id == goal.id, Goal.version == version)
        .values(
            title=data.title.strip(), outcome=data.outcome.strip(), measure=data.measure.strip(),
            target=data.target.strip(), due_on=data.due_on, project=data.project.strip(),
            objective_id=data.objective_id, updated_at=utcnow(), version=Goal.version + 1,
        ),
        execution_options={"synchronize_session": False},
    ).rowcount  # fmt: skip
    goal_id = goal.id
    db.session.expire(goal)  # read again, with its new version, only when someone looks
    if not saved:
        raise StaleVersion(goal)
    _set_skills(goal_id, skills)
    db.session.flush()
    return goal


def set_status(goal: Goal, pairing: Pairing, user: User, *, status: str, reflection: str, now: datetime) -> Goal:
    """Mark a goal achieved, set aside (with a short reflection) or active again.

    Raises NotYours for the mentor, ValidationFailed for an unknown status or a missing or over-long reflection,
    Conflict when the goal was saved by another request meanwhile.
    """
    _require_mentee(pairing, user)
    try:
        chosen = GoalStatus(status)
    except ValueError:
        raise ValidationFailed({"status": "Please choose one of the options."}) from None
    reflection = (reflection or "").strip()
    if chosen == GoalStatus.SET_ASIDE and not reflection:
        raise ValidationFailed(
            {"reflection": "A sentence on what you learned helps; setting a goal aside is part of growing."}
        )
    if len(reflection) > TEXT_MAX:
        raise ValidationFailed({"reflection": f"Please keep this to {TEXT_MAX} characters."})
    goal.status = chosen
    goal.reflection = reflection or None
    goal.closed_at = None if chosen == GoalStatus.ACTIVE else now
    try:
        with db.session.begin_nested():
            db.session.flush()
    except StaleDataError:
        raise Conflict() from None
    if chosen == GoalStatus.ACHIEVED:
        _propose(user, kind="goal", text=f"I achieved my goal: {goal.title}", pairing=pairing, goal=goal)
    return goal


def add_milestone(goal: Goal, pairing: Pairing, user: User, *, title: str, due_on: date | None, today: date):
    """Add a step to a goal (the mentee). Raises NotYours or ValidationFailed (title, milestone_due_on)."""
    _require_mentee(pairing, user)
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["milestone_title"] = "Please name the step."
    elif len(title) > 200:
        errors["milestone_title"] = "Please keep this to 200 characters."
    _check_date(errors, "milestone_due_on", due_on, db.session.get(Cycle, pairing.cycle_id), today, required=False)
    if errors:
        raise ValidationFailed(errors)
    position = db.session.scalar(select(func.count()).select_from(Milestone).where(Milestone.goal_id == goal.id))
    milestone = Milestone(goal_id=goal.id, title=title, due_on=due_on, position=position)
    db.session.add(milestone)
    db.session.flush()
    return milestone


def set_milestone_done(
    milestone: Milestone, goal: Goal, pairing: Pairing, user: User, *, done: bool, now: datetime
) -> bool:
    """Mark a milestone done or not done, as the form asked; either partner may. Return whether it changed.

    Idempotent: a double click or a retried request sets the same state again and changes nothing. The
    write is one conditional UPDATE, so of two people ticking at once exactly one changes the row, and a
    celebration is proposed to the mentee once.
    """
    wanted = Milestone.done_at.is_(None) if done else Milestone.done_at.is_not(None)
    values = {"done_at": now, "done_by_id": user.id} if done else {"done_at": None, "done_by_id": None}
    changed = db.session.execute(
        update(Milestone).where(Milestone.id == milestone.id, wanted).values(values),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.expire(milestone, ["done_at", "done_by_id"])  # read again only by whoever shows it
    if changed and done:
        mentee = db.session.get(User, pairing.mentee_id)
        _propose(mentee, kind="milestone", text=f"I reached a milestone: {milestone.title}", pairing=pairing,
                 goal=goal, milestone=milestone)  # fmt: skip
    return bool(changed)


def _propose(user: User, *, kind: str, text: str, pairing: Pairing, goal: Goal, milestone: Milestone | None = None):
    """Offer the person a celebration post about this progress (never posted without their choice)."""
    try:
        from portal.celebrations.services import propose_celebration
    except ImportError:  # the wall is optional for goals to work
        return
    skill_key = db.session.scalar(
        select(Choice.key).join(GoalSkill, GoalSkill.choice_id == Choice.id).where(GoalSkill.goal_id == goal.id)
    )
    propose_celebration(
        user,
        kind=kind,
        text=text,
        pairing_id=pairing.id,
        goal_id=goal.id,
        milestone_id=milestone.id if milestone else None,
        skill_key=skill_key,
        cycle_id=pairing.cycle_id,
    )


def add_comment(goal: Goal, pairing: Pairing, user: User, *, body: str, is_suggestion: bool) -> GoalComment:
    """A comment, or the mentor's suggestion, on a goal; the other partner is told.

    Raises ValidationFailed (comment) for empty or over-long text.
    """
    body = (body or "").strip()
    if not body:
        raise ValidationFailed({"comment": "Please write your comment first."})
    if len(body) > COMMENT_MAX:
        raise ValidationFailed({"comment": f"Please keep this to {COMMENT_MAX} characters; it is {len(body)} now."})
    comment = GoalComment(goal_id=goal.id, author_id=user.id, body=body, is_suggestion=is_suggestion)
    db.session.add(comment)
    db.session.flush()
    other = pairing.mentee_id if user.id == pairing.mentor_id else pairing.mentor_id
    word = "suggested a change to" if is_suggestion else "commented on"
    notify(
        db.session.get(User, other),
        f"{user.display_name} {word} \u201c{goal.title}\u201d.",
        endpoint="goals.show",
        goal_id=goal.id,
        kind="pairings",
    )
    return comment


@dataclass
class GoalView:
    """A goal with what its card shows: milestones, skills, comments, progress."""

    goal: Goal
    skills: list[Choice]
    comments: list[GoalComment]

    @property
    def milestones(self) -> list[Milestone]:
        return self.goal.milestones

    @property
    def progress(self) -> int:
        """Percent of milestones done (100 once achieved)."""
        if self.goal.status == GoalStatus.ACHIEVED:
            return 100
        total = len(self.goal.milestones)
        done = sum(1 for m in self.goal.milestones if m.done_at is not None)
        return round(100 * done / total) if total else 0


def goal_views(goal_ids_or_pairing: Pairing | list[int]) -> list[GoalView]:
    """Goals of a pairing (or the given goals) for display, in four queries whatever their number."""
    query = select(Goal).options(selectinload(Goal.milestones), joinedload(Goal.objective))
    if isinstance(goal_ids_or_pairing, Pairing):
        query = query.where(Goal.pairing_id == goal_ids_or_pairing.id)
    else:
        query = query.where(Goal.id.in_(goal_ids_or_pairing))
    goals = list(db.session.scalars(query.order_by(Goal.status, Goal.due_on, Goal.id)).unique())
    ids = [goal.id for goal in goals]
    skills: dict[int, list[Choice]] = {goal_id: [] for goal_id in ids}
    comments: dict[int, list[GoalComment]] = {goal_id: [] for goal_id in ids}
    if ids:
        for goal_id, choice in db.session.execute(
            select(GoalSkill.goal_id, Choice)
            .join(Choice, Choice.id == GoalSkill.choice_id)
            .where(GoalSkill.goal_id.in_(ids))
            .order_by(Choice.position)
        ):
            skills[goal_id].append(choice)
        for comment in db.session.scalars(
            select(GoalComment)
            .options(joinedload(GoalComment.author))
            .where(GoalComment.goal_id.in_(ids))
            .order_by(GoalComment.created_at, GoalComment.id)
        ):
            comments[comment.goal_id].append(comment)
    return [GoalView(goal, skills[goal.id], comments[goal.id]) for goal in goals]


def _goal_stamps_select():
    """The select behind goal_stamps, built once (it has seven correlated subqueries: building it and its cache
    key on every request cost more than running it)."""
    milestones = (
        select(
            func.count(Milestone.id),
            func.max(Milestone.id),
            func.count(Milestone.done_at),
            func.max(Milestone.done_at),
            func.coalesce(func.sum(case((Milestone.done_at.is_not(None), Milestone.id), else_=0)), 0),
        )
        .where(Milestone.goal_id == Goal.id)
        .correlate(Goal)
    )
    comments = select(func.count(GoalComment.id), func.max(GoalComment.id)).where(GoalComment.goal_id == Goal.id)
    m_count, m_last, m_done, m_done_at, m_done_ids = (
        milestones.with_only_columns(column).scalar_subquery() for column in milestones.selected_columns
    )
    c_count, c_last = (
        comments.correlate(Goal).with_only_columns(column).scalar_subquery() for column in comments.selected_columns
    )
    return (
        select(
            Goal.id,
            Goal.version,
            Goal.status,
            Objective.title,
            Objective.level,
            m_count,
            m_last,
            m_done,
            m_done_at,
            m_done_ids,
            c_count,
            c_last,
        )  # fmt: skip
        .outerjoin(Objective, Objective.id == Goal.objective_id)
        .where(Goal.pairing_id == bindparam("pairing_id"))
        .order_by(Goal.status, Goal.due_on, Goal.id)
    )


_GOAL_STAMPS = _goal_stamps_select()


def goal_stamps(pairing: Pairing) -> list[tuple]:
    """The pairing's goals in the order of ``goal_views``, each as what changes whenever its card changes:
    (id, version, status, objective title and level, then its milestones' and comments' fingerprints).
    One query, no ORM objects.

    The goal's version moves with every edit of the goal itself (skills included); milestones and comments
    are fingerprinted here rather than by touching the goal, so that a tick or a comment never makes the
    mentee's open edit stale.
    """
    return [tuple(row) for row in db.session.execute(_GOAL_STAMPS, {"pairing_id": pairing.id})]


class LazyGoalViews:
    """``goal_views(pairing)`` by goal id, loaded on first use: a page whose cards all come from the fragment
    cache loads none of them; one that misses any loads all at once (a fixed number of queries either way)."""

    def __init__(self, pairing: Pairing):
        self.pairing = pairing
        self._views: dict[int, GoalView] | None = None

    def __getitem__(self, goal_id: int) -> GoalView:
        if self._views is None:
            self._views = {view.goal.id: view for view in goal_views(self.pairing)}
        return self._views[goal_id]


@dataclass(frozen=True)
class GoalSummary:
    """What the home page shows of a goal: its title and how far along it is."""

    id: int
    pairing_id: int
    title: str
    progress: int


_GOAL_SUMMARIES = (
    select(Goal.id, Goal.pairing_id, Goal.title, func.count(Milestone.id), func.count(Milestone.done_at))
    .outerjoin(Milestone, Milestone.goal_id == Goal.id)
    .where(Goal.pairing_id.in_(bindparam("pairing_ids", expanding=True)), Goal.status == GoalStatus.ACTIVE)
    .group_by(Goal.id, Goal.pairing_id, Goal.title, Goal.due_on)
    .order_by(Goal.due_on, Goal.id)
)


def goal_summaries(pairing_ids: list[int]) -> list[GoalSummary]:
    """The active goals of these pairings with their progress, soonest due first (one query, no ORM objects).

    Progress is counted as in ``GoalView.progress``: the share of milestones done.
    """
    if not pairing_ids:
        return []
    # Plain rows: the session's connection runs them without the ORM's bookkeeping per statement.
    rows = db.session.connection().execute(_GOAL_SUMMARIES, {"pairing_ids": pairing_ids})
    return [
        GoalSummary(goal_id, pairing_id, title, round(100 * done / total) if total else 0)
        for goal_id, pairing_id, title, total, done in rows
    ]


def goal_in_pairing(user: User, goal_id: int) -> tuple[Goal, Pairing]:
    """The goal and its pairing if ``user`` is one of the pair. Raises NotFound (a LookupError) for anyone else."""
    from portal.pairings import pairing_for

    goal = db.session.get(Goal, goal_id)
    if goal is None:
        raise NotFound()
    return goal, pairing_for(user, goal.pairing_id)


# The milestone and its goal in one query (a milestone always has its goal).
_MILESTONE_WITH_GOAL = (
    select(Milestone, Goal).join(Goal, Goal.id == Milestone.goal_id).where(Milestone.id == bindparam("milestone_id"))
)


def milestone_in_pairing(user: User, milestone_id: int) -> tuple[Milestone, Goal, Pairing]:
    """The milestone, its goal and pairing if ``user`` is one of the pair. Raises NotFound (a LookupError) otherwise."""
    from portal.pairings import pairing_for

    found = db.session.execute(_MILESTONE_WITH_GOAL, {"milestone_id": milestone_id}).first()
    if found is None:
        raise NotFound()
    milestone, goal = found
    return milestone, goal, pairing_for(user, goal.pairing_id)


def skill_options() -> list[Choice]:
    """The soft skills a goal can build (the questionnaire's list)."""
    return list(
        db.session.scalars(
            select(Choice).where(Choice.list_name == "skills", Choice.is_active.is_(True)).order_by(Choice.position)
        )
    )
