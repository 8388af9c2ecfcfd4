"""Server time of the portal's pages on a large organisation.

Builds a synthetic organisation in a temporary SQLite database (or DATABASE_URL), then requests each
page many times through the WSGI test client and prints the median and 95th percentile, with the
number of SQL queries per page. Not a test: it prints figures and never fails a build.

    .venv/bin/python benchmarks/pages.py [--people 5000] [--notifications 40] [--runs 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build(people: int, notifications: int, seed: int = 11):
    from sqlalchemy import insert, select

    from portal.extensions import db
    from portal.models import Choice, Notification, ProfileAnswer, ProfileStep, Team, User
    from portal.models.base import utcnow
    from portal.models.profiles import StepStatus
    from portal.onboarding.questions import QUESTIONS
    from portal.passwords import hash_password

    rng = random.Random(seed)
    teams = [Team(name=f"Team {n}") for n in range(40)]
    db.session.add_all(teams)
    db.session.flush()
    password_hash = hash_password("benchmark password phrase")
    now = utcnow()
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
            steps.append({**step, "updated_at": now})
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
    return ids, len(answers), len(notes)


def measure(app, client, url: str, runs: int):
    from sqlalchemy import event

    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    counted = [0]

    def bump(*args):
        counted[0] += 1

    times = []
    client.get(url)  # warm-up
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--notifications", type=int, default=40)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ["PORTAL_INSTANCE_PATH"] = workdir
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")

    from flask_migrate import upgrade

    from portal import create_app

    app = create_app({"MAIL_SEND_INLINE": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
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


if __name__ == "__main__":
    main()
