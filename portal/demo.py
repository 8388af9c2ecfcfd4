"""Demo data: a believable organisation of about 80 people across 8 teams, for `make run`."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from portal.accounts.services import get_or_create_team
from portal.clock import utcnow
from portal.extensions import db
from portal.journals.activity import refresh as refresh_activity
from portal.models import Role, User
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


DEMO_ZONES = (None, "Europe/Berlin", None, "America/New_York")


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
            # Half read the organisation's zone; the others live in Berlin or New York, as colleagues do.
            timezone=DEMO_ZONES[index % len(DEMO_ZONES)],
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
    cycle_summary += _seed_wall(users, rng)
    cycle_summary += _seed_nudges(users, rng)
    from portal.reports.demo import seed_impact

    cycle_summary += seed_impact(users, director, rng)
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
        Conflict,
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
            except Conflict:
                continue
            requested += 1
            if index % 3 == 0 and rec is picks[0]:
                try:
                    accept_request(request, rec.mentor, message="", now=now)
                    accepted += 1
                except Conflict:
                    pass
            elif index % 5 == 1:
                decline_request(request, rec.mentor, message="", now=now)
                declined += 1
    _pair_more(cycle, mentees, count=6)
    _seed_goals(cycle, rng)
    db.session.flush()
    _seed_journals(rng)
    support = _seed_support(cycle, rng)
    return (
        f'Cycles: "This season" is current with matching open ({len(mentees)} mentees, {len(mentors)} '
        f"mentors, {requested} requests sent, {accepted} accepted, {declined} declined kindly).{support}"
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


DEMO_OBJECTIVES = [
    ("Every customer call ends with a clear next step", "team"),
    ("Ship the self-service onboarding this year", "product"),
    ("A culture where people grow each other", "company"),
    ("Halve the time from question to answer in support", "team"),
]


def _seed_objectives() -> list:
    """The director's objectives, so a goal can say which team, product or company aim it serves."""
    from portal.models import Objective, ObjectiveLevel

    made = [Objective(title=title, level=ObjectiveLevel(level)) for title, level in DEMO_OBJECTIVES]
    db.session.add_all(made)
    db.session.flush()
    return made


def _seed_goals(cycle, rng: random.Random) -> None:
    """Back-date the demo pairings to the start of the program and give them goals in motion."""
    from datetime import timedelta

    from sqlalchemy import select

    from portal.clock import today
    from portal.models import Choice, Goal, GoalComment, GoalSkill, GoalStatus, Milestone, Pairing

    day = today()
    skills = {c.key: c.id for c in db.session.scalars(select(Choice).where(Choice.list_name == "skills"))}
    objectives = _seed_objectives()
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
                objective_id=objectives[(number + index) % len(objectives)].id if index != 1 else None,
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


WALL_TEXTS = {
    "milestone": [
        "Ran my first project kickoff without notes. {skill} is getting easier.",
        "Sent the weekly update in five lines instead of fifteen. Small step, real relief.",
        "Asked for feedback on a draft before it was finished, on purpose. It helped.",
        "Led the vendor call today and we agreed on a timeline everyone can live with.",
        "Handed the release checklist to a teammate and it went fine without me.",
        "Presented our findings to the department. My hands only shook a little.",
        "Said no to a request kindly and offered an alternative. Nobody was upset.",
        "Wrote down what good looks like before starting. The work went faster.",
    ],
    "goal": [
        "Goal achieved: I now run our team retrospective every fortnight, and people come.",
        "Goal achieved: the weekly report takes me under an hour, and two colleagues own it.",
        "Goal achieved: four planning meetings in a row where I spoke in the first half.",
        "Goal achieved: my updates stay under 250 words and nobody asks what I meant.",
    ],
    "first_meeting": [
        "First coffee with my mentor. We mostly talked about what I actually want from work.",
        "First meeting done, on a walk by the river. I think better outside.",
        "We had our first meeting and already agreed on one small thing to try this week.",
    ],
    "cycle_completed": [
        "Six months and eleven meetings later, I say no much more calmly. Thank you to my mentor.",
        "Cycle completed. I came for negotiation and left with a lot more confidence too.",
    ],
    "kudos": [
        "Kudos to {name} for {skill_lower} in Tuesday's planning session.",
        "Kudos to {name}: {skill_lower} when the launch date moved, and everyone stayed calm.",
        "Thank you, {name}, for {skill_lower} during the customer escalation.",
        "Kudos to {name} for {skill_lower}. The handover notes were a gift.",
    ],
}


