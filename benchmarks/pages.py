"""Server time of the portal's pages on a large organisation.

Builds a synthetic organisation in a temporary SQLite database (or DATABASE_URL), then requests each
page many times through the WSGI test client and prints the median and 95th percentile, with the
number of SQL queries per page. Not a test: it prints figures and never fails a build.

    .venv/bin/python benchmarks/pages.py [--people 5000] [--notifications 40] [--runs 200]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build(people: int, notifications: int, seed: int = 11):
    from datetime import timedelta

    from sqlalchemy import insert, select

    from portal.clock import utcnow
    from portal.extensions import db
    from portal.models import Choice, Notification, ProfileAnswer, ProfileStep, Team, User
    from portal.models.profiles import StepStatus
    from portal.onboarding.questions import QUESTIONS
    from portal.passwords import hash_password

    rng = random.Random(seed)
    teams = [Team(name=f"Team {n}") for n in range(40)]
    db.session.add_all(teams)
    db.session.flush()
    password_hash = hash_password("benchmark password phrase")
    now = utcnow()
    answered = now - timedelta(days=30)  # an organisation's answers are mostly old: none in a recent window
    db.session.execute(
        insert(User),
        [
            {
                "email": f"p{n}@example.com",
                "display_name": f"Person {n}",
                "team_id": teams[n % len(teams)].id,
                "password_hash": password_hash,
                "role": "participant",
                "created_at": now,
                "session_epoch": 0,
            }
            for n in range(people)
        ],
    )
    ids = list(db.session.scalars(select(User.id)))
    choices: dict[str, list[int]] = {}
    for choice in db.session.scalars(select(Choice)):
        choices.setdefault(choice.list_name, []).append(choice.id)
    steps, answers, notes = [], [], []
    for user_id in ids:
        for question in QUESTIONS:
            step = {"user_id": user_id, "question": question.key, "status": StepStatus.ANSWERED}
            steps.append({**step, "updated_at": answered})
            if question.list_name:
                many = 1 if question.kind == "single" else min(3, question.max_choices or 3)
                for choice_id in rng.sample(choices[question.list_name], many):
                    answers.append({"user_id": user_id, "question": question.key, "choice_id": choice_id})
        for n in range(notifications):
            notes.append({"user_id": user_id, "message": f"Notification {n}", "created_at": now})
    db.session.execute(insert(ProfileStep), steps)
    db.session.execute(insert(ProfileAnswer), answers)
    db.session.execute(insert(Notification), notes)
    db.session.commit()
    settle()
    return ids, len(answers), len(notes)


def settle() -> None:
    """On PostgreSQL, what autovacuum does soon after a bulk load: gather the tables' statistics and mark the
    pages all-visible. A server running without autovacuum (this machine's) would otherwise plan every page's
    statements on guesses, and read the table behind every index entry (the report's meetings: 50 ms, not 13)."""
    from sqlalchemy import text

    from portal.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def measure(app, client, url: str, runs: int):
    from sqlalchemy import event

    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    counted = [0]

    def bump(*args):
        counted[0] += 1

    from portal import settle_heap

    times = []
    client.get(url)  # warm-up
    settle_heap()  # the serving process as wsgi.py leaves it after start-up, without the builders' leftovers
    event.listen(engine, "after_cursor_execute", bump)
    for _ in range(runs):
        counted[0] = 0
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    event.remove(engine, "after_cursor_execute", bump)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], counted[0]


def build_journals(ids: list[int], pairings: int = 2000, meetings: int = 60_000, big: int = 300, seed: int = 13):
    """Pairings in a current cycle with their journals: meetings with shared notes, a goal each, reflections and
    action items. The first pairing has ``big`` meetings; the rest share the others. Returns that pairing's
    id, its mentor's id and the number of rows written."""
    from datetime import UTC, datetime, timedelta
    from datetime import time as clock

    from sqlalchemy import insert, select

    from portal.clock import utcnow
    from portal.extensions import db
    from portal.journals.activity import refresh as refresh_activity
    from portal.models import ActionItem, Cycle, Goal, Meeting, MeetingGoal, Pairing, Reflection

    rng = random.Random(seed)
    now = utcnow()
    day = now.date()
    ago = [day - timedelta(days=n) for n in (400, 380, 390, 370, 365)]
    cycle = Cycle(
        name="Benchmark season", enrolment_opens_on=ago[0], enrolment_closes_on=ago[1], matching_opens_on=ago[2],
        matching_closes_on=ago[3], starts_on=ago[4], ends_on=day + timedelta(days=180), is_current=True, weights={},
    )  # fmt: skip
    db.session.add(cycle)
    db.session.flush()
    pairs = [(ids[(2 * n) % len(ids)], ids[(2 * n + 1) % len(ids)]) for n in range(pairings)]
    db.session.execute(
        insert(Pairing),
        [{"cycle_id": cycle.id, "mentor_id": mentor, "mentee_id": mentee, "status": "active", "source": "request",
          "score": 70, "reasons": [], "created_at": now - timedelta(days=400)} for mentor, mentee in pairs],
    )  # fmt: skip
    pairing_rows = db.session.execute(select(Pairing.id, Pairing.mentor_id, Pairing.mentee_id).order_by(Pairing.id))
    pairing_rows = pairing_rows.all()
    db.session.execute(
        insert(Goal),
        [{"pairing_id": pid, "title": f"Goal of pair {pid}", "outcome": "An outcome.", "measure": "A measure.",
          "target": "A target", "due_on": day + timedelta(days=90), "project": "A project", "status": "active",
          "created_by_id": mentee, "created_at": now, "updated_at": now, "version": 1}
         for pid, _, mentee in pairing_rows],
    )  # fmt: skip
    goal_of = dict(db.session.execute(select(Goal.pairing_id, Goal.id)).all())
    words = "agenda feedback negotiation delegation planning review pause update vendor team draft".split()
    counts = [big] + [0] * (len(pairing_rows) - 1)
    for n in range(meetings - big):
        counts[1 + n % (len(pairing_rows) - 1)] += 1
    rows = []
    for (pid, _, _), count in zip(pairing_rows, counts, strict=True):
        for k in range(count):
            held = day - timedelta(days=k + 1)
            notes = " ".join(rng.choice(words) for _ in range(rng.randint(40, 120)))
            rows.append(
                {"pairing_id": pid, "status": "held", "starts_at": datetime.combine(held, clock(10), tzinfo=UTC),
                 "duration_minutes": 45, "format": "video", "held_on": held, "topics": " ".join(rng.sample(words, 4)),
                 "reschedules": 0, "notes": notes, "notes_version": 1, "created_at": now, "updated_at": now}
            )  # fmt: skip
    for start in range(0, len(rows), 10_000):
        db.session.execute(insert(Meeting), rows[start : start + 10_000])
    refresh_activity(db.session.connection(), [pid for pid, _, _ in pairing_rows])  # Core inserts: count by hand
    written = len(rows)
    meeting_rows = db.session.execute(select(Meeting.id, Meeting.pairing_id)).all()
    owners = {pid: (mentor, mentee) for pid, mentor, mentee in pairing_rows}
    links, reflections, actions = [], [], []
    for meeting_id, pid in meeting_rows:
        mentor, mentee = owners[pid]
        links.append({"meeting_id": meeting_id, "goal_id": goal_of[pid]})
        reflections.append({"meeting_id": meeting_id, "author_id": mentee, "body": "Private.", "updated_at": now})
        actions.append({"pairing_id": pid, "meeting_id": meeting_id, "owner_id": mentee, "title": "Try it once",
                        "due_on": day, "done_at": now, "created_by_id": mentor, "created_at": now})  # fmt: skip
    for table, batch in ((MeetingGoal, links), (Reflection, reflections), (ActionItem, actions)):
        for start in range(0, len(batch), 10_000):
            db.session.execute(insert(table), batch[start : start + 10_000])
        written += len(batch)
    db.session.commit()
    settle()
    big_id, big_mentor, _ = pairing_rows[0]
    return big_id, big_mentor, written + 2 * len(pairing_rows)


def measure_journals(app, args, ids: list[int]) -> None:
    """Build 2,000 pairings with 60,000 journal entries and time the timeline of a pair with 300 meetings."""
    with app.app_context():
        started = time.perf_counter()
        pairing_id, mentor_id, rows = build_journals(ids, args.pairings, args.meetings)
        built = time.perf_counter() - started
    print(f"\njournals: {args.pairings} pairings, {args.meetings} meetings, {rows} rows (built in {built:.1f} s)")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{mentor_id}:0"
    print(f"{'page (a pair with 300 meetings)':<40}{'median ms':>10}{'p95 ms':>10}{'queries':>9}")
    base = f"/journals/pairings/{pairing_id}"
    for url in [base, f"{base}?page=8", f"{base}?q=negotiation", f"{base}?q=nothing-matches-this"]:
        median, p95, queries = measure(app, client, url, args.runs)
        print(f"{url:<40}{median:>10.2f}{p95:>10.2f}{queries:>9}")
    with app.app_context():
        mentee_id = add_goals(pairing_id, 50)
    print(f"{'goals and home (the same pair, 50 goals)':<40}{'median ms':>10}{'p95 ms':>10}{'queries':>9}")
    for who, url in [(mentor_id, f"/goals/pairings/{pairing_id}"), (mentor_id, "/"), (mentee_id, "/")]:
        with client.session_transaction() as session:
            session["_user_id"] = f"{who}:0"
        median, p95, queries = measure(app, client, url, args.runs)
        label = url + (" (mentor)" if who == mentor_id else " (mentee)")
        print(f"{label:<40}{median:>10.2f}{p95:>10.2f}{queries:>9}")


def build_support(seed: int = 19) -> int:
    """The back-up plan over the journals' pairings: overdue milestones, check-ins from most people, a few
    pauses, 300 open and 1,000 resolved questions for the director. Returns a director's id."""
    from datetime import timedelta

    from sqlalchemy import insert, select

    from portal.clock import utcnow
    from portal.extensions import db
    from portal.journals.activity import refresh as refresh_activity
    from portal.models import CheckIn, Goal, HelpMessage, HelpRequest, Milestone, Pairing, PairingPause, Team, User

    rng = random.Random(seed)
    now = utcnow()
    pairs = db.session.execute(select(Pairing.id, Pairing.mentor_id, Pairing.mentee_id, Pairing.created_at)).all()
    goals = db.session.execute(select(Goal.id, Goal.pairing_id)).all()
    db.session.execute(
        insert(Milestone),
        [{"goal_id": g, "title": "A step", "due_on": now.date() - timedelta(days=rng.randint(-20, 20)), "position": n}
         for g, _ in goals for n in range(3)],
    )  # fmt: skip
    check_ins = []
    for pid, mentor, mentee, _created in pairs:
        for person in (mentor, mentee):
            if rng.random() < 0.8:
                fit = rng.choice(["going_well", "going_well", "finding_feet", "not_a_fit"])
                check_ins.append({"pairing_id": pid, "user_id": person, "round": 0, "answered_at": now, "fit": fit})
            if rng.random() < 0.5:
                check_ins.append({"pairing_id": pid, "user_id": person, "round": 1, "answered_at": now,
                                  "score": rng.randint(1, 5), "note": "A note for the director."})  # fmt: skip
    db.session.execute(insert(CheckIn), check_ins)
    db.session.execute(
        insert(PairingPause),
        [{"pairing_id": pid, "paused_by_id": mentee, "until": now.date() + timedelta(days=10), "created_at": now}
         for pid, _, mentee, _ in pairs[::40]],
    )  # fmt: skip
    asks = [
        {"user_id": mentee, "pairing_id": pid, "topic": "fit", "status": "new" if n < 300 else "resolved",
         "created_at": now - timedelta(hours=n), "updated_at": now}
        for n, (pid, _, mentee, _) in enumerate(pairs[:1300])
    ]  # fmt: skip
    db.session.execute(insert(HelpRequest), asks)
    db.session.execute(
        insert(HelpMessage),
        [{"help_request_id": h, "author_id": u, "body": "Could you help?", "created_at": now}
         for h, u in db.session.execute(select(HelpRequest.id, HelpRequest.user_id))],
    )  # fmt: skip
    refresh_activity(db.session.connection(), [pid for pid, *_ in pairs])  # Core inserts: work them out by hand
    team = db.session.scalar(select(Team.id).limit(1))
    director = User(email="director@example.com", display_name="The Director", team_id=team, password_hash="x",
                    role="director", session_epoch=0)  # fmt: skip
    db.session.add(director)
    db.session.commit()
    settle()
    return director.id


def measure_support(app, args) -> None:
    """The director's board of pairs that may need help, and the help queue, over the journals' pairings."""
    with app.app_context():
        started = time.perf_counter()
        director_id = build_support()
        built = time.perf_counter() - started
    print(
        f"\nback-up plan: {args.pairings} pairings, {args.meetings} meetings, 1,300 questions (built in {built:.1f} s)"
    )
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{director_id}:0"
    print(f"{'director page':<40}{'median ms':>10}{'p95 ms':>10}{'queries':>9}")
    runs = max(20, args.runs // 4)
    for url in ["/support/board", "/support/board?state=needs_check_in", "/support/board?team=2&page=2",
                "/support/queue", "/"]:  # fmt: skip
        median, p95, queries = measure(app, client, url, runs)
        print(f"{url:<40}{median:>10.2f}{p95:>10.2f}{queries:>9}")


def add_goals(pairing_id: int, total: int) -> int:
    """Give the pairing ``total`` goals with three milestones, a skill and a comment each; return the mentee."""
    from datetime import timedelta

    from sqlalchemy import insert, select

    from portal.clock import utcnow
    from portal.extensions import db
    from portal.models import Choice, Goal, GoalComment, GoalSkill, Milestone, Pairing

    pairing = db.session.get(Pairing, pairing_id)
    now, day = utcnow(), utcnow().date()
    skill = db.session.scalar(select(Choice.id).where(Choice.list_name == "skills"))
    existing = db.session.scalar(select(db.func.count()).select_from(Goal).where(Goal.pairing_id == pairing_id))
    db.session.execute(
        insert(Goal),
        [{"pairing_id": pairing_id, "title": f"Goal {n}", "outcome": "An outcome.", "measure": "A measure.",
          "target": "A target", "due_on": day + timedelta(days=30 + n), "project": "A project", "status": "active",
          "created_by_id": pairing.mentee_id, "created_at": now, "updated_at": now, "version": 1}
         for n in range(total - existing)],
    )  # fmt: skip
    goal_ids = list(db.session.scalars(select(Goal.id).where(Goal.pairing_id == pairing_id)))
    db.session.execute(insert(GoalSkill), [{"goal_id": g, "choice_id": skill} for g in goal_ids])
    db.session.execute(
        insert(Milestone),
        [{"goal_id": g, "title": f"Step {k}", "position": k, "done_at": now if k == 0 else None}
         for g in goal_ids for k in range(3)],
    )  # fmt: skip
    db.session.execute(
        insert(GoalComment),
        [{"goal_id": g, "author_id": pairing.mentor_id, "body": "Nice.", "is_suggestion": False, "created_at": now}
         for g in goal_ids],
    )  # fmt: skip
    db.session.commit()
    settle()
    return pairing.mentee_id


def measure_matches(app, args, ids: list[int]) -> None:
    """Enrol everyone in the current cycle (a third as mentors) and time "Mentors who fit you" for a mentee.

    Restarted: a new process follows the index another process built (the store they share); built: the whole
    index is read (nothing kept anywhere); after one mentor changes their capacity or an answer, only their row;
    warm: the usual case.
    """
    from sqlalchemy import insert, select, update

    from portal.clock import utcnow
    from portal.extensions import db
    from portal.models import Cycle, Enrolment, Pairing
    from portal.stamps import forget_all, forget_here

    with app.app_context():
        cycle = db.session.scalar(select(Cycle).where(Cycle.is_current.is_(True)))
        cycle_id, now = cycle.id, utcnow()
        db.session.execute(
            insert(Enrolment),
            [{"cycle_id": cycle.id, "user_id": user_id, "role": "mentor" if n % 3 == 0 else "mentee",
              "capacity": 3, "paused": False, "created_at": now, "updated_at": now} for n, user_id in enumerate(ids)],
        )  # fmt: skip
        paired = set(db.session.scalars(select(Pairing.mentee_id)))
        mentee = next(user_id for n, user_id in enumerate(ids) if n % 3 and user_id not in paired)
        db.session.commit()
    mentors = len(ids[::3])
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{mentee}:0"
    print(f"\nmatches: {mentors} mentors enrolled in the current cycle")
    print(f"{'page':<40}{'median ms':>10}{'p95 ms':>10}{'queries':>9}")
    median, p95, queries = measure(app, client, "/matches/", args.runs)
    print(f"{'/matches/ (warm mentor index)':<40}{median:>10.2f}{p95:>10.2f}{queries:>9}")
    rounds = max(5, args.runs // 20)
    times, _ = timed_after(client, "/matches/", forget_here, rounds)
    print(f"{'/matches/ (restarted)':<40}{statistics.median(times):>10.2f}{times[-1]:>10.2f}{'':>9}")

    def forget_everywhere():
        with app.app_context():
            forget_all()

    times, _ = timed_after(client, "/matches/", forget_everywhere, rounds)
    print(f"{'/matches/ (index built)':<40}{statistics.median(times):>10.2f}{times[-1]:>10.2f}{'':>9}")
    # The usual change: one mentor edits their capacity; only that mentor's row of the index is rebuilt.
    changed, capacity = ids[::3][len(ids[::3]) // 2], itertools.cycle((3, 4))

    def change_one_mentor():
        with app.app_context():
            db.session.execute(
                update(Enrolment)
                .where(Enrolment.cycle_id == cycle_id, Enrolment.user_id == changed)
                .values(capacity=next(capacity), updated_at=utcnow())
            )
            db.session.commit()

    assert client.get("/matches/").status_code == 200
    times, _ = timed_after(client, "/matches/", change_one_mentor, rounds)
    print(f"{'/matches/ (one mentor changed)':<40}{statistics.median(times):>10.2f}{times[-1]:>10.2f}{'':>9}")
    # The same mentor saves a new answer to one question, as the questionnaire does.
    values = itertools.cycle((["curiosity"], ["craft"]))

    def one_mentor_answers():
        from portal.models import User
        from portal.onboarding.questions import QUESTION_BY_KEY
        from portal.onboarding.services import save_answer

        with app.app_context():
            save_answer(db.session.get(User, changed), QUESTION_BY_KEY["values"], values=next(values))
            db.session.commit()

    times, _ = timed_after(client, "/matches/", one_mentor_answers, rounds)
    print(f"{'/matches/ (one mentor answered)':<40}{statistics.median(times):>10.2f}{times[-1]:>10.2f}{'':>9}")


def timed_after(client, url: str, change, runs: int) -> tuple[list[float], list[float]]:
    """Time the first request to ``url`` after each of ``runs`` calls of ``change``: (sorted ms, CPU ms)."""
    times, cpu = [], []
    for _ in range(runs):
        change()
        start, start_cpu = time.perf_counter(), time.process_time()
        assert client.get(url).status_code == 200
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    times.sort()
    return times, cpu


def measure_nudges(app, args, ids: list[int], nudges: int = 20_000, invited: int = 20_000) -> None:
    """A roster with 20,000 invited people, 20,000 nudges and 50,000 "curious" counts: the director's pages,
    the search, a card, and previewing a 20,000-row roster file."""
    from datetime import timedelta

    from sqlalchemy import insert, update

    from portal.clock import utcnow
    from portal.extensions import db
    from portal.models import InterestEvent, Nudge, Role, RosterEntry, User
    from portal.nudges.roster import preview_upload

    rng = random.Random(19)
    with app.app_context():
        started = time.perf_counter()
        now = utcnow()
        director_id, sender_id = ids[0], ids[1]
        recipient_email = db.session.get(User, ids[-1]).email
        db.session.execute(update(User).where(User.id == director_id).values(role=Role.DIRECTOR))
        accounts = [
            {"email": f"p{n}@example.com", "name": f"Person {n}", "team_name": f"Team {n % 40}"}
            for n in range(len(ids))
        ]
        extra = [
            {"email": f"invited{n}@example.com", "name": f"Invited {n}", "team_name": f"Team {n % 40}"}
            for n in range(invited)
        ]
        rows = [{**row, "manager_email": None, "created_at": now, "updated_at": now} for row in accounts + extra]
        for start in range(0, len(rows), 10_000):
            db.session.execute(insert(RosterEntry), rows[start : start + 10_000])
        emails = [row["email"] for row in rows]
        nudge_rows = [
            {
                "sender_id": ids[n % len(ids)],
                "recipient_email": emails[n % len(emails)],
                "message": "I thought of you.",
                "show_name": n % 3 != 0,
                "created_at": now - timedelta(days=rng.randint(0, 400)),
                "answer": rng.choice([None, "interested", "more", "not_now", "no_thanks"]),
            }
            for n in range(nudges)
        ]
        nudge_rows[0].update(recipient_email=recipient_email, sender_id=sender_id)
        for start in range(0, len(nudge_rows), 10_000):
            db.session.execute(insert(Nudge), nudge_rows[start : start + 10_000])
        events = [
            {"kind": rng.choice(["visit", "start", "more", "not_now"]), "source": "curious",
             "occurred_on": (now - timedelta(days=rng.randint(0, 120))).date()}
            for _ in range(50_000)
        ]  # fmt: skip
        db.session.execute(insert(InterestEvent), events)
        db.session.commit()
        settle()
        card_id = db.session.scalar(db.select(Nudge.id).where(Nudge.recipient_email == recipient_email).limit(1))
        built = time.perf_counter() - started
        csv_text = "name,email,team,manager_email\n" + "".join(
            f"Person {n},p{n}@example.com,Team {(n + 1) % 40},\n" for n in range(20_000)
        )
        director = db.session.get(User, director_id)
        started = time.perf_counter()
        preview_upload(director, filename="big.csv", data=csv_text.encode())
        previewed = time.perf_counter() - started
        db.session.rollback()
    print(f"\nnudges: {len(rows)} on the roster, {nudges} nudges, 50000 visits (built in {built:.1f} s)")
    print(f"previewing a 20,000-row roster file ({len(csv_text) // 1024} KB): {previewed * 1000:.0f} ms")
    print(f"{'page':<40}{'median ms':>10}{'p95 ms':>10}{'queries':>9}")
    director_client = app.test_client()
    with director_client.session_transaction() as session:
        session["_user_id"] = f"{director_id}:0"
    for url in ["/nudges/overview", "/nudges/sent", "/nudges/sent?page=300", "/nudges/roster"]:
        median, p95, queries = measure(app, director_client, url, args.runs)
        print(f"{url:<40}{median:>10.2f}{p95:>10.2f}{queries:>9}")
    person_client = app.test_client()
    with person_client.session_transaction() as session:
        session["_user_id"] = f"{ids[-1]}:0"
    for url in ["/nudges/new?q=invited 123", "/nudges/new?q=person", f"/nudges/cards/{card_id}", "/nudges/curious"]:
        median, p95, queries = measure(app, person_client, url, args.runs)
        print(f"{url:<40}{median:>10.2f}{p95:>10.2f}{queries:>9}")


def build_report(goals: int = 20_000, seed: int = 19) -> tuple[int, int]:
    """Give the current cycle's pairings ``goals`` goals in all (objectives, skills, statuses) and a
    retrospective from each mentee with two rated skills. Returns the cycle's id and the number of rows."""
    from datetime import timedelta

    from sqlalchemy import func, insert, select

    from portal.clock import utcnow
    from portal.extensions import db
    from portal.models import Choice, Cycle, Goal, GoalSkill, Objective, Pairing, Retrospective, RetrospectiveSkill

    rng = random.Random(seed)
    now, day = utcnow(), utcnow().date()
    cycle = db.session.scalar(select(Cycle).where(Cycle.is_current.is_(True)))
    pairs = db.session.execute(select(Pairing.id, Pairing.mentee_id).where(Pairing.cycle_id == cycle.id)).all()
    levels = ["team", "product", "company"]
    objectives = [Objective(title=f"Objective {n}", level=levels[n % 3]) for n in range(12)]
    db.session.add_all(objectives)
    db.session.flush()
    skills = list(db.session.scalars(select(Choice.id).where(Choice.list_name == "skills")))
    existing = db.session.scalar(select(func.count()).select_from(Goal))
    statuses = ["active", "achieved", "achieved", "set_aside"]
    rows = []
    for n in range(goals - existing):
        pid, mentee = pairs[n % len(pairs)]
        status = statuses[n % 4]
        due = day + timedelta(days=rng.randint(-90, 90))
        rows.append(
            {"pairing_id": pid, "title": f"Goal {n}", "outcome": "o", "measure": "m", "target": "t", "due_on": due,
             "project": "p", "objective_id": objectives[n % 12].id if n % 5 else None, "status": status,
             "closed_at": now - timedelta(days=rng.randint(0, 90)) if status != "active" else None,
             "created_by_id": mentee, "created_at": now, "updated_at": now, "version": 1}
        )  # fmt: skip
    for start in range(0, len(rows), 10_000):
        db.session.execute(insert(Goal), rows[start : start + 10_000])
    linked = select(GoalSkill.goal_id)
    goal_ids = list(db.session.scalars(select(Goal.id).where(Goal.id.not_in(linked))))
    links = [{"goal_id": g, "choice_id": skills[g % len(skills)]} for g in goal_ids]
    db.session.execute(insert(GoalSkill), links)
    retros = [{"pairing_id": pid, "cycle_id": cycle.id, "user_id": mentee, "role": "mentee", "goals_reached": [],
               "recommend": rng.randint(0, 10), "went_well": f"Went well {pid}", "to_change": None,
               "answered_at": now, "created_at": now} for pid, mentee in pairs]  # fmt: skip
    db.session.execute(insert(Retrospective), retros)
    retro_ids = list(db.session.scalars(select(Retrospective.id)))
    rated = [{"retrospective_id": r, "choice_id": skills[(r + k) % len(skills)], "level_before": 2,
              "level_after": rng.randint(2, 5)} for r in retro_ids for k in (0, 1)]  # fmt: skip
    db.session.execute(insert(RetrospectiveSkill), rated)
    db.session.commit()
    settle()
    return cycle.id, len(rows) + len(links) + len(retros) + len(rated)


def measure_report(app, args, ids: list[int]) -> None:
    """The director's impact report of the current cycle: 5,000 enrolled, 2,000 pairings, 60,000 meetings,
    20,000 goals, 2,000 retrospectives (after measure_journals and measure_matches built the rest)."""
    from sqlalchemy import func, select, update

    from portal.extensions import db
    from portal.models import Enrolment, Goal, Meeting, Pairing, User

    with app.app_context():
        started = time.perf_counter()
        cycle_id, rows = build_report(args.goals)
        built = time.perf_counter() - started
        director = ids[-1]
        db.session.execute(update(User).where(User.id == director).values(role="director"))
        db.session.commit()
        sizes = [db.session.scalar(select(func.count()).select_from(t)) for t in (Enrolment, Pairing, Meeting, Goal)]
    print(
        f"\nreport: {sizes[0]} enrolled, {sizes[1]} pairings, {sizes[2]} meetings, {sizes[3]} goals "
        f"({rows} rows added in {built:.1f} s)"
    )
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{director}:0"
    # CPU time beside wall time: SQLite runs in this process, so CPU time is the server's own work even when
    # other processes compete for the machine (wall time then includes waiting for a core).
    print(f"{'page':<40}{'median ms':>10}{'p95 ms':>10}{'queries':>9}{'CPU ms':>9}")
    runs = max(10, args.runs // 4)
    for url in [f"/reports/?cycle={cycle_id}", f"/reports/cycles/{cycle_id}/summary",
                f"/reports/cycles/{cycle_id}/objectives.csv", "/reports/program", "/"]:  # fmt: skip
        median, p95, queries = measure(app, client, url, runs)
        cpu = []
        for _ in range(runs):
            start = time.process_time()
            client.get(url)
            cpu.append((time.process_time() - start) * 1000)
        print(f"{url:<40}{median:>10.2f}{p95:>10.2f}{queries:>9}{statistics.median(cpu):>9.2f}")
    measure_report_after_changes(app, client, cycle_id, runs)


def measure_report_after_changes(app, client, cycle_id: int, runs: int) -> None:
    """The report and the program page are kept until their data changes: time the first request after a
    change, a held meeting logged (the funnel's matched part and the meetings are counted again); after the
    process forgot what it kept (a restart: the figures come from the store every process shares); and with
    nothing kept anywhere (every measure is counted again, as after a change to the cycles before the queue's
    recount)."""
    from sqlalchemy import select

    from portal.clock import utcnow
    from portal.extensions import db
    from portal.models import Meeting, Pairing
    from portal.stamps import forget_all, forget_here

    def log_meeting():
        with app.app_context():
            pairing_id = db.session.scalar(select(Pairing.id).where(Pairing.cycle_id == cycle_id).limit(1))
            now = utcnow()
            db.session.add(Meeting(pairing_id=pairing_id, status="held", starts_at=now, held_on=now.date(),
                                   format="video", duration_minutes=30))  # fmt: skip
            db.session.commit()

    def forget_everywhere():
        with app.app_context():
            forget_all()

    print(f"{'after a change (first request)':<40}{'median ms':>10}{'p95 ms':>10}{'':>9}{'CPU ms':>9}")
    report = f"/reports/?cycle={cycle_id}"
    for label, url, change in [
        (f"{report} (meeting logged)", report, log_meeting),
        (f"{report} (restarted)", report, forget_here),
        (f"{report} (nothing kept)", report, forget_everywhere),
        ("/reports/program (meeting logged)", "/reports/program", log_meeting),
    ]:
        times, cpu = timed_after(client, url, change, runs)
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"{label:<40}{statistics.median(times):>10.2f}{p95:>10.2f}{'':>9}{statistics.median(cpu):>9.2f}")


def build_wall(ids: list[int], posts: int = 200_000, reactions: int = 1_000_000, seed: int = 17) -> dict:
    """Years of wall posts (published, with skills, teams and cycles) and their reactions, counts kept on the
    posts as the toggle service keeps them. Returns what the measurements need: the viewer, cursors, filters."""
    from datetime import timedelta

    from sqlalchemy import insert, select, text

    from portal.celebrations.services import Cursor
    from portal.clock import utcnow
    from portal.extensions import db
    from portal.models import Celebration, CelebrationReaction, Choice, Cycle, User

    rng = random.Random(seed)
    now = utcnow()
    day = now.date()
    skills = list(db.session.scalars(select(Choice.key).where(Choice.list_name == "skills")))
    team_of = dict(db.session.execute(select(User.id, User.team_id)).all())
    cycles = []
    for n in range(10):  # ten past cycles of half a year
        start = day - timedelta(days=183 * (n + 1))
        cycle = Cycle(
            name=f"Wall cycle {n}", enrolment_opens_on=start - timedelta(days=30),
            enrolment_closes_on=start - timedelta(days=15), matching_opens_on=start - timedelta(days=14),
            matching_closes_on=start - timedelta(days=1), starts_on=start, ends_on=start + timedelta(days=182),
            is_current=False, weights={},
        )  # fmt: skip
        db.session.add(cycle)
        cycles.append(cycle)
    db.session.flush()
    kinds = ["milestone"] * 8 + ["goal"] * 3 + ["first_meeting"] * 3 + ["cycle_completed"] + ["kudos"] * 5
    span = 5 * 365 * 86400
    batch = []
    for n in range(posts):
        subject = rng.choice(ids)
        kind = rng.choice(kinds)
        published = now - timedelta(seconds=rng.random() * span)
        age = (day - published.date()).days // 183
        batch.append(
            {"kind": kind, "status": "published", "audience": "everyone", "subject_id": subject,
             "author_id": rng.choice(ids) if kind == "kudos" else subject,
             "text": f"Celebration {n}: progress on a real project, https://example.com/notes/{n}",
             "skill_key": rng.choice(skills), "cycle_id": cycles[age].id if age < len(cycles) else None,
             "team_id": team_of[subject], "created_at": published, "updated_at": published,
             "published_at": published, "clap_count": 0, "heart_count": 0, "sparkle_count": 0}
        )  # fmt: skip
        if len(batch) == 20_000:
            db.session.execute(insert(Celebration), batch)
            batch = []
    if batch:
        db.session.execute(insert(Celebration), batch)
    post_ids = list(db.session.scalars(select(Celebration.id).order_by(Celebration.id)))
    per_post = [rng.randint(0, 2 * reactions // posts) for _ in post_ids]
    difference = reactions - sum(per_post)
    while difference:
        index = rng.randrange(len(per_post))
        step = 1 if difference > 0 else -1
        if 0 <= per_post[index] + step <= 2 * reactions // posts:
            per_post[index] += step
            difference -= step
    batch = []
    for post_id, count in zip(post_ids, per_post, strict=True):
        for user_id in rng.sample(ids, count):
            kind = rng.choice(("clap", "heart", "sparkle"))
            batch.append({"celebration_id": post_id, "user_id": user_id, "kind": kind, "created_at": now})
        if len(batch) >= 50_000:
            db.session.execute(insert(CelebrationReaction), batch)
            batch = []
    if batch:
        db.session.execute(insert(CelebrationReaction), batch)
    for kind in ("clap", "heart", "sparkle"):
        db.session.execute(
            text(
                f"UPDATE celebrations SET {kind}_count = (SELECT count(*) FROM celebration_reactions r "
                f"WHERE r.celebration_id = celebrations.id AND r.kind = '{kind}')"
            )
        )
    db.session.commit()
    settle()

    def cursor_at(offset: int) -> str:
        row = db.session.execute(
            select(Celebration.published_at, Celebration.id)
            .order_by(Celebration.published_at.desc(), Celebration.id.desc())
            .offset(offset)
            .limit(1)
        ).one()
        return Cursor(*row).token()

    return {
        "cycles": [cycle.id for cycle in cycles],
        "skill": skills[5],
        "second": cursor_at(19),
        "deep": cursor_at(int(posts * 0.75)),
    }


def _throughput(port: int, path: str, cookie: str, requests: int, threads: int, limit_s: float) -> float:
    """Requests per second for ``path`` on the loopback server, from a bounded pool of threads."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    deadline = time.perf_counter() + limit_s

    def one(_):
        if time.perf_counter() > deadline:
            return False
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", path, headers={"Cookie": f"session={cookie}"})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, (path, response.status)
        finally:
            connection.close()
        return True

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(50)))  # warm-up
        started = time.perf_counter()
        done = sum(pool.map(one, range(requests)))
        return done / (time.perf_counter() - started)


def measure_wall(app, args, ids: list[int]) -> None:
    """The celebration wall with 200,000 posts and 1,000,000 reactions: test-client timings, then throughput
    of the wall page under gunicorn beside a bare "hello" of the same app, as a ratio."""
    import socket
    import subprocess

    with app.app_context():
        started = time.perf_counter()
        built = build_wall(ids, args.wall_posts, args.wall_reactions)
        elapsed = time.perf_counter() - started
    print(f"\nwall: {args.wall_posts} posts, {args.wall_reactions} reactions (built in {elapsed:.1f} s)")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{ids[len(ids) // 3]}:0"
    pages = {
        "first page": "/celebrations/",
        "next page (htmx)": f"/celebrations/?before={built['second']}",
        "deep page (75% back)": f"/celebrations/?before={built['deep']}",
        "filtered: skill": f"/celebrations/?skill={built['skill']}",
        "filtered: cycle and team": f"/celebrations/?cycle={built['cycles'][3]}&team=7",
        "filtered: skill, deep": f"/celebrations/?skill={built['skill']}&before={built['deep']}",
    }
    print(f"{'wall page':<28}{'median ms':>10}{'p95 ms':>10}{'queries':>9}")
    for label, url in pages.items():
        headers = {"HX-Request": "true"} if "htmx" in label else None
        if headers:
            client.environ_base["HTTP_HX_REQUEST"] = "true"
        median, p95, queries = measure(app, client, url, args.runs)
        client.environ_base.pop("HTTP_HX_REQUEST", None)
        print(f"{label:<28}{median:>10.2f}{p95:>10.2f}{queries:>9}")

    cookie = client.get_cookie("session").value
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--pythonpath",
               str(root / "benchmarks"), "--log-level", "warning", "hello_wsgi:app"]  # fmt: skip
    sys.stdout.flush()  # the server shares this output; keep the figures above in order
    server = subprocess.Popen(command, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    try:
        import http.client

        for _ in range(100):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        hello = _throughput(port, "/bench-hello", cookie, args.throughput_requests, 8, 60)
        wall = _throughput(port, "/celebrations/", cookie, args.throughput_requests, 8, 60)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(
        f"gunicorn -w 2, {args.throughput_requests} requests from 8 threads: hello {hello:.0f} req/s, "
        f"wall {wall:.0f} req/s, ratio wall/hello {wall / hello:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--notifications", type=int, default=40)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--pairings", type=int, default=2000)
    parser.add_argument("--meetings", type=int, default=60_000)
    parser.add_argument("--goals", type=int, default=20_000)
    parser.add_argument("--report", action=argparse.BooleanOptionalAction, default=True, help="measure the report")
    parser.add_argument("--wall", action=argparse.BooleanOptionalAction, default=True, help="measure the wall")
    parser.add_argument("--wall-posts", type=int, default=200_000)
    parser.add_argument("--wall-reactions", type=int, default=1_000_000)
    parser.add_argument("--throughput-requests", type=int, default=2000)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ["PORTAL_INSTANCE_PATH"] = workdir
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")

    from flask_migrate import upgrade

    from portal import create_app

    app = create_app({"MAIL_SEND_INLINE": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade(revision="heads")
        started = time.perf_counter()
        ids, answers, notes = build(args.people, args.notifications)
        built = time.perf_counter() - started
    print(
        f"data: {args.people} people, {answers} answers, {notes} notifications "
        f"({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, built in {built:.1f} s)"
    )
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{ids[len(ids) // 2]}:0"
    print(f"{'page':<28}{'median ms':>10}{'p95 ms':>10}{'queries':>9}")
    for url in ["/", "/onboarding/review", "/onboarding/step/values", "/profiles/me", "/notifications/"]:
        median, p95, queries = measure(app, client, url, args.runs)
        print(f"{url:<28}{median:>10.2f}{p95:>10.2f}{queries:>9}")
    measure_journals(app, args, ids)
    measure_support(app, args)
    measure_matches(app, args, ids)
    measure_nudges(app, args, ids)
    if args.report:
        measure_report(app, args, ids)
    if args.wall:
        measure_wall(app, args, ids)


if __name__ == "__main__":
    main()
