"""Pair health, rule by rule, and the check-in rounds: pure functions of a pair's facts, no page needed."""

from __future__ import annotations

from datetime import date, timedelta

from portal.models import Fit
from portal.support.health import (
    Answer,
    HealthState,
    PairFacts,
    Thresholds,
    current_round,
    due_round,
    first_check_in_on,
    health_of,
    rule_low_pulse,
    rule_not_a_fit,
    rule_open_help,
    rule_overdue_milestones,
    rule_quiet,
)

TODAY = date(2027, 3, 1)
T = Thresholds()


def facts(**overrides) -> PairFacts:
    values = {"pairing_id": 1, "created_on": TODAY - timedelta(days=60)}
    values.update(overrides)
    return PairFacts(**values)


def answer(user_id=1, round=0, fit=None, score=None, answered=True, skipped=False) -> Answer:
    return Answer(user_id, round, fit, score, answered, skipped)


def test_quiet_for_five_weeks_needs_a_check_in_and_says_how_long():
    assert rule_quiet(facts(last_held_on=TODAY - timedelta(weeks=6)), T, TODAY) == "No meeting logged in 6 weeks"
    assert rule_quiet(facts(last_held_on=TODAY - timedelta(weeks=4)), T, TODAY) is None


def test_quiet_counts_from_the_start_when_the_pair_never_met():
    assert rule_quiet(facts(created_on=TODAY - timedelta(weeks=5)), T, TODAY) == "No meeting logged in 5 weeks"
    assert rule_quiet(facts(created_on=TODAY - timedelta(weeks=2)), T, TODAY) is None


def test_the_quiet_threshold_is_the_cycles_setting():
    quiet = facts(last_held_on=TODAY - timedelta(weeks=3))
    assert rule_quiet(quiet, T, TODAY) is None
    assert rule_quiet(quiet, Thresholds(quiet_warning_weeks=3), TODAY) == "No meeting logged in 3 weeks"


def test_two_overdue_milestones_are_named_in_words():
    assert rule_overdue_milestones(facts(overdue_milestones=2), T, TODAY) == "Two milestones overdue"
    assert rule_overdue_milestones(facts(overdue_milestones=1), T, TODAY) is None
    assert rule_overdue_milestones(facts(overdue_milestones=1), Thresholds(overdue_milestones=1), TODAY) == (
        "One milestone overdue"
    )


def test_a_partner_answering_not_a_good_fit_is_flagged_without_saying_who():
    assert rule_not_a_fit(facts(said_not_a_fit=True), T, TODAY) == "A partner answered Not a good fit"
    assert rule_not_a_fit(facts(), T, TODAY) is None


def test_a_low_latest_pulse_is_flagged_with_its_score():
    assert rule_low_pulse(facts(lowest_latest_pulse=2), T, TODAY) == "A partner's latest pulse was 2 of 5"
    assert rule_low_pulse(facts(lowest_latest_pulse=1), T, TODAY) == "A partner's latest pulse was 1 of 5"
    assert rule_low_pulse(facts(lowest_latest_pulse=3), T, TODAY) is None
    assert rule_low_pulse(facts(), T, TODAY) is None


def test_an_open_question_for_the_director_is_flagged():
    assert rule_open_help(facts(open_help=1), T, TODAY) == "A question for the director is open"
    assert rule_open_help(facts(), T, TODAY) is None


def test_health_gathers_every_reason():
    health = health_of(facts(last_held_on=TODAY - timedelta(weeks=6), overdue_milestones=3, open_help=1), T, TODAY)
    assert health.state == HealthState.NEEDS_CHECK_IN
    assert health.label == "Might need a check-in"
    assert health.reasons == (
        "No meeting logged in 6 weeks",
        "Three milestones overdue",
        "A question for the director is open",
    )


def test_a_young_pair_without_a_meeting_is_too_early_to_tell():
    health = health_of(facts(created_on=TODAY - timedelta(days=9)), T, TODAY)
    assert health.state == HealthState.TOO_EARLY
    assert health.reasons == ("Paired 9 days ago, no meeting logged yet",)


def test_a_pair_meeting_regularly_is_on_track():
    health = health_of(
        facts(first_held_on=TODAY - timedelta(days=40), last_held_on=TODAY - timedelta(days=6), held_count=4), T, TODAY
    )
    assert health.state == HealthState.ON_TRACK
    assert health.label == "On track"
    assert health.reasons == ("Last met 6 days ago",)


def test_a_paused_pair_raises_no_warning():
    paused = facts(last_held_on=TODAY - timedelta(weeks=8), open_help=1, paused_until=TODAY + timedelta(days=10))
    health = health_of(paused, T, TODAY)
    assert health.state == HealthState.PAUSED
    assert health.reasons == ("Paused until 11 March 2027",)
    # The day it ends, the pair is judged again.
    assert health_of(paused, T, TODAY + timedelta(days=10)).state == HealthState.NEEDS_CHECK_IN


def test_pairs_sort_by_need():
    states = [
        health_of(facts(paused_until=TODAY + timedelta(days=3)), T, TODAY),
        health_of(facts(last_held_on=TODAY - timedelta(days=2), held_count=1), T, TODAY),
        health_of(facts(open_help=1, last_held_on=TODAY, held_count=1), T, TODAY),
        health_of(facts(open_help=1, overdue_milestones=2, last_held_on=TODAY, held_count=1), T, TODAY),
        health_of(facts(created_on=TODAY - timedelta(days=2)), T, TODAY),
    ]
    ordered = [h.state for h in sorted(states, key=lambda h: h.need)]
    assert ordered == ["needs_check_in", "needs_check_in", "too_early", "on_track", "paused"]
    assert len(sorted(states, key=lambda h: h.need)[0].reasons) == 2


def test_the_first_check_in_comes_days_after_the_first_meeting_or_after_two_weeks():
    met_early = facts(created_on=TODAY, first_held_on=TODAY + timedelta(days=2))
    assert first_check_in_on(met_early, T) == TODAY + timedelta(days=5)
    never_met = facts(created_on=TODAY)
    assert first_check_in_on(never_met, T) == TODAY + timedelta(days=14)


def test_rounds_are_the_first_question_then_a_pulse_every_six_weeks():
    pair = facts(created_on=TODAY - timedelta(days=14))
    assert current_round(pair, T, TODAY - timedelta(days=1)) is None
    assert current_round(pair, T, TODAY) == 0
    assert current_round(pair, T, TODAY + timedelta(weeks=6) - timedelta(days=1)) == 0
    assert current_round(pair, T, TODAY + timedelta(weeks=6)) == 1
    assert current_round(pair, Thresholds(pulse_weeks=4), TODAY + timedelta(weeks=4)) == 1


def test_a_round_is_due_until_answered_or_skipped_by_that_person_and_never_while_paused():
    pair = facts(created_on=TODAY - timedelta(days=14))
    assert due_round(pair, T, TODAY, user_id=1) == 0
    pair.answers.append(answer(2, round=0, fit=Fit.GOING_WELL))
    assert due_round(pair, T, TODAY, user_id=1) == 0  # the partner's answer is theirs
    pair.answers.append(answer(1, round=0, answered=False, skipped=True))
    assert due_round(pair, T, TODAY, user_id=1) is None
    assert (
        due_round(facts(created_on=TODAY - timedelta(days=14), paused_until=TODAY + timedelta(days=1)), T, TODAY, 1)
        is None
    )
