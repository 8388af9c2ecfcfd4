"""Each measure of the impact report against a small data set counted by hand (see ``world`` below)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from portal.clock import today
from portal.extensions import db
from portal.models import (
    CheckIn,
    Choice,
    ClosingReason,
    ClosingSurvey,
    Enrolment,
    EnrolmentRole,
    Fit,
    Goal,
    GoalSkill,
    GoalStatus,
    HelpMessage,
    HelpRequest,
    HelpStatus,
    InterestEvent,
    InterestKind,
    Nudge,
    Objective,
    ObjectiveLevel,
    Pairing,
    PairingEnd,
    PairingStatus,
    Retrospective,
    RetrospectiveSkill,
)
from portal.onboarding.services import seed_choices
from portal.reports import measures
from portal.reports.services import cycle_report, report_cycles
from portal.stamps import forget_all as forget_kept
from tests.factories import make_cycle, make_meeting, make_pairing, make_roster_entry, make_user


def at(day, hour=12):
    return datetime.combine(day, time(hour), tzinfo=UTC)


@pytest.fixture
def world():
    """Two cycles, counted by hand.

    Cycle "Earlier" (ended 120 days ago): 5 mentees and 5 mentors enrolled, all 5 matched; one pairing
    closed early on the cycle's last day, four completed.
    Cycle "Now" (current, started 60 days ago): 9 mentees (m1..m9) and 5 mentors enrolled; m1..m8 matched
    after waiting 1, 2, 3, 4, 5, 6, 7 and 20 days (median 4.5); held meetings per pair 3, 1, 0, 2, 1, 1, 0, 4
    (12 in all, median 1, two pairs with none); one cancelled, one moved. Six goals (m1..m6), see below.
    """
    seed_choices()
    day = today()
    earlier = make_cycle(
        name="Earlier",
        current=False,
        enrolment_opens_on=day - timedelta(days=320),
        enrolment_closes_on=day - timedelta(days=310),
        matching_opens_on=day - timedelta(days=309),
        matching_closes_on=day - timedelta(days=301),
        starts_on=day - timedelta(days=300),
        ends_on=day - timedelta(days=120),
    )
    now = make_cycle(
        name="Now",
        enrolment_opens_on=day - timedelta(days=90),
        enrolment_closes_on=day - timedelta(days=80),
        matching_opens_on=day - timedelta(days=79),
        matching_closes_on=day - timedelta(days=61),
        starts_on=day - timedelta(days=60),
        ends_on=day + timedelta(days=60),
    )
    mentees = [make_user(team="Data") for _ in range(9)]
    mentors = [make_user(team="Design") for _ in range(5)]
    enrolled_at = at(day - timedelta(days=70))
    for person in mentees:
        db.session.add(Enrolment(cycle_id=now.id, user_id=person.id, role=EnrolmentRole.MENTEE, created_at=enrolled_at))
    for person in mentors:
        db.session.add(Enrolment(cycle_id=now.id, user_id=person.id, role=EnrolmentRole.MENTOR, created_at=enrolled_at))
    waits = [1, 2, 3, 4, 5, 6, 7, 20]
    pairings = []
    for n, wait in enumerate(waits):
        pairing = Pairing(
            cycle_id=now.id,
            mentor_id=mentors[n % 5].id,
            mentee_id=mentees[n].id,
            source="request",
            created_at=enrolled_at + timedelta(days=wait),
        )
        db.session.add(pairing)
        pairings.append(pairing)
    # The previous cycle: 5 mentees, 5 mentors, all matched; the fifth pairing closed early on the last day.
    old_mentees = [make_user(team="Sales") for _ in range(5)]
    old_mentors = [make_user(team="Legal") for _ in range(5)]
    for mentee, mentor in zip(old_mentees, old_mentors, strict=True):
        db.session.add(Enrolment(cycle_id=earlier.id, user_id=mentee.id, role=EnrolmentRole.MENTEE))
        db.session.add(Enrolment(cycle_id=earlier.id, user_id=mentor.id, role=EnrolmentRole.MENTOR))
    old_pairings = []
    for n, (mentee, mentor) in enumerate(zip(old_mentees, old_mentors, strict=True)):
        last_day = n == 4
        pairing = Pairing(
            cycle_id=earlier.id,
            mentor_id=mentor.id,
            mentee_id=mentee.id,
            source="request",
            status=PairingStatus.ENDED,
            ended_at=at(earlier.ends_on, 17) if last_day else at(earlier.ends_on + timedelta(days=1), 1),
            end_kind=PairingEnd.CLOSED_EARLY if last_day else PairingEnd.COMPLETED,
        )
        db.session.add(pairing)
        old_pairings.append(pairing)
    db.session.commit()

    held = [3, 1, 0, 2, 1, 1, 0, 4]
    for pairing, count in zip(pairings, held, strict=True):
        for k in range(count):
            make_meeting(pairing, days_from_now=-(k + 2))
    make_meeting(pairings[0], status="cancelled", days_from_now=-20, change_reason="Ill")
    make_meeting(pairings[1], status="planned", days_from_now=5, reschedules=2)

    # Goals: g1 achieved ON its due date (on time), g2 achieved the day after (late), g3 achieved early but
    # due in the future (not yet due), g4 active and overdue, g5 set aside, g6 active and not due.
    billing = Objective(title="Ship the new billing", level=ObjectiveLevel.PRODUCT)
    db.session.add(billing)
    db.session.flush()
    skills = {choice.key: choice for choice in db.session.query(Choice).filter_by(list_name="skills")}
    specs = [
        (GoalStatus.ACHIEVED, day - timedelta(days=10), at(day - timedelta(days=10), 15), billing.id, "communication"),
        (GoalStatus.ACHIEVED, day - timedelta(days=10), at(day - timedelta(days=9), 9), billing.id, "communication"),
        (GoalStatus.ACHIEVED, day + timedelta(days=10), at(day - timedelta(days=1)), billing.id, "communication"),
        (GoalStatus.ACTIVE, day - timedelta(days=5), None, billing.id, "communication"),
        (GoalStatus.SET_ASIDE, day + timedelta(days=20), at(day - timedelta(days=2)), billing.id, "communication"),
        (GoalStatus.ACTIVE, day + timedelta(days=30), None, None, "feedback"),
    ]
    for pairing, (status, due_on, closed_at, objective_id, skill) in zip(pairings, specs, strict=False):
        goal = Goal(
            pairing_id=pairing.id,
            title="A goal",
            outcome="o",
            measure="m",
            target="t",
            due_on=due_on,
            project="p",
            objective_id=objective_id,
            status=status,
            closed_at=closed_at,
            created_by_id=pairing.mentee_id,
        )
        db.session.add(goal)
        db.session.flush()
        db.session.add(GoalSkill(goal_id=goal.id, choice_id=skills[skill].id))

    # Retrospectives in "Now": six mentees answered; recommend 10, 10, 9, 7, 2 and one left empty (+40).
    scores = [10, 10, 9, 7, 2, None]
    growth = [(2, 4), (3, 4), (1, 3), (3, 3), (2, 3)]
    for n, score in enumerate(scores):
        retro = Retrospective(
            pairing_id=pairings[n].id,
            cycle_id=now.id,
            user_id=mentees[n].id,
            role="mentee",
            recommend=score,
            went_well=f"Went well {n}" if n != 5 else None,
            to_change="=HYPERLINK(1)" if n == 0 else None,
            answered_at=at(day - timedelta(days=1)),
        )
        db.session.add(retro)
        db.session.flush()
        if n < 5:
            before, after = growth[n]
            db.session.add(
                RetrospectiveSkill(
                    retrospective_id=retro.id,
                    choice_id=skills["communication"].id,
                    level_before=before,
                    level_after=after,
                )
            )
        else:
            db.session.add(
                RetrospectiveSkill(
                    retrospective_id=retro.id, choice_id=skills["feedback"].id, level_before=2, level_after=5
                )
            )
    # A skipped retrospective counts nowhere.
    db.session.add(
        Retrospective(
            pairing_id=pairings[6].id,
            cycle_id=now.id,
            user_id=mentees[6].id,
            role="mentee",
            skipped_at=at(day),
        )
    )

    # Nudges in the window of "Now": five, three opened, two to people who then enrolled; one outside.
    sender = mentors[0]
    emails = [mentees[0].email, mentees[1].email, "a@example.com", "b@example.com", "c@example.com"]
    for n, email in enumerate(emails):
        db.session.add(
            Nudge(
                sender_id=sender.id,
                recipient_email=email,
                message="Hello",
                created_at=at(day - timedelta(days=85)),
                opened_at=at(day - timedelta(days=84)) if n < 3 else None,
            )
        )
    db.session.add(
        Nudge(
            sender_id=sender.id, recipient_email="d@example.com", message="Hi", created_at=at(day - timedelta(days=2))
        )
    )
    for _ in range(7):
        db.session.add(InterestEvent(kind=InterestKind.VISIT, occurred_on=day - timedelta(days=85)))
    db.session.add(InterestEvent(kind=InterestKind.VISIT, occurred_on=day - timedelta(days=10)))
    db.session.add(InterestEvent(kind=InterestKind.START, occurred_on=day - timedelta(days=85)))
    db.session.commit()
    make_roster_entry(email="roster-only-1@example.com")
    make_roster_entry(email="roster-only-2@example.com")
    make_roster_entry(email=mentees[0].email)  # on the roster and with an account: counted once
    return {"now": now, "earlier": earlier, "pairings": pairings, "old_pairings": old_pairings, "mentees": mentees}


def test_the_funnel_counts_each_step_and_hides_groups_under_five(world):
    now = world["now"]
    funnel = measures.funnels([now])[now.id]
    from portal.models import User

    accounts = db.session.query(User).count()
    assert funnel.roster.value == accounts + 2
    assert funnel.curious.value == 7  # visits inside the window only
    assert (funnel.mentees.value, funnel.mentors.value) == (9, 5)
    assert funnel.matched.value == 8
    assert funnel.met.value == 6
    assert funnel.set_goal.value == 6
    assert funnel.achieved_goal.value == 3 and funnel.achieved_goal.text == "fewer than 5"
    assert funnel.match_rate.text == "89 %"
    assert funnel.days_to_match.value == 4.5 and funnel.days_to_match.text == "4.5 days"


def test_meetings_count_held_cancelled_moved_and_pairs_without(world):
    now = world["now"]
    m = measures.meetings([now])[now.id]
    assert m.pairs.value == 8
    assert m.held.value == 12
    assert m.per_pair.value == 1
    assert m.cancelled.text == "1" and m.moved.text == "1"
    assert m.without.value == 2 and m.without.text == "fewer than 5"
    assert [(label, fig.value) for label, fig in m.distribution] == [
        ("none", 2),
        ("1", 3),
        ("2", 1),
        ("3 to 5", 2),
        ("6 to 10", 0),
        ("11 or more", 0),
    ]
    assert m.distribution[0][1].text == "fewer than 5" and m.distribution[4][1].text == "0"


def test_a_goal_achieved_on_its_due_date_is_on_time(world):
    now = world["now"]
    goals = measures.goals([now])[now.id]
    total = goals.total
    assert (total.set.value, total.achieved.value, total.set_aside.value) == (6, 3, 1)
    # Due so far: g1 (on its due date, on time), g2 (a day late) and g4 (active, overdue) -> 1 of 3.
    assert total.on_time.text == "33 %"


def test_goals_roll_up_by_objective_and_skill_with_small_groups_hidden(world):
    now = world["now"]
    goals = measures.goals([now])[now.id]
    rows = {row.label: row for row in goals.by_objective}
    assert rows["Ship the new billing"].level == "product"
    assert rows["Ship the new billing"].set.value == 5 and rows["Ship the new billing"].achieved.text == "3"
    assert rows["No objective named"].set.text == "fewer than 5"
    levels = {row.label: row for row in goals.by_level}
    assert levels["Product objectives"].achieved.text == "3"
    assert levels["No objective named"].set.text == "fewer than 5"
    skills = {row.label: row for row in goals.by_skill}
    assert skills["Communication"].set.text == "5"
    assert skills["Giving and receiving feedback"].set.text == "fewer than 5"


def test_a_level_counts_a_mentee_with_goals_under_two_of_its_objectives_once():
    # Three mentees set goals under "Faster releases", two of them under "Fewer incidents" too: five goals at the
    # product level, but three people behind them, so the level's figures are hidden like any group under 5.
    cycle = make_cycle()
    releases = Objective(title="Faster releases", level=ObjectiveLevel.PRODUCT)
    incidents = Objective(title="Fewer incidents", level=ObjectiveLevel.PRODUCT)
    db.session.add_all([releases, incidents])
    db.session.flush()
    pairings = [make_pairing(cycle=cycle) for _ in range(3)]
    for pairing, objective in [*((p, releases) for p in pairings), *((p, incidents) for p in pairings[:2])]:
        db.session.add(
            Goal(pairing_id=pairing.id, title="A goal", outcome="o", measure="m", target="t", project="p",
                 due_on=today() + timedelta(days=30), objective_id=objective.id, created_by_id=pairing.mentee_id)
        )  # fmt: skip
    db.session.commit()
    goals = measures.goals([cycle])[cycle.id]
    rows = {row.label: (row.set.value, row.set.base) for row in goals.by_objective}
    assert rows == {"Faster releases": (3, 3), "Fewer incidents": (2, 2)}
    [level] = goals.by_level
    assert (level.label, level.set.value, level.set.base, level.set.text) == (
        "Product objectives",
        5,
        3,
        "fewer than 5",
    )


def test_growth_is_the_average_change_from_baseline_by_skill(world):
    now = world["now"]
    rows = {row.label: row for row in measures.growth([now])[now.id]}
    assert rows["Communication"].before.value == 2.2
    assert rows["Communication"].after.value == 3.4
    assert rows["Communication"].change.text == "+1.2"
    assert rows["Giving and receiving feedback"].change.text == "fewer than 5"


def test_the_recommend_score_is_promoters_minus_detractors(world):
    now = world["now"]
    s = measures.satisfaction([now])[now.id]
    assert s.answered.value == 6  # the skipped one is not an answer
    assert s.recommend.text == "+40"  # 3 promoters, 1 detractor, 5 scores
    assert s.recommend_mentors.text == "none yet"


def test_a_pairing_closed_early_on_the_cycles_last_day_counts_in_that_cycle(world):
    earlier = world["earlier"]
    s = measures.satisfaction([earlier])[earlier.id]
    assert s.ended_early.value == 1 and s.ended_early.text == "fewer than 5"
    funnel = measures.funnels([earlier])[earlier.id]
    assert funnel.matched.value == 5 and funnel.match_rate.text == "100 %"


def test_nudges_are_rates_over_those_delivered_in_the_window(world):
    now = world["now"]
    n = measures.nudges([now])[now.id]
    assert n.invited.value == 5
    assert n.opened.text == "60 %"
    assert n.joined.text == "40 %"


def test_free_text_waits_for_five_answers_and_has_no_names(world):
    now = world["now"]
    answered, well, change = measures.free_text(now)
    assert answered == 6
    assert well == [f"Went well {n}" for n in range(5)]
    assert change == ["=HYPERLINK(1)"]
    db.session.query(Retrospective).filter(Retrospective.user_id == world["mentees"][0].id).delete()
    db.session.query(Retrospective).filter(Retrospective.user_id == world["mentees"][1].id).delete()
    assert measures.free_text(now) == (4, [], [])


def test_the_report_compares_with_the_previous_cycle(world):
    now = world["now"]
    report = cycle_report(now, report_cycles())
    assert report.previous.name == "Earlier"
    changes = {change.key: change for change in report.headlines}
    assert changes["match_rate"].difference == "-11 points"  # 89 % now, 100 % before
    assert changes["mentees"].difference == "+4"
    across = report.tables["across"]
    assert across.columns == ["Measure", "Earlier", "Now", "Change from the one before"]
    assert ["Match rate", "100 %", "89 %", "-11 points"] == [
        cell if isinstance(cell, str) else cell.text for cell in across.rows[1]
    ]


@pytest.fixture
def backup(world):
    """The back-up plan's data on top of ``world``, counted by hand.

    Check-ins in "Now": the first check-in answered by 9 partners (6 "going well", 2 "finding our feet",
    1 "not a good fit") and skipped by one; pulse 1 answered by 5 (4, 4, 5, 3, 2: average 3.6); pulse 2 by 3.
    17 answers from 9 people (mentees m1..m7 and two mentors). "Earlier": 2 answers from 2 people.
    Closing surveys in "Now": six extra pairings closed early, 5 for schedules and 1 not a fit; suitability
    2, 3, 3, 4, 5 and one left empty (average 3.4 over 5). "Earlier": its one pairing closed early, suitability 4.
    Help in "Now": six questions from six people (one about no pairing); five answered after 0.5, 2, 1, 3
    and 0.25 days (median 1), one waiting. "Earlier": two questions (one about no pairing, sent while it ran).
    """
    day = today()
    now, earlier = world["now"], world["earlier"]
    pairings, old_pairings, mentees = world["pairings"], world["old_pairings"], world["mentees"]

    def check_in(pairing, user_id, round_, *, fit=None, score=None, skipped=False):
        moment = at(day - timedelta(days=3))
        db.session.add(
            CheckIn(
                pairing_id=pairing.id,
                user_id=user_id,
                round=round_,
                fit=fit,
                score=score,
                note="Private to the director",
                answered_at=None if skipped else moment,
                skipped_at=moment if skipped else None,
            )
        )

    for n in range(6):
        check_in(pairings[n], mentees[n].id, 0, fit=Fit.GOING_WELL)
    check_in(pairings[0], pairings[0].mentor_id, 0, fit=Fit.FINDING_FEET)
    check_in(pairings[1], pairings[1].mentor_id, 0, fit=Fit.FINDING_FEET)
    check_in(pairings[6], mentees[6].id, 0, fit=Fit.NOT_A_FIT)
    check_in(pairings[7], mentees[7].id, 0, skipped=True)
    for n, score in enumerate([4, 4, 5, 3, 2]):
        check_in(pairings[n], mentees[n].id, 1, score=score)
    for n, score in enumerate([5, 5, 4]):
        check_in(pairings[n], mentees[n].id, 2, score=score)
    check_in(old_pairings[0], old_pairings[0].mentee_id, 0, fit=Fit.GOING_WELL)
    check_in(old_pairings[1], old_pairings[1].mentee_id, 1, score=5)

    ended = at(day - timedelta(days=4))
    for n, (reason, suitability) in enumerate(
        [
            (ClosingReason.SCHEDULES, 2),
            (ClosingReason.SCHEDULES, 3),
            (ClosingReason.SCHEDULES, 3),
            (ClosingReason.SCHEDULES, 4),
            (ClosingReason.SCHEDULES, None),
            (ClosingReason.NOT_A_FIT, 5),
        ]
    ):
        closed = Pairing(
            cycle_id=now.id,
            mentor_id=make_user(team="Design").id,
            mentee_id=make_user(team="Data").id,
            source="request",
            status=PairingStatus.ENDED,
            ended_at=ended,
            end_kind=PairingEnd.CLOSED_EARLY,
        )
        db.session.add(closed)
        db.session.flush()
        db.session.add(
            ClosingSurvey(
                pairing_id=closed.id,
                ended_by_id=closed.mentee_id,
                reason=reason,
                suitability=suitability,
                note=f"Private closing note {n}",
            )
        )
    db.session.add(
        ClosingSurvey(
            pairing_id=old_pairings[4].id,
            ended_by_id=old_pairings[4].mentee_id,
            reason=ClosingReason.LEAVING,
            suitability=4,
        )
    )

    director = make_user(role="director")
    stranger = make_user(team="Legal")

    def ask(user_id, pairing, sent, answers=(), status=HelpStatus.IN_PROGRESS):
        request = HelpRequest(
            user_id=user_id,
            pairing_id=pairing.id if pairing else None,
            topic="other",
            status=status,
            created_at=sent,
            updated_at=sent,
        )
        db.session.add(request)
        db.session.flush()
        db.session.add(HelpMessage(help_request_id=request.id, author_id=user_id, body="Help, please", created_at=sent))
        for moment in answers:
            db.session.add(
                HelpMessage(
                    help_request_id=request.id,
                    author_id=director.id,
                    from_director=True,
                    body="An answer",
                    created_at=moment,
                )
            )
        return request

    d = day - timedelta(days=10)
    ask(mentees[0].id, pairings[0], at(d, 9), [at(d, 21)])  # half a day
    # Two answers: the first counts. The asker's own later message is no answer.
    ask(mentees[1].id, pairings[1], at(d, 12), [at(d + timedelta(days=3), 12), at(d + timedelta(days=2), 12)])
    late = ask(pairings[2].mentor_id, pairings[2], at(d, 12), [at(d + timedelta(days=1), 12)])
    db.session.add(
        HelpMessage(help_request_id=late.id, author_id=pairings[2].mentor_id, body="More", created_at=at(d, 13))
    )
    ask(mentees[3].id, pairings[3], at(d), [at(d + timedelta(days=3))])  # three days
    ask(stranger.id, None, at(d, 12), [at(d, 18)])  # a quarter of a day, about no pairing
    ask(mentees[4].id, pairings[4], at(day - timedelta(days=1)), status=HelpStatus.NEW)  # waiting
    ask(old_pairings[0].mentee_id, old_pairings[0], at(earlier.ends_on - timedelta(days=20)), [at(earlier.ends_on)])
    ask(stranger.id, None, at(earlier.ends_on - timedelta(days=10)), status=HelpStatus.RESOLVED)
    db.session.commit()
    return world


def test_check_in_answers_read_as_the_first_check_in_then_each_pulse(backup):
    now, earlier = backup["now"], backup["earlier"]
    found = measures.checkin_answers([now.id, earlier.id])
    checkins = found[now.id]
    assert (checkins.answers.value, checkins.answers.base, checkins.answers.text) == (17, 9, "17")
    assert [(answer, fig.text) for answer, fig in checkins.first] == [
        ("Going well", "6"),
        ("Still finding our feet", "fewer than 5"),
        ("Not a good fit", "fewer than 5"),
    ]
    pulse_1, pulse_2 = checkins.pulses
    assert (pulse_1.label, pulse_1.answers.text, pulse_1.average.value, pulse_1.average.text) == (
        "Pulse 1",
        "5",
        3.6,
        "3.6",
    )
    assert (pulse_2.answers.text, pulse_2.average.text) == ("fewer than 5", "fewer than 5")
    assert pulse_2.average.value == 4.7  # known, never shown
    old = found[earlier.id]
    assert old.answers.value == 2 and old.answers.text == "fewer than 5"
    assert [p.average.text for p in old.pulses] == ["fewer than 5"]


def test_closing_reasons_and_suitability_come_from_the_closing_surveys(backup):
    now, earlier = backup["now"], backup["earlier"]
    found = measures.closing_reasons([now.id, earlier.id])
    closing = found[now.id]
    assert closing.surveys.text == "6"
    reasons = {reason: fig.text for reason, fig in closing.reasons}
    assert reasons == {
        "Our goals are met": "0",
        "Our schedules don't fit": "5",
        "Not the right fit": "fewer than 5",
        "I'm leaving the company": "0",
        "Something else": "0",
    }
    assert (closing.suitability.value, closing.suitability.base, closing.suitability.text) == (3.4, 5, "3.4")
    old = found[earlier.id]
    assert old.suitability.value == 4 and old.suitability.text == "fewer than 5"
    assert old.surveys.text == "fewer than 5"


def test_help_requests_and_the_directors_median_answer_time(backup):
    now, earlier = backup["now"], backup["earlier"]
    found = measures.help_requests([now.id, earlier.id])
    help = found[now.id]
    assert (help.requests.value, help.requests.base, help.requests.text) == (6, 6, "6")
    assert (help.answer_days.value, help.answer_days.base, help.answer_days.text) == (1, 5, "1 day")
    old = found[earlier.id]
    assert old.requests.value == 2 and old.requests.text == "fewer than 5"
    assert old.answer_days.value == 20 and old.answer_days.text == "fewer than 5"


def test_the_median_answer_time_keeps_a_fraction_of_a_day(backup):
    now = backup["now"]
    slow = db.session.query(HelpRequest).filter(HelpRequest.user_id == backup["mentees"][3].id).one()
    db.session.query(HelpMessage).filter(HelpMessage.help_request_id == slow.id).delete()
    # Left: 0.25, 0.5, 1 and 2 days from four people: fewer than 5, though the middle value is known.
    help = measures.help_requests([now.id])[now.id]
    assert help.answer_days.value == 0.8 and help.answer_days.text == "fewer than 5"


def test_the_satisfaction_table_and_its_new_tables_read_the_back_up_plan(backup):
    now = backup["now"]
    report = cycle_report(now, report_cycles())
    cells = {row[0]: row[1].text for row in report.tables["satisfaction"].rows}
    assert cells["Closing surveys"] == "6"
    assert cells["Suitability of matches"] == "3.4"
    assert cells["Check-in answers"] == "17"
    assert cells["Help requests"] == "6"
    assert cells["Median days to answer help"] == "1 day"
    assert cells["Pairings closed early"] == "6"
    pulses = report.tables["pulses"]
    assert [[c if isinstance(c, str) else c.text for c in row] for row in pulses.rows] == [
        ["Pulse 1", "5", "3.6"],
        ["Pulse 2", "fewer than 5", "fewer than 5"],
    ]
    # Nothing the director reads here carries a note, a thread or a name.
    text = repr(report)
    assert "Private" not in text and "Help, please" not in text and "An answer" not in text
    assert backup["mentees"][0].display_name not in text


def test_pairs_needing_help_are_counted_as_the_board_counts_them(world):
    # In "Now" the two pairs that never met (paired 50 and more days ago) might need a check-in.
    figure = measures.pairs_needing_help(world["now"])
    assert (figure.value, figure.text) == (2, "2")  # a work queue: its size is shown, the board lists each


def test_help_requests_waiting_count_questions_without_a_first_answer(backup):
    figure, waiting = measures.help_requests_waiting()
    assert (figure.value, figure.text) == (1, "1")
    assert waiting.oldest is not None


def test_the_report_takes_a_fixed_number_of_queries(world):
    from tests.conftest import count_queries

    now = world["now"]
    with count_queries() as small:
        cycle_report(now, report_cycles())
    for pairing in world["pairings"]:
        for k in range(3):
            make_meeting(pairing, days_from_now=-(40 + k))
        # The back-up plan's sources grow too: check-ins, a closing survey, a question with its answer.
        for round_ in range(3):
            answered = at(today())
            db.session.add(
                CheckIn(pairing_id=pairing.id, user_id=pairing.mentee_id, round=round_, score=3, answered_at=answered)
            )
        request = HelpRequest(user_id=pairing.mentee_id, pairing_id=pairing.id, topic="other")
        db.session.add(request)
        db.session.flush()
        answer = HelpMessage(help_request_id=request.id, author_id=pairing.mentor_id, from_director=True, body="A")
        db.session.add(answer)
    survey = ClosingSurvey(
        pairing_id=world["old_pairings"][4].id, ended_by_id=world["mentees"][0].id, reason=ClosingReason.OTHER
    )
    db.session.add(survey)
    db.session.commit()
    with count_queries() as changed:
        cycle_report(now, report_cycles())
    forget_kept()
    with count_queries() as bigger:
        cycle_report(now, report_cycles())
    with count_queries() as kept:
        cycle_report(now, report_cycles())
    # Every measure grouped by cycle (the back-up plan adds three), the cycles and the stamps, whatever the size;
    # kept, the cycles and the stamps.
    assert (small[0], bigger[0], kept[0]) == (20, 20, 2)
    # Only the measures that read what changed ran again: the funnel's matched part (1 query), meetings (1),
    # satisfaction (5). The funnel's enrolment and goals parts stay kept.
    assert changed[0] == 2 + 1 + 1 + 5


def test_meetings_moved_and_cancelled_in_the_journal_are_counted_as_they_happen():
    from portal.journals.services import cancel_meeting, reschedule_meeting
    from portal.models import User

    cycle = make_cycle()
    pairing = make_pairing(cycle=cycle)
    mentor = db.session.get(User, pairing.mentor_id)
    first, second = (make_meeting(pairing, status="planned", days_from_now=days) for days in (3, 4))

    def cancelled_and_moved():
        counted = measures.meetings([cycle])[cycle.id]
        return counted.cancelled.value, counted.moved.value

    assert cancelled_and_moved() == (0, 0)
    for days in (6, 7):  # moved twice: still one meeting moved
        at = first.starts_at.time()
        reschedule_meeting(first, pairing, mentor, on=today() + timedelta(days=days), at=at, reason="Offsite",
                           today=today())  # fmt: skip
        db.session.commit()
        assert cancelled_and_moved() == (0, 1)
    for meeting in (first, second):
        cancel_meeting(meeting, pairing, mentor, reason="Unwell")
        db.session.commit()
    assert cancelled_and_moved() == (2, 1)
    db.session.delete(first)
    db.session.commit()
    assert cancelled_and_moved() == (1, 0)
    # Any write of the column counts, not only the journal's (which moves the time too): an import, a fix by hand.
    second.reschedules = 1
    db.session.commit()
    assert cancelled_and_moved() == (1, 1)
