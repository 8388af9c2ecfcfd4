"""Who may see a pairing: its two people, and nobody else (the one access rule for pair pages)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from portal.errors import NotFound
from portal.extensions import db
from portal.models import Pairing, User

# Inner joins: both people always exist, and an outer join around users+teams makes SQLite scan all users.
# Built once: building it (and its cache key) per request cost more than running it.
_PAIRING_WITH_PEOPLE = (
    select(Pairing)
    .options(joinedload(Pairing.mentor, innerjoin=True), joinedload(Pairing.mentee, innerjoin=True))
    .where(Pairing.id == bindparam("pairing_id"))
)


def pairing_for(user: User, pairing_id: int) -> Pairing:
    """The pairing if ``user`` is its mentor or mentee, with both people loaded.

    Raises NotFound (a LookupError) for anyone else, the director included: journal text and goals belong to the pair.
    """
    pairing = db.session.scalar(_PAIRING_WITH_PEOPLE, {"pairing_id": pairing_id})
    if pairing is None or user.id not in (pairing.mentor_id, pairing.mentee_id):
        raise NotFound()
    return pairing


def partner_of(pairing: Pairing, user: User) -> User:
    """The other person of the pair (both people must be loaded, as pairing_for does)."""
    return pairing.mentee if pairing.mentor_id == user.id else pairing.mentor