def _seed_wall(users: list[User], rng: random.Random) -> str:
    """A few hundred wall posts over past months with reactions, some kudos, a proposal and a report waiting."""
    from datetime import timedelta

    from sqlalchemy import insert

    from portal.celebrations.services import give_kudos, propose_celebration
    from portal.models import Celebration, CelebrationReaction, CelebrationReport, Cycle, Pairing

    now = utcnow()
    skills = [(choice.key, choice.label) for choice in all_choices().get("skills", [])]
    cycles = db.session.scalars(select(Cycle).order_by(Cycle.starts_on)).all()
    kinds = ["milestone"] * 8 + ["goal"] * 3 + ["first_meeting"] * 3 + ["cycle_completed"] + ["kudos"] * 5
    rows = []
    for _ in range(320):
        kind = rng.choice(kinds)
        subject = rng.choice(users)
        skill_key, skill_label = rng.choice(skills)
        # More recent weeks are busier: the program is growing.
        published = now - timedelta(days=240 * rng.random() ** 1.6, minutes=rng.randint(0, 1440))
        author = subject
        if kind == "kudos":
            author = rng.choice([user for user in users[:40] if user.id != subject.id])
        text = rng.choice(WALL_TEXTS[kind]).format(
            skill=skill_label, skill_lower=skill_label.lower(), name=subject.display_name.split()[0]
        )
        cycle = next((c for c in reversed(cycles) if c.starts_on - timedelta(days=30) <= published.date()), None)
        rows.append(
            {
                "kind": kind,
                "status": "published",
                "audience": "everyone",
                "subject_id": subject.id,
                "author_id": author.id,
                "text": text,
                "skill_key": skill_key,
                "cycle_id": cycle.id if cycle else None,
                "team_id": subject.team_id,
                "created_at": published,
                "updated_at": published,
                "published_at": published,
                "clap_count": 0,
                "heart_count": 0,
                "sparkle_count": 0,
            }
        )
    db.session.execute(insert(Celebration), rows)
    posts = db.session.scalars(select(Celebration).order_by(Celebration.id)).all()
    reactions = 0
    for post in posts:
        reactors = rng.sample(users, rng.randint(0, 9))
        for reactor in reactors:
            kind = rng.choice(["clap", "clap", "heart", "sparkle"])
            db.session.add(CelebrationReaction(celebration_id=post.id, user_id=reactor.id, kind=kind))
            setattr(post, f"{kind}_count", post.count_of(kind) + 1)
            reactions += 1
    db.session.flush()
    # Something waits for the first demo participant: a proposal and kudos, theirs to share or keep.
    first, second = users[0], users[1]
    pairing = db.session.scalar(
        select(Pairing).where((Pairing.mentee_id == first.id) | (Pairing.mentor_id == first.id)).limit(1)
    )
    propose_celebration(
        first,
        kind="milestone",
        text="I reached a milestone: agree what good looks like",
        pairing_id=pairing.id if pairing else None,
        skill_key=skills[0][0] if skills else None,
    )
    give_kudos(
        second,
        to=first.email,
        skill_key="feedback",
        text=f"Kudos to {first.display_name.split()[0]} for kind, clear feedback on my first design review.",
    )
    reason = "This mentions a customer by name."
    db.session.add(CelebrationReport(celebration_id=posts[-1].id, reporter_id=second.id, reason=reason))
    db.session.flush()
    return f"\nWall: {len(rows)} posts over eight months, {reactions} reactions, a proposal and kudos waiting."


