"""Readable examples of matching: the formula, the reasons, the bands, the rules and the honest 'why not'."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from portal.matching import (
    ALL_EXCLUDED,
    ALL_SUITABLE_FULL,
    NO_ROOM,
    NO_ROOM_OUTSIDE_TEAM,
    NO_WRITTEN,
    OWN_TEAM,
    MentorIndex,
    MentorSlot,
    Person,
    Weights,
    assign,
    band,
    is_allowed,
    recommend,
    score_matrix,
    score_pair,
)
from portal.matching.scoring import _bit_count_by_table

LABELS = {
    "values": {"curiosity": "Curiosity", "kindness": "Kindness"},
    "skills": {"negotiation": "Negotiation", "feedback": "Giving and receiving feedback"},
    "interests": {"design": "Design", "data": "Data and analytics"},
    "experiences": {"career_change": "Changing career"},
    "formats": {"walk": "A walk"},
}


def person(id: int, team_id: int = 1, name: str = "", **answers) -> Person:
    return Person(id=id, name=name or f"Person {id}", team_id=team_id, **answers)


def slot(mentor: Person, free_slots: int = 1, paused: bool = False) -> MentorSlot:
    return MentorSlot(mentor, free_slots=free_slots, paused=paused)


# --- the formula ------------------------------------------------------------------------------------------


def test_score_follows_the_documented_formula():
    mentee = person(
        1,
        team_id=1,
        values={"curiosity", "kindness"},
        interests={"design", "data", "writing"},
        experiences={"career_change"},
        skills_grow={"negotiation", "feedback"},
        formats={"walk", "video"},
        time="1h",
        perspective="different",
    )
    mentor = person(
        2,
        team_id=2,
        values={"curiosity", "craft", "courage"},
        interests={"design"},
        experiences={"relocation"},
        skills_offer={"negotiation"},
        formats={"walk"},
        time="2h",
    )
    values = 1 / 2  # one shared, the smaller list has two
    interests = 1 / 1
    experiences = 0 / 1
    skills = 1 / 2
    logistics = 0.5 * 1 + 0.5 * (1 - 2 / 3)  # a shared format; 1h and 2h are two steps apart
    perspective = 1 - 1 / 5  # background: design shared, 5 distinct choices between them
    expected = round(
        (25 * values + 15 * interests + 15 * experiences + 25 * skills + 10 * logistics + 10 * perspective) / 100 * 100
    )
    assert score_pair(mentee, mentor).score == expected == 55


def test_weights_need_not_add_up_to_100():
    mentee = person(1, team_id=1, values={"curiosity"}, skills_grow={"negotiation"})
    mentor = person(2, team_id=2, values={"kindness"}, skills_offer={"negotiation"})
    only_skills = Weights(values=0, interests=0, experiences=0, skills=3, logistics=0, perspective=0)
    only_values = Weights(values=7, interests=0, experiences=0, skills=0, logistics=0, perspective=0)
    assert score_pair(mentee, mentor, only_skills).score == 100
    assert score_pair(mentee, mentor, only_values).score == 0


def test_a_written_introduction_counts_as_fitting_formats():
    mentee = person(1, team_id=1, formats={"video"}, start="written_intro")
    writer = person(2, team_id=2, formats={"written"})
    talker = person(3, team_id=2, formats={"in_person"})
    only_logistics = Weights(values=0, interests=0, experiences=0, skills=0, logistics=1, perspective=0)
    # Formats fit (1) and the time is unknown (0.5): 0.5 * 1 + 0.5 * 0.5.
    assert score_pair(mentee, writer, only_logistics).score == 75
    assert score_pair(mentee, talker, only_logistics).score == 25


# --- reasons ----------------------------------------------------------------------------------------------


def test_reasons_are_plain_sentences_best_first():
    mentee = person(
        1,
        team_id=1,
        values={"curiosity", "kindness"},
        skills_grow={"negotiation"},
        interests={"design"},
        formats={"walk"},
    )
    mentor = person(
        2,
        team_id=2,
        name="Asha Rao",
        values={"curiosity", "kindness", "craft"},
        skills_offer={"negotiation", "feedback"},
        interests={"design", "data"},
        formats={"walk"},
    )
    assert score_pair(mentee, mentor, labels=LABELS).reasons == (
        "Asha offers negotiation, which you want to grow",
        "You both value curiosity and kindness",
        "You share an interest in design",
    )


def test_reasons_use_labels_and_fall_back_to_readable_keys():
    mentee = person(1, team_id=1, experiences={"career_change", "first_time_manager"})
    mentor = person(2, team_id=2, experiences={"career_change", "first_time_manager"})
    only_experiences = Weights(values=0, interests=0, experiences=1, skills=0, logistics=0, perspective=0)
    assert score_pair(mentee, mentor, only_experiences, LABELS).reasons == (
        "You have both been through changing career and first time manager",
    )
    assert score_pair(mentee, mentor, only_experiences).reasons == (
        "You have both been through career change and first time manager",
    )


def test_logistics_and_perspective_reasons():
    mentee = person(1, team_id=1, formats={"walk", "video"}, perspective="different", interests={"arts"})
    mentor = person(2, team_id=2, formats={"walk"}, interests={"data"})
    match = score_pair(mentee, mentor, Weights(values=0, interests=0, experiences=0, skills=0))
    assert match.reasons == (
        "Another team and a different perspective, as you asked",
        "You both like to meet on a walk",
    )
    similar = person(3, team_id=2, time="1h", interests={"arts"})
    asks_similar = person(4, team_id=1, time="90m", perspective="like_me", interests={"arts"})
    assert score_pair(asks_similar, similar, Weights(values=0, interests=0, experiences=0, skills=0)).reasons == (
        "A path much like yours, as you asked",
        "Your available time fits",
    )


def test_components_that_add_nothing_give_no_reason():
    match = score_pair(person(1, team_id=1), person(2, team_id=2))
    assert match.reasons == ()
    # Only the logistics (unknown time, no formats) and "no preference" perspective count.
    assert match.score == round(10 * 0.75 + 10 * 0.5)


# --- bands and weights ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "words"),
    [
        (100, "Strong fit"),
        (70, "Strong fit"),
        (69, "Good fit"),
        (45, "Good fit"),
        (44, "Possible fit"),
        (0, "Possible fit"),
    ],
)
def test_band_thresholds(score, words):
    assert band(score) == words


def test_weights_from_a_mapping():
    weights = Weights.from_dict({"values": "40", "skills": 10, "colour": 3})
    assert weights.as_dict() == {
        "values": 40.0,
        "interests": 15.0,
        "experiences": 15.0,
        "skills": 10.0,
        "logistics": 10.0,
        "perspective": 10.0,
    }
    assert Weights.from_dict(weights.as_dict()) == weights


@pytest.mark.parametrize(
    "data",
    [
        {"values": -1},
        {"values": 0, "interests": 0, "experiences": 0, "skills": 0, "logistics": 0, "perspective": 0},
        {"skills": "lots"},
        {"skills": None},
        {"skills": float("nan")},
        {"skills": True},
    ],
)
def test_weights_reject_negative_zero_and_non_numbers(data):
    with pytest.raises(ValueError):
        Weights.from_dict(data)


# --- the rules --------------------------------------------------------------------------------------------


def test_hard_constraints():
    mentee = person(1, team_id=1, excluded={9})
    assert is_allowed(mentee, person(2, team_id=2))
    assert not is_allowed(mentee, person(1, team_id=2)), "the same person"
    assert not is_allowed(mentee, person(3, team_id=1)), "the same team"
    assert not is_allowed(mentee, person(9, team_id=2)), "excluded by the mentee"
    assert not is_allowed(mentee, person(4, team_id=2, excluded={1})), "excluded by the mentor"
    assert not is_allowed(mentee, person(2, team_id=2), forbidden=frozenset({(1, 2)})), "ended this cycle"
    assert is_allowed(mentee, person(2, team_id=2), forbidden=frozenset({(2, 1)})), "direction matters"
    writer = person(5, team_id=1, formats={"written"})
    assert not is_allowed(writer, person(6, team_id=2, formats={"video"}))
    assert not is_allowed(writer, person(6, team_id=2))
    assert is_allowed(writer, person(6, team_id=2, formats={"video", "written"}))


def test_score_matrix_marks_forbidden_pairs():
    mentees = [person(1, team_id=1), person(2, team_id=2)]
    mentors = [person(3, team_id=1), person(4, team_id=3)]
    matrix = score_matrix(mentees, mentors, forbidden=frozenset({(2, 4)}))
    assert matrix.shape == (2, 2)
    assert matrix[0, 0] == -1 and matrix[1, 1] == -1
    assert matrix[0, 1] == score_pair(mentees[0], mentors[1]).score


def test_people_without_a_team_are_treated_alike_everywhere():
    mentees = [person(1, team_id=None), person(2, team_id=1)]
    mentors = [person(3, team_id=None), person(4, team_id=2)]
    matrix = score_matrix(mentees, mentors)
    for i, mentee in enumerate(mentees):
        for j, mentor in enumerate(mentors):
            assert (matrix[i, j] >= 0) == is_allowed(mentee, mentor)
    assert matrix[0, 0] == -1


# --- recommend --------------------------------------------------------------------------------------------


def test_recommend_orders_by_score_then_id_and_skips_who_it_should():
    mentee = person(1, team_id=1, skills_grow={"negotiation"})
    mentors = [
        slot(person(5, team_id=2, skills_offer={"negotiation"})),
        slot(person(4, team_id=2, skills_offer={"negotiation"})),
        slot(person(3, team_id=2)),
        slot(person(6, team_id=2, skills_offer={"negotiation"}), paused=True),
        slot(person(7, team_id=2, skills_offer={"negotiation"}), free_slots=0),
        slot(person(8, team_id=1, skills_offer={"negotiation"})),
        slot(person(9, team_id=2, skills_offer={"negotiation"})),
    ]
    assert [m.mentor_id for m in recommend(mentee, mentors)] == [4, 5, 9, 3]
    assert [m.mentor_id for m in recommend(mentee, MentorIndex(mentors), limit=2, skip={4})] == [5, 9]
    assert [m.mentor_id for m in recommend(mentee, mentors, forbidden=frozenset({(1, 5)}))] == [4, 9, 3]
    assert recommend(mentee, mentors, limit=0) == []
    assert recommend(mentee, []) == []
    with pytest.raises(ValueError):
        recommend(mentee, mentors, limit=-1)


# --- assign -----------------------------------------------------------------------------------------------


def test_assign_prefers_the_best_total_over_greedy_choices():
    # Greedy would give mentee 1 its favourite (mentor 10) and leave mentee 2 with a poor fit.
    mentee_one = person(1, team_id=1, skills_grow={"negotiation", "feedback"})
    mentee_two = person(2, team_id=1, skills_grow={"negotiation"})
    both = person(10, team_id=2, skills_offer={"negotiation", "feedback"})
    some = person(11, team_id=2, skills_offer={"feedback"})
    result = assign([mentee_one, mentee_two], [slot(both), slot(some)])
    assert {(m.mentee_id, m.mentor_id) for m in result.matches} == {(1, 11), (2, 10)}
    assert result.unmatched == {}
    assert all(m.reasons for m in result.matches)


def test_a_mentor_takes_up_to_their_free_slots():
    mentees = [person(n, team_id=1) for n in range(1, 5)]
    result = assign(mentees, [slot(person(10, team_id=2), free_slots=3)])
    assert len(result.matches) == 3
    assert list(result.unmatched.values()) == [NO_ROOM_OUTSIDE_TEAM]


def test_unmatched_reasons_are_honest():
    mentees = [
        person(1, team_id=1),  # only mentor with room is in their team
        person(2, team_id=2, formats={"written"}),  # needs written mentoring
        person(3, team_id=2, excluded={20}),  # excluded the one mentor outside their team
        person(4, team_id=3, values={"curiosity"}),  # the better fit for the one seat
        person(5, team_id=3),
    ]
    mentor = person(20, team_id=1, formats={"video"}, values={"curiosity"})
    mentors = [slot(mentor, free_slots=1), slot(person(21, team_id=1), paused=True)]
    result = assign(mentees, mentors)
    assert [(m.mentee_id, m.mentor_id) for m in result.matches] == [(4, 20)]
    assert result.unmatched == {
        1: OWN_TEAM,
        2: NO_WRITTEN,
        3: ALL_EXCLUDED,
        5: NO_ROOM_OUTSIDE_TEAM,
    }


def test_full_suitable_mentors_are_told_apart_from_no_room_at_all():
    mentees = [person(1, team_id=1), person(2, team_id=1, excluded={31})]
    mentors = [slot(person(30, team_id=2)), slot(person(31, team_id=3))]
    result = assign(mentees, mentors, forbidden=frozenset({(1, 31)}))
    # Both can only have mentor 30, who has one seat. Mentor 31 still has room afterwards, but is not
    # allowed for either, so "nobody outside your team has room" would not be true.
    assert len(result.matches) == 1
    assert list(result.unmatched.values()) == [ALL_SUITABLE_FULL]

    nobody = assign([person(1)], [slot(person(2, team_id=2), free_slots=0), slot(person(3, team_id=2), paused=True)])
    assert nobody.unmatched == {1: NO_ROOM}
    assert assign([], [slot(person(2, team_id=2))]).matches == []


def test_assign_reports_progress_and_rejects_repeated_people():
    seen = []
    assign([person(1)], [slot(person(2, team_id=2))], progress=lambda stage, done: seen.append((stage, done)))
    assert seen[0] == ("scoring", 0.0) and seen[-1] == ("assigning", 1.0)
    assert {stage for stage, _ in seen} == {"scoring", "assigning"}
    assert all(0.0 <= done <= 1.0 for _, done in seen)
    with pytest.raises(ValueError):
        assign([person(1), person(1)], [])
    with pytest.raises(ValueError):
        assign([person(1)], [slot(person(2)), slot(person(2))])


# --- independence -----------------------------------------------------------------------------------------


def test_the_package_imports_only_the_standard_library_numpy_and_or_tools():
    allowed_roots = {"numpy", "ortools", *sys.stdlib_module_names}
    files = list((Path(__file__).resolve().parents[2] / "portal" / "matching").glob("*.py"))
    assert len(files) >= 4
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] != "flask", (path, name)
                assert name.startswith("portal.matching") or name.split(".")[0] in allowed_roots, (path, name)


def test_importing_the_package_alone_loads_no_flask_and_no_portal_web_code():
    # portal/__init__.py holds create_app and so imports Flask; an empty stand-in for the parent package
    # lets portal.matching be imported alone, the way a worker or a notebook would use it.
    root = Path(__file__).resolve().parents[2] / "portal"
    script = (
        "import sys, types\n"
        f"parent = types.ModuleType('portal'); parent.__path__ = [{str(root)!r}]\n"
        "sys.modules['portal'] = parent\n"
        "import portal.matching\n"
        "assert portal.matching.assign and portal.matching.solve\n"
        "web = ('flask', 'flask_login', 'flask_wtf', 'werkzeug', 'jinja2', 'sqlalchemy')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in web"
        " or (m.startswith('portal.') and not m.startswith('portal.matching'))))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)  # noqa: S603
    assert done.stdout.strip() == "[]"


def test_long_choice_lists_score_the_same_in_both_paths():
    # More than 64 keys in a list takes the multi-word path of the vectorised scoring.
    keys = [f"topic_{n:03}" for n in range(150)]
    mentees = [person(n, team_id=1, interests=set(keys[n::7]), values=set(keys[n : n + 3])) for n in range(6)]
    mentors = [person(10 + n, team_id=2, interests=set(keys[n::5]), values=set(keys[n::40])) for n in range(6)]
    matrix = score_matrix(mentees, mentors)
    assert [[score_pair(a, b).score for b in mentors] for a in mentees] == matrix.tolist()


def test_scores_on_a_half_point_round_to_even_in_both_paths():
    # Values alone: 100 x shared / 8 is 12.5, 37.5 and 62.5 for 1, 3 and 5 values shared out of 8.
    keys = [f"value_{n}" for n in range(16)]
    mentee = person(1, team_id=1, values=set(keys[:8]))
    mentors = [person(10 + n, team_id=2, values=set(keys[:n]) | set(keys[8 : 16 - n])) for n in (1, 3, 5)]
    only_values = Weights(values=1, interests=0, experiences=0, skills=0, logistics=0, perspective=0)

    matrix = score_matrix([mentee], mentors, only_values)

    assert matrix.tolist() == [[12, 38, 62]]
    assert [score_pair(mentee, mentor, only_values).score for mentor in mentors] == [12, 38, 62]


def test_bit_counting_without_numpy_2():
    rng = np.random.default_rng(5)
    for dtype in (np.uint8, np.uint16, np.uint32, np.uint64):
        words = rng.integers(0, np.iinfo(dtype).max, size=(7, 9), dtype=dtype, endpoint=True)
        out = np.empty(words.shape, dtype=np.uint8)
        expected = [[bin(int(x)).count("1") for x in row] for row in words]
        assert _bit_count_by_table(words, out).tolist() == expected


def test_reasons_are_phrased_for_whoever_reads_them():
    from portal.matching import reasons_for

    mentee = Person(
        id=1, name="Priya Shah", team_id=1, values={"curiosity"}, skills_grow={"negotiation"}, perspective="different"
    )
    mentor = Person(id=2, name="Asha Rao", team_id=2, values={"curiosity"}, skills_offer={"negotiation"})
    assert reasons_for(mentee, mentor) == score_pair(mentee, mentor).reasons
    assert reasons_for(mentee, mentor)[:2] == (
        "Asha offers negotiation, which you want to grow",
        "You both value curiosity",
    )
    mentor_view = reasons_for(mentee, mentor, audience="mentor")
    assert mentor_view[0] == "Priya wants to grow negotiation, which you offer"
    assert "Priya asked for a different perspective, and you bring it" in mentor_view
    director_view = reasons_for(mentee, mentor, audience="director")
    assert director_view[:2] == ("Asha offers negotiation, which Priya wants to grow", "Both value curiosity")
    with pytest.raises(ValueError):
        reasons_for(mentee, mentor, audience="everyone")
