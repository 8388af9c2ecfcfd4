"""Demo data for the impact report: the finished "Last spring" cycle with its retrospectives, and a sponsor."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Choice,
    Cycle,
    Enrolment,
    EnrolmentRole,
    Goal,
    GoalSkill,
    GoalStatus,
    Meeting,
    MeetingStatus,
    Objective,
    ObjectiveLevel,
    Pairing,
    PairingEnd,
    PairingStatus,
    ProfileAnswer,
    Retrospective,
    RetrospectiveSkill,
    SkillBaseline,
    SponsorMessage,
    User,
)

WENT_WELL = [
    "Having a fixed half hour every other week made it easy to keep going.",
    "My mentor asked questions instead of giving answers, and that helped me think.",
    "Practising on a real project meant the goal never felt like homework.",
    "Walking meetings. I did not expect to enjoy them this much.",
    "Writing a short note before each meeting kept us focused.",
    "Seeing the milestones tick over was more motivating than I thought.",
    "I learned as much as a mentor as my mentee did.",
]
TO_CHANGE = [
    "A reminder a week before the cycle ends would help us wrap up.",
    "More ideas for a first meeting would make the start less awkward.",
    "Some time set aside in the calendar by managers would help.",
    "Let pairs carry on into the next cycle if they want to.",
    "A short guide for mentors on giving feedback.",
]
SPONSOR = (
    "Every one of us got here with help from someone who took the time to listen. This program makes that "
    "time official: an hour a month, set aside, for learning from each other.\n"
    "Take part as a mentee, a mentor, or both, at your own pace. I am proud that we do this, and I read the "
    "program's report every cycle."
)


def at(day, hour: int = 11) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def seed_impact(users: list[User], director: User | None, rng: random.Random) -> str:
    """Fill the finished earlier cycle with enrolments, completed pairings, meetings, goals, baselines and
    retrospectives, so the report shows two cycles and the change between them; and write a sponsor message."""
    past = db.session.scalar(select(Cycle).where(Cycle.is_current.is_(False)).order_by(Cycle.starts_on).limit(1))
    if past is None or len(users) < 30:
        return ""
    skills = list(db.session.scalars(select(Choice).where(Choice.list_name == "skills").order_by(Choice.position)))
    objectives = list(db.session.scalars(select(Objective)))
    if not objectives:
        objectives = [
            Objective(title="Faster onboarding of new customers", level=ObjectiveLevel.PRODUCT),
            Objective(title="A team everyone wants to stay in", level=ObjectiveLevel.COMPANY),
        ]
        db.session.add_all(objectives)
        db.session.flush()
    mentees, mentors = users[:14], users[14:26]
    enrolled_at = at(past.enrolment_opens_on + timedelta(days=3))
    for person in mentees:
        db.session.add(
            Enrolment(cycle_id=past.id, user_id=person.id, role=EnrolmentRole.MENTEE, created_at=enrolled_at)
        )
    for person in mentors:
        db.session.add(
            Enrolment(cycle_id=past.id, user_id=person.id, role=EnrolmentRole.MENTOR, created_at=enrolled_at)
        )
    grow = {}
    for person in mentees + mentors:
        picked = rng.sample(skills, 2)
        grow[person.id] = picked
        for choice in picked:
            if db.session.get(ProfileAnswer, (person.id, "skills_grow", choice.id)) is None:
                db.session.add(ProfileAnswer(user_id=person.id, question="skills_grow", choice_id=choice.id))
            if db.session.get(SkillBaseline, (person.id, choice.id)) is None:
                db.session.add(SkillBaseline(user_id=person.id, choice_id=choice.id, level=rng.randint(1, 3)))
    pairs = 0
    answered = 0
    for n, mentee in enumerate(mentees[:11]):  # three mentees were not matched
        mentor = mentors[n % len(mentors)]
        early = n == 10
        pairing = Pairing(
            cycle_id=past.id,
            mentor_id=mentor.id,
            mentee_id=mentee.id,
            source="request",
            score=rng.randint(55, 90),
            reasons=[],
            created_at=at(past.matching_opens_on + timedelta(days=rng.randint(1, 12))),
            # Active while its history is written: an ended pairing's journal and goals are read only.
            status=PairingStatus.ACTIVE,
        )
        db.session.add(pairing)
        db.session.flush()
        pairs += 1
        for k in range(rng.randint(2 if not early else 0, 8)):
            day = past.starts_on + timedelta(days=10 + 18 * k)
            db.session.add(
                Meeting(
                    pairing_id=pairing.id,
                    status=MeetingStatus.HELD,
                    starts_at=at(day, 14),
                    format="video",
                    held_on=day,
                    reschedules=1 if k == 1 else 0,
                )
            )
        reached = []
        for g in range(2):
            due = past.ends_on - timedelta(days=30 * (g + 1))
            status = [GoalStatus.ACHIEVED, GoalStatus.ACHIEVED, GoalStatus.SET_ASIDE][(n + g) % 3]
            closed = at(due - timedelta(days=rng.randint(-5, 10))) if status != GoalStatus.ACTIVE else None
            goal = Goal(
                pairing_id=pairing.id,
                title=["Speak up in planning", "Delegate the weekly report"][g],
                outcome="o",
                measure="m",
                target="t",
                due_on=due,
                project="A real project",
                objective_id=objectives[(n + g) % len(objectives)].id,
                status=status,
                closed_at=closed,
                created_by_id=mentee.id,
                created_at=pairing.created_at,
            )
            db.session.add(goal)
            db.session.flush()
            db.session.add(GoalSkill(goal_id=goal.id, choice_id=grow[mentee.id][g].id))
            if status == GoalStatus.ACHIEVED:
                reached.append(goal.id)
        db.session.flush()
        pairing.status = PairingStatus.ENDED
        pairing.ended_at = at(past.ends_on - timedelta(days=60)) if early else at(past.ends_on + timedelta(days=1), 2)
        pairing.end_kind = PairingEnd.CLOSED_EARLY if early else PairingEnd.COMPLETED
        for person, role in ((mentee, "mentee"), (mentor, "mentor")):
            if early or (role == "mentor" and n % 4 == 3):
                continue  # not everyone answers, and that is fine
            retro = Retrospective(
                pairing_id=pairing.id,
                cycle_id=past.id,
                user_id=person.id,
                role=role,
                goals_reached=reached,
                recommend=rng.choice([6, 7, 8, 9, 9, 10, 10]),
                went_well=rng.choice(WENT_WELL) if rng.random() < 0.7 else None,
                to_change=rng.choice(TO_CHANGE) if rng.random() < 0.5 else None,
                answered_at=at(past.ends_on + timedelta(days=rng.randint(2, 9))),
            )
            db.session.add(retro)
            db.session.flush()
            answered += 1
            for choice in grow[person.id]:
                before = db.session.get(SkillBaseline, (person.id, choice.id)).level
                db.session.add(
                    RetrospectiveSkill(
                        retrospective_id=retro.id,
                        choice_id=choice.id,
                        level_before=before,
                        level_after=min(5, before + rng.randint(0, 2)),
                    )
                )
    if director is not None and db.session.scalar(select(SponsorMessage.id).limit(1)) is None:
        db.session.add(
            SponsorMessage(
                sponsor_name="Morgan Ellis",
                sponsor_title="Chief Operating Officer",
                body=SPONSOR,
                written_by_id=director.id,
            )
        )
    db.session.flush()
    return f'\nImpact: "{past.name}" finished with {pairs} pairs and {answered} retrospectives; a sponsor message.'