def _seed_nudges(users: list[User], rng: random.Random) -> str:
    """The roster (everyone, managers, and invited people without an account), nudges in each state, visits."""
    import hashlib
    from datetime import timedelta

    from portal.clock import today
    from portal.models import (
        Cycle,
        Enrolment,
        EnrolmentRole,
        InterestEvent,
        InterestKind,
        Nudge,
        NudgeAnswer,
        NudgePreference,
        NudgeRole,
        RosterEntry,
        RosterImport,
    )
    from portal.nudges.services import add_months

    now, day = utcnow(), today()
    everyone = db.session.scalars(select(User).order_by(User.id)).all()
    by_team: dict[int, list[User]] = {}
    for user in everyone:
        by_team.setdefault(user.team_id, []).append(user)
    rows = []
    for members in by_team.values():
        manager = members[0]
        for member in members:
            boss = None if member is manager else manager.email
            rows.append([member.email, member.display_name, member.team.name, boss])
    taken = {user.display_name for user in everyone}
    invited_names = [f"{f} {ln}" for f in reversed(FIRST) for ln in reversed(LAST) if f"{f} {ln}" not in taken]
    rng.shuffle(invited_names)
    invited = []
    for index, name in enumerate(invited_names[:24]):
        email = f"{name.replace(' ', '.').lower()}.invited{index}@example.com"
        invited.append([email, name, TEAMS[index % len(TEAMS)], None])
    rows += invited
    db.session.add_all(RosterEntry(email=e, name=n, team_name=t, manager_email=m) for e, n, t, m in rows)
    db.session.add(
        RosterImport(
            filename="company-roster.csv",
            digest=hashlib.sha256(repr(rows).encode()).hexdigest(),
            rows=rows,
            problems=[],
            summary={"added": rows[:200], "changed": [], "unchanged": 0, "kept": 0},
            created_at=now - timedelta(days=30),
            applied_at=now - timedelta(days=30),
        )
    )
    enrolled = set(db.session.scalars(select(Enrolment.user_id)))
    quiet = [u for u in users if u.id not in enrolled]
    senders = [u for u in users if u.id in enrolled] or users
    # Enough of each answer that the director's numbers show (groups under 5 are hidden), the rest unopened.
    states = ["interested"] * 6 + ["more"] * 5 + ["not_now"] * 6 + ["no_thanks"] * 5 + ["opened"] * 5
    current = db.session.scalar(select(Cycle).where(Cycle.is_current.is_(True)))
    nudges = 0
    notes = [
        "I think you'd be a wonderful mentor for new analysts: you explain things so patiently.",
        "Your design reviews are kind and clear. Someone new would learn a lot from you.",
        "You mentioned wanting to speak up more in big meetings; a mentor could be a calm ally.",
        "You helped me so much last quarter. I think you'd enjoy mentoring.",
    ]
    recipients = [(u.email, u) for u in quiet[: max(0, len(quiet) - 6)]] + [(row[0], None) for row in invited[:12]]
    for index, (email, account) in enumerate(recipients):
        state = (states[index] if index < len(states) else None) if account is not None else None
        sent_at = now - timedelta(days=rng.randint(1, 80), hours=rng.randint(0, 23))
        answer = None if state in (None, "opened") else NudgeAnswer(state)
        db.session.add(
            Nudge(
                sender_id=senders[index % len(senders)].id,
                recipient_email=email,
                message=rng.choice(notes),
                suggested_role=rng.choice([None, NudgeRole.MENTOR, NudgeRole.MENTEE, NudgeRole.EITHER]),
                show_name=index % 3 != 0,
                created_at=sent_at,
                opened_at=sent_at + timedelta(hours=5) if state is not None else None,
                answer=answer,
                answered_at=sent_at + timedelta(hours=6) if answer else None,
            )
        )
        nudges += 1
        if account is not None and answer == NudgeAnswer.NOT_NOW:
            db.session.add(NudgePreference(user_id=account.id, snoozed_until=add_months(day, rng.choice([1, 3, 6]))))
        elif account is not None and answer == NudgeAnswer.NO_THANKS:
            db.session.add(NudgePreference(user_id=account.id, declined_at=sent_at + timedelta(hours=6)))
        elif account is not None and answer == NudgeAnswer.INTERESTED and current is not None and index % 6:
            # Most who said "I'm interested" went on to join the cycle.
            joined_at = sent_at + timedelta(days=1)
            db.session.add(
                Enrolment(cycle_id=current.id, user_id=account.id, role=EnrolmentRole.MENTEE, created_at=joined_at)
            )
    visits = {InterestKind.VISIT: 46, InterestKind.START: 7, InterestKind.MORE: 9, InterestKind.NOT_NOW: 12}
    for kind, count in visits.items():
        db.session.add_all(
            InterestEvent(kind=kind, source="curious", occurred_on=day - timedelta(days=rng.randint(0, 60)))
            for _ in range(count)
        )
    db.session.flush()
    return (
        f"\nNudges: a roster of {len(rows)} ({len(invited)} invited, no account yet), "
        f"{nudges} personal nudges in every state, {sum(visits.values())} anonymous \u201ccurious\u201d counts."
    )


