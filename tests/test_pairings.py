"""The one access rule for pair pages, and who is who in a pairing."""

import pytest

from portal.errors import NotFound
from portal.pairings import pairing_for
from tests.factories import make_pairing, make_user


def test_a_pairing_knows_its_mentee_and_its_mentor():
    mentor, mentee, stranger = make_user(team="Design"), make_user(team="Data"), make_user()
    pairing = make_pairing(mentor=mentor, mentee=mentee)
    assert pairing.is_mentee(mentee) and not pairing.is_mentee(mentor) and not pairing.is_mentee(stranger)
    assert pairing.is_mentor(mentor) and not pairing.is_mentor(mentee) and not pairing.is_mentor(None)


def test_a_stranger_to_the_pair_finds_nothing():
    pairing = make_pairing(mentor=make_user(team="Design"), mentee=make_user(team="Data"))
    with pytest.raises(NotFound):
        pairing_for(make_user(), pairing.id)
