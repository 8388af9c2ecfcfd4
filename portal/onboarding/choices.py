"""The questionnaire's choice lists as the director keeps them: add, rename, retire and bring back options.

A choice is never deleted: retiring it stops offering it, while the answers that already hold it keep it
(``load_state`` reads answers whatever the choice's state), and renaming keeps its key, so answers, goals
and matching stay attached to the same option.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.models import Choice

# The lists the director edits, in the order their page shows them.
EDITABLE_LISTS = {
    "skills": "Soft skills",
    "values": "Values",
    "interests": "Interests",
    "formats": "Meeting formats",
}
LABEL_MAX = 120


def choice_lists() -> dict[str, list[Choice]]:
    """Every option of the editable lists, active and retired, in their order (one query)."""
    lists: dict[str, list[Choice]] = {name: [] for name in EDITABLE_LISTS}
    rows = db.session.scalars(
        select(Choice).where(Choice.list_name.in_(list(EDITABLE_LISTS))).order_by(Choice.position, Choice.id)
    )
    for choice in rows:
        lists[choice.list_name].append(choice)
    return lists


def _editable(choice_id: int) -> Choice:
    choice = db.session.get(Choice, choice_id)
    if choice is None or choice.list_name not in EDITABLE_LISTS:
        raise NotFound()
    return choice


def _clean_label(list_name: str, label: str, *, field: str, keep: Choice | None = None) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise ValidationFailed({field: "Please write the choice as people will read it."})
    if len(label) > LABEL_MAX:
        raise ValidationFailed({field: f"Please keep it to {LABEL_MAX} characters; it is {len(label)} now."})
    twin = db.session.scalar(
        select(Choice).where(Choice.list_name == list_name, func.lower(Choice.label) == label.lower()).limit(1)
    )
    if twin is not None and twin is not keep:
        state = "" if twin.is_active else " (retired: you can bring it back)"
        raise ValidationFailed({field: f"\u201c{twin.label}\u201d is already on this list{state}."})
    return label


def add_choice(list_name: str, *, label: str) -> Choice:
    """Add an option at the end of a list. Raises NotFound for a list the director does not edit and
    ValidationFailed (``label``) for an empty, over-long or duplicate label."""
    if list_name not in EDITABLE_LISTS:
        raise NotFound()
    label = _clean_label(list_name, label, field="label")
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:50] or "choice"
    taken = set(db.session.scalars(select(Choice.key).where(Choice.list_name == list_name)))
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    last = db.session.scalar(select(func.max(Choice.position)).where(Choice.list_name == list_name)) or 0
    choice = Choice(list_name=list_name, key=key, label=label, position=last + 1, is_active=True)
    db.session.add(choice)
    db.session.flush()
    return choice


def rename_choice(choice_id: int, *, label: str) -> Choice:
    """Give an option new words; its key, and so every answer that holds it, stays. Raises NotFound and
    ValidationFailed (``label``) like ``add_choice``."""
    choice = _editable(choice_id)
    choice.label = _clean_label(choice.list_name, label, field="label", keep=choice)
    db.session.flush()
    return choice


def set_retired(choice_id: int, *, retired: bool) -> Choice:
    """Retire an option (no longer offered; answers keep it) or bring it back. The form says which state it
    wants, so pressing twice changes nothing more. Raises NotFound."""
    choice = _editable(choice_id)
    choice.is_active = not retired
    db.session.flush()
    return choice