JOURNAL_TOPICS = [
    "What good looks like for the vendor call",
    "How the first try went, and what felt hard",
    "Preparing for the planning meeting",
    "Feedback from the team on the last update",
    "Saying no kindly, with an alternative",
    "Career paths and what the next year could hold",
    "Reading the room in larger meetings",
    "Handing work over without hovering",
]
JOURNAL_NOTES = [
    "Agenda\n- How last week went\n- One thing to try next\n\nWe agreed to keep the next step small.",
    "Talked through the draft together. Shorter sentences, one ask per message.\nLink: the team wiki page on updates.",
    "Role-played the opening of the negotiation twice. Second time was calmer.\nTry: pause before answering.",
    "Went through the feedback. Two themes: clarity and follow-up.\nNext time: bring one example of each.",
]
JOURNAL_REFLECTIONS = {
    "mentee": [
        "What surprised me: how much easier it was once I had written down what I wanted.",
        "I will try pausing before I answer in the next meeting, even if the silence feels long.",
        "I felt nervous at the start, then fine. Next time I want to ask about handling pushback.",
    ],
    "mentor": [
        "I talked a bit too much today. Next time, more questions and fewer stories.",
        "They are further along than they think. Worth saying that out loud next time.",
        "Good energy. I should share the article on delegation I mentioned.",
    ],
}
JOURNAL_ACTIONS = [
    "Write down what a good outcome looks like",
    "Try the pause once in a meeting",
    "Share the draft update before Friday",
    "Ask one colleague for feedback",
    "Read the article on delegation",
    "Book the next meeting",
]


