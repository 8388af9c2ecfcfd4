"""Demo data: a believable organisation of about 80 people across 8 teams, for `make run`."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from portal.accounts.services import get_or_create_team
from portal.extensions import db
from portal.models import Role, User
from portal.models.base import utcnow
from portal.notifications.services import notify
from portal.onboarding.questions import QUESTIONS
from portal.onboarding.services import all_choices, finish, save_answer, seed_choices, skip_question
from portal.passwords import hash_password

DEMO_PASSWORD = "a calm river in spring"  # noqa: S105  (demo accounts only, printed on purpose)
DIRECTOR_EMAIL = "director@example.com"

TEAMS = ["Data", "Design", "Engineering", "Finance", "People", "Product", "Sales", "Support"]
FIRST = [
    "Asha",
    "Priya",
    "Liam",
    "Noah",
    "Mei",
    "Sofia",
    "Mateo",
    "Amara",
    "Kofi",
    "Yuki",
    "Elena",
    "Omar",
    "Freya",
    "Ravi",
    "Chloe",
    "Tariq",
    "Ines",
    "Jonas",
    "Zara",
    "Diego",
    "Hana",
    "Samir",
    "Leila",
    "Tom",
    "Nadia",
    "Felix",
    "Aiko",
    "Marco",
    "Grace",
    "Emeka",
    "Lucia",
    "Arjun",
    "Maya",
    "Ben",
    "Sara",
    "Kai",
    "Noor",
    "Pablo",
    "Ingrid",
    "Malik",
]
LAST = [
    "Okafor",
    "Sharma",
    "Nguyen",
    "Garcia",
    "Kowalski",
    "Haddad",
    "Tanaka",
    "Osei",
    "Fischer",
    "Rossi",
    "Silva",
    "Ahmed",
    "Larsen",
    "Dubois",
    "Mensah",
    "Novak",
    "Khan",
    "Moreau",
    "Park",
    "Jensen",
]
REQUEST_NOTES = [
    "I would like to get better at negotiating with other teams on a project starting next month.",
    "I am about to lead my first small team and would value someone to think out loud with.",
    "Your answers mention clear writing; I struggle to keep my updates short and would love help.",
    "I would like to feel more confident speaking up in larger meetings.",
    "I am new here and would love a guide from outside my team.",
]
NOTES = [
    "I am a little nervous about this, so a written introduction first would help.",
    "Happy to meet on a walk; I think better outside.",
    "I would love to talk about moving from an individual role into leading a small team.",
    "Mornings work best for me.",
    "I have just come back from parental leave and would like to find my feet again.",
]


def seed_demo(*, password: str, people: int = 80, seed: int = 7) -> str:
    """Create the demo organisation and return how to sign in.

    Raises RuntimeError when the database already has people in it (demo data is for empty databases).
    """
    if db.session.scalar(select(func.count()).select_from(User)):
        raise RuntimeError("The database already has accounts; demo data is only added to an empty one.")
    rng = random.Random(seed)
    seed_choices()
    lists = all_choices()
    teams = [get_or_create_team(name) for name in TEAMS]
    password_hash = hash_password(password)  # one hash for all: argon2 is slow on purpose

    director = User(
        email=DIRECTOR_EMAIL,
        display_name="Dana Whitfield",
        team=teams[4],
        password_hash=password_hash,
        role=Role.DIRECTOR,
    )
    db.session.add(director)
    users = []
    names = [(f, ln) for f in FIRST for ln in LAST]
    rng.shuffle(names)
    for index in range(people - 1):
        first, last = names[index]
        user = User(
            email=f"{first}.{last}{index}@example.com".lower(),
            display_name=f"{first} {last}",
            team=teams[index % len(teams)],
            password_hash=password_hash,
            role=Role.PARTICIPANT,
        )
        db.session.add(user)
        users.append(user)
    db.session.flush()

    for index, user in enumerate(users):
        # Some finished, some halfway, some not started: a program in motion.
        kind = index % 10
        if kind < 5:
            answered_up_to = len(QUESTIONS)
        elif kind < 8:
            answered_up_to = rng.randint(2, len(QUESTIONS) - 2)
        else:
            answered_up_to = 0
        for question in QUESTIONS[:answered_up_to]:
            if rng.random() < 0.1:
                skip_question(user, question)
                continue
            if question.kind == "text":
                save_answer(user, question, values=[], text=rng.choice(NOTES) if rng.random() < 0.4 else "")
                continue
            keys = [choice.key for choice in lists[question.list_name]]
            if question.kind == "single":
                picked = [rng.choice(keys)]
            else:
                most = min(question.max_choices or len(keys), len(keys))
                picked = rng.sample(keys, rng.randint(1, min(most, 4)))
            save_answer(user, question, values=picked)
        if answered_up_to == len(QUESTIONS):
            finish(user)
        notify(
            user,
            "Welcome. Whenever you are ready, the questionnaire takes about five minutes.",
            link="/onboarding/",
        )
    director.onboarded_at = utcnow()
    db.session.flush()
    cycle_summary = _seed_cycles(users, rng)
    return (
        f"Demo organisation ready: {len(users) + 1} people in {len(teams)} teams.\n"
        f"Sign in as the program director: {DIRECTOR_EMAIL}\n"
        f"or as a participant, e.g. {users[0].email} (questionnaire done), {users[5].email} (halfway)\n"
        f'Every demo account\'s password: "{password}"\n'
        f"{cycle_summary}"
    )


def _seed_cycles(users: list[User], rng: random.Random) -> str:
    """A past cycle and a current one with matching open: enrolments, requests, answers and pairings."""
    from datetime import timedelta

    from portal.clock import today
    from portal.matches.services import (
        NotAllowed,
        accept_request,
        decline_request,
        recommendations_for,
        request_mentor,
    )
    from portal.onboarding.services import load_state
    from portal.programs.services import CycleInput, create_cycle, enrol

    now = utcnow()
    day = today()
    past_start = day - timedelta(days=240)
    create_cycle(
        CycleInput(
            name="Last spring",
            enrolment_opens_on=past_start - timedelta(days=35),
            enrolment_closes_on=past_start - timedelta(days=15),
            matching_opens_on=past_start - timedelta(days=14),
            matching_closes_on=past_start - timedelta(days=1),
            starts_on=past_start,
            ends_on=past_start + timedelta(days=182),
        )
    )
    cycle = create_cycle(
        CycleInput(
            name="This season",
            # Three months into a six-month program, with matching kept open for late joiners.
            enrolment_opens_on=day - timedelta(days=120),
            enrolment_closes_on=day - timedelta(days=100),
            matching_opens_on=day - timedelta(days=110),
            matching_closes_on=day + timedelta(days=30),
            starts_on=day - timedelta(days=95),
            ends_on=day + timedelta(days=87),
            is_current=True,
        )
    )
    mentees, mentors = [], []
    for user in users:
        if user.onboarded_at is None:
            continue
        role = next(iter(load_state(user)["participation"].keys), "not_sure")
        role = {"not_sure": "mentee"}.get(role, role)
        enrol(user, cycle, role=role, capacity=rng.randint(1, 3), paused=False, today=day)
        if role in ("mentor", "both"):
            mentors.append(user)
        if role in ("mentee", "both"):
            mentees.append(user)
    requested = accepted = declined = 0
    for index, mentee in enumerate(mentees[: max(1, len(mentees) * 2 // 3)]):
        picks = recommendations_for(mentee, cycle, limit=2)
        for rec in picks[: 1 + index % 2]:
            try:
                request = request_mentor(
                    mentee,
                    cycle,
                    rec.mentor.id,
                    note=rng.choice(REQUEST_NOTES),
                    rhythm=rng.choice(["fortnightly", "monthly", "together"]),
                    now=now - timedelta(days=rng.randint(0, 5)),
                )
            except NotAllowed:
                continue
            requested += 1
            if index % 3 == 0 and rec is picks[0]:
                try:
                    accept_request(request, rec.mentor, message="", now=now)
                    accepted += 1
                except NotAllowed:
                    pass
            elif index % 5 == 1:
                decline_request(request, rec.mentor, message="", now=now)
                declined += 1
    _seed_goals(cycle, rng)
    db.session.flush()
    return (
        f'Cycles: "This season" is current with matching open ({len(mentees)} mentees, {len(mentors)} '
        f"mentors, {requested} requests sent, {accepted} accepted, {declined} declined kindly)."
    )


GOAL_IDEAS = [
    ("Run calmer negotiations", "negotiation", "The vendor contract renewal",
     "Agreements both sides feel good about, reached without rushing.",
     "After each negotiation, a note on whether I held my opening position calmly.", "3 of the next 4"),
    ("Delegate the weekly report", "delegation", "The weekly operations report",
     "Two colleagues own the report; I review instead of writing it.",
     "Hours I spend on the report each week.", "Under 1 hour by the due date"),
    ("Speak up in the planning meeting", "confidence", "Quarterly planning",
     "I share my view early in the meeting, not afterwards in private.",
     "Meetings where I spoke in the first half.", "4 meetings in a row"),
    ("Write shorter updates", "clear_writing", "The team newsletter",
     "Updates people read to the end.", "Words per update, and replies asking for clarification.",
     "Under 250 words, no clarifying questions"),
    ("Give kinder, clearer feedback", "feedback", "Code and design reviews",
     "Feedback that is specific and that people thank me for.", "Reviews with a concrete suggestion.",
     "9 of 10 reviews"),
]  # fmt: skip
MILESTONES = ["Agree what good looks like", "Try it once and note what happened", "Ask for feedback",
              "Do it again, better", "Share what I learned"]  # fmt: skip


def _seed_goals(cycle, rng: random.Random) -> None:
    """Back-date the demo pairings to the start of the program and give them goals in motion."""
    from datetime import timedelta

    from sqlalchemy import select

    from portal.clock import today
    from portal.models import Choice, Goal, GoalComment, GoalSkill, GoalStatus, Milestone, Pairing

    day = today()
    skills = {c.key: c.id for c in db.session.scalars(select(Choice).where(Choice.list_name == "skills"))}
    pairings = db.session.scalars(select(Pairing).where(Pairing.cycle_id == cycle.id)).all()
    for number, pairing in enumerate(pairings):
        started = utcnow() - timedelta(days=90 - number)
        pairing.created_at = started
        for index in range(1 + number % 3):
            title, skill, project, outcome, measure, target = GOAL_IDEAS[(number + index) % len(GOAL_IDEAS)]
            status = GoalStatus.ACHIEVED if index == 2 else GoalStatus.ACTIVE
            goal = Goal(
                pairing_id=pairing.id,
                title=title,
                outcome=outcome,
                measure=measure,
                target=target,
                due_on=day + timedelta(days=rng.randint(20, 80)),
                project=project,
                status=status,
                created_by_id=pairing.mentee_id,
                created_at=started + timedelta(days=7),
                closed_at=utcnow() - timedelta(days=5) if status == GoalStatus.ACHIEVED else None,
                reflection="It worked better than I expected once I prepared."
                if status == GoalStatus.ACHIEVED
                else None,
            )
            db.session.add(goal)
            db.session.flush()
            db.session.add(GoalSkill(goal_id=goal.id, choice_id=skills[skill]))
            count = rng.randint(3, 5)
            done = count if status == GoalStatus.ACHIEVED else rng.randint(0, count - 1)
            for position, step in enumerate(MILESTONES[:count]):
                db.session.add(
                    Milestone(
                        goal_id=goal.id,
                        title=step,
                        position=position,
                        due_on=day + timedelta(days=7 * position + 5) if position >= done else None,
                        done_at=started + timedelta(days=14 * (position + 1)) if position < done else None,
                        done_by_id=pairing.mentee_id if position < done else None,
                    )
                )
            if index == 0:
                db.session.add(
                    GoalComment(
                        goal_id=goal.id,
                        author_id=pairing.mentor_id,
                        body="A smaller first step might make this easier to start. What do you think?",
                        is_suggestion=True,
                        created_at=started + timedelta(days=9),
                    )
                )
    db.session.flush()