def _seed_journals(rng: random.Random) -> None:
    """For every active pairing: fortnightly meetings since it began, with shared notes, a reflection from each
    person and action items (most done), one cancelled along the way for some, and the next one planned."""
    from datetime import UTC, datetime, time, timedelta

    from sqlalchemy import insert

    from portal.clock import today
    from portal.models import (
        ActionItem,
        Goal,
        Meeting,
        MeetingGoal,
        MeetingStatus,
        NoteVersion,
        Pairing,
        PairingStatus,
        Reflection,
    )

    day = today()
    pairings = db.session.scalars(select(Pairing).where(Pairing.status == PairingStatus.ACTIVE)).all()
    goals: dict[int, list[int]] = {}
    for goal_id, pairing_id in db.session.execute(select(Goal.id, Goal.pairing_id)):
        goals.setdefault(pairing_id, []).append(goal_id)
    formats = ["video", "video", "in_person", "walk"]
    for number, pairing in enumerate(pairings):
        hour = rng.choice([9, 10, 13, 15])
        held_day, meetings = pairing.created_at.date() + timedelta(days=rng.randint(3, 8)), []
        while held_day <= day - timedelta(days=2):
            cancelled = number % 4 == 1 and len(meetings) == 2
            starts = datetime.combine(held_day, time(hour, 0), tzinfo=UTC)
            meetings.append(
                Meeting(
                    pairing_id=pairing.id,
                    status=MeetingStatus.CANCELLED if cancelled else MeetingStatus.HELD,
                    starts_at=starts,
                    duration_minutes=rng.choice([30, 30, 45, 60]),
                    format=rng.choice(formats),
                    held_on=None if cancelled else held_day,
                    topics=None if cancelled else rng.choice(JOURNAL_TOPICS),
                    change_reason="Unwell this week; let's pick it up next time." if cancelled else None,
                    planned_by_id=pairing.mentee_id,
                    logged_by_id=None if cancelled else rng.choice([pairing.mentor_id, pairing.mentee_id]),
                    notes="" if cancelled else rng.choice(JOURNAL_NOTES),
                    notes_version=0 if cancelled else rng.randint(1, 4),
                    notes_updated_by_id=None if cancelled else pairing.mentee_id,
                    notes_updated_at=None if cancelled else starts + timedelta(hours=2),
                    created_at=starts - timedelta(days=10),
                )
            )
            held_day += timedelta(days=rng.randint(12, 17))
        upcoming = datetime.combine(day + timedelta(days=rng.randint(3, 12)), time(hour, 30), tzinfo=UTC)
        meetings.append(
            Meeting(pairing_id=pairing.id, status=MeetingStatus.PLANNED, starts_at=upcoming, duration_minutes=45,
                    format=rng.choice(formats), planned_by_id=pairing.mentor_id, notes="", notes_version=0)
        )  # fmt: skip
        db.session.add_all(meetings)
        db.session.flush()
        # The saved notes are their version's text, the base a later merge starts from.
        db.session.add_all(
            NoteVersion(meeting_id=m.id, version=m.notes_version, text=m.notes, saved_by_id=pairing.mentee_id)
            for m in meetings
            if m.notes_version
        )
        reflections, actions, links = [], [], []
        for meeting in meetings:
            if meeting.status != MeetingStatus.HELD:
                continue
            for role, author_id in (("mentee", pairing.mentee_id), ("mentor", pairing.mentor_id)):
                if rng.random() < 0.8:
                    row = {"meeting_id": meeting.id, "author_id": author_id, "updated_at": meeting.starts_at}
                    reflections.append({**row, "body": rng.choice(JOURNAL_REFLECTIONS[role])})
            for title in rng.sample(JOURNAL_ACTIONS, rng.randint(1, 2)):
                due = meeting.held_on + timedelta(days=10)
                actions.append({
                    "pairing_id": pairing.id, "meeting_id": meeting.id, "title": title, "due_on": due,
                    "owner_id": rng.choice([pairing.mentee_id, pairing.mentee_id, pairing.mentor_id]),
                    "done_at": meeting.starts_at + timedelta(days=6) if due < day or rng.random() < 0.3 else None,
                    "created_by_id": pairing.mentee_id, "created_at": meeting.starts_at,
                })  # fmt: skip
            for goal_id in rng.sample(goals.get(pairing.id, []), min(len(goals.get(pairing.id, [])), 1)):
                links.append({"meeting_id": meeting.id, "goal_id": goal_id})
        for table, rows in ((Reflection, reflections), (ActionItem, actions), (MeetingGoal, links)):
            if rows:
                db.session.execute(insert(table), rows)
    db.session.flush()


def _pair_more(cycle, mentees: list[User], *, count: int) -> list:
    """Pair up to ``count`` more waiting mentees with the mentor who fits them best, as the director would."""
    from portal.matches.services import active_pairing, open_request_count, recommendations_for
    from portal.models import Pairing

    made = []
    for mentee in reversed(mentees):
        if len(made) >= count:
            break
        if active_pairing(mentee, cycle) is not None or open_request_count(mentee, cycle):
            continue
        picks = recommendations_for(mentee, cycle, limit=1)
        if not picks:
            continue
        match = picks[0].match
        pairing = Pairing(cycle_id=cycle.id, mentor_id=match.mentor_id, mentee_id=mentee.id, source="director",
                          score=match.score, reasons=list(match.reasons))  # fmt: skip
        db.session.add(pairing)
        db.session.flush()
        made.append(pairing)
    return made


def _seed_support(cycle, rng: random.Random) -> str:
    """The back-up plan in motion: pairs in every health state, check-ins, a pause, an ending with a rematch
    under way, and open and answered questions for the director."""
    from datetime import timedelta

    from sqlalchemy import delete

    from portal.clock import today
    from portal.matches.services import Conflict, recommendations_for, request_mentor
    from portal.models import (
        ActionItem,
        CheckIn,
        Meeting,
        MeetingGoal,
        MeetingStatus,
        Pairing,
        PairingStatus,
        Reflection,
    )
    from portal.support import services as support

    now, day = utcnow(), today()
    pairings = db.session.scalars(
        select(Pairing).where(Pairing.cycle_id == cycle.id, Pairing.status == PairingStatus.ACTIVE).order_by(Pairing.id)
    ).all()
    if len(pairings) < 7:
        return ""
    quiet, unsure, paused, ended, asking, answered = pairings[:6]
    # One young pair, too early to tell: paired five days ago, first meeting still ahead.
    for young in _pair_more(cycle, [u for u in db.session.scalars(select(User).order_by(User.id))], count=1):
        young.created_at = now - timedelta(days=5)
    people = {u.id: u for u in db.session.scalars(select(User))}
    # Quiet for six weeks: nothing held since, nothing planned.
    gone = select(Meeting.id).where(
        Meeting.pairing_id == quiet.id,
        (Meeting.starts_at >= now - timedelta(weeks=6)) | (Meeting.status == MeetingStatus.PLANNED),
    )
    ids = list(db.session.scalars(gone))
    for table, column in ((Reflection, Reflection.meeting_id), (ActionItem, ActionItem.meeting_id),
                          (MeetingGoal, MeetingGoal.meeting_id), (Meeting, Meeting.id)):  # fmt: skip
        db.session.execute(delete(table).where(column.in_(ids)))
    refresh_activity(db.session.connection(), [quiet.id])  # a Core delete: recount its held meetings by hand
    # Check-ins: most people answered the first question kindly and some a pulse since; one mentee said
    # "Not a good fit" (stored as history, at the time each was asked).
    rows = []
    for pairing in pairings[6:]:
        for person_id in (pairing.mentee_id, pairing.mentor_id):
            if rng.random() < 0.7:
                fit = rng.choice(["going_well", "going_well", "finding_feet"])
                rows.append(CheckIn(pairing_id=pairing.id, user_id=person_id, round=0, fit=fit,
                                    answered_at=pairing.created_at + timedelta(days=8)))  # fmt: skip
            if rng.random() < 0.5 and pairing.created_at < now - timedelta(weeks=8):
                rows.append(CheckIn(pairing_id=pairing.id, user_id=person_id, round=1, score=rng.choice([3, 4, 4, 5]),
                                    answered_at=pairing.created_at + timedelta(weeks=7)))  # fmt: skip
    rows.append(
        CheckIn(pairing_id=unsure.id, user_id=unsure.mentee_id, round=0, fit="not_a_fit",
                note="We are very different in how we plan. I am not sure it is working.",
                answered_at=unsure.created_at + timedelta(days=8))
    )  # fmt: skip
    db.session.add_all(rows)
    support.pause_pairing(
        paused, people[paused.mentor_id], until=day + timedelta(days=18), reason="A busy release month", today=day
    )
    support.end_pairing(
        ended, people[ended.mentee_id], reason="schedules", suitability="3",
        note="Our calendars never lined up. No hard feelings at all.", now=now,
    )  # fmt: skip
    rematch = ""
    mentee = people[ended.mentee_id]
    for rec in recommendations_for(mentee, cycle, limit=3):
        try:
            request_mentor(mentee, cycle, rec.mentor.id, note="Could we try a pairing? I would love your help.",
                           rhythm="fortnightly", now=now)  # fmt: skip
        except Conflict:
            continue
        rematch = f", {mentee.display_name} has asked {rec.mentor.display_name}"
        break
    support.ask_director(
        people[asking.mentee_id], topic="scheduling", pairing_id=asking.id, now=now - timedelta(hours=20),
        body="We keep moving our meetings. Is it all right to meet once a month instead?",
    )  # fmt: skip
    question = support.ask_director(
        people[answered.mentor_id], topic="goals", pairing_id=answered.id, now=now - timedelta(days=3),
        body="How specific should my mentee's goals be? We are unsure about the measure.",
    )  # fmt: skip
    director = db.session.scalar(select(User).where(User.role == Role.DIRECTOR))
    support.reply(
        question, director, now=now - timedelta(days=2),
        body="A measure you can check in a minute is enough: a count, a yes or no, or a date.",
    )  # fmt: skip
    db.session.flush()
    return (
        f"\nBack-up plan: a quiet pair, a \u201cnot a good fit\u201d check-in, a paused pair, an ended pair{rematch}, "
        "and open and answered questions for the director."
    )
