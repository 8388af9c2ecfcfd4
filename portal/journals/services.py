"""A pair's sessions: planning, moving and cancelling meetings, logging them, shared notes that never lose a
write, private reflections, action items, autosaved drafts, the timeline and the calendar file.

Privacy is enforced here, not in templates: a meeting is only ever loaded for one of its pair
(``meeting_for``), and a reflection only ever with ``author_id == user.id`` (``reflection_for``).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from flask import current_app
from merge3 import Merge3
from sqlalchemy import Row, and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal.clock import utcnow, zone_for
from portal.database import insert_or_update
from portal.dates import LocalTimeProblem, format_day, format_when, local, to_utc
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.extensions import db
from portal.fragments import per_process
from portal.models import (
    ActionItem,
    Choice,
    Draft,
    Goal,
    Meeting,
    MeetingGoal,
    MeetingStatus,
    NoteVersion,
    Pairing,
    Reflection,
    User,
)
from portal.notifications.services import notify, path_for

PAGE_SIZE = 20
LENGTH_MIN, LENGTH_MAX = 15, 240
REASON_MAX = 300
TOPICS_MAX = 2000
NOTES_MAX = 20_000
REFLECTION_MAX = 10_000
ACTION_TITLE_MAX = 200
SEARCH_MAX = 100
# How far ahead a meeting may be planned, and an action item fall due.
PLAN_HORIZON = timedelta(days=366)
NOTES_DRAFT = "journal-notes:"
REFLECTION_DRAFT = "journal-reflection:"
REFLECTION_PROMPTS = (
    "What surprised you?",
    "What will you try before next time?",
    "What felt easier than last time?",
    "What would you like to ask next time?",
)


class NotesConflict(Exception):
    """The shared notes were saved by someone else since this edit began; nothing was overwritten.

    ``mine`` is the text that was sent, ``theirs`` the notes as saved now, ``version`` their version.
    """

    def __init__(
        self, *, mine: str, theirs: str, version: int, by: User | None, at: datetime | None, base: str | None = None
    ):
        super().__init__("the shared notes changed since this edit began")
        self.mine, self.theirs, self.version, self.by, self.at = mine, theirs, version, by, at
        # The text both started from (None when that version was never kept), for the three-way view.
        self.base = base

    @property
    def merge(self) -> NotesMerge:
        """The automatic three-way merge of ``base``, ``theirs`` and ``mine``."""
        return merge_notes(self.base, self.theirs, self.mine)


# --- access -------------------------------------------------------------------------------------------


def meeting_for(user: User, meeting_id: int) -> tuple[Meeting, Pairing]:
    """The meeting and its pairing (both people loaded) if ``user`` is one of the pair.

    Raises NotFound (a LookupError) for anyone else, the director included: journal text is the pair's alone.
    """
    row = db.session.execute(
        select(Meeting, Pairing)
        .join(Pairing, Pairing.id == Meeting.pairing_id)
        # Inner joins: an outer join around users+teams makes SQLite scan every user.
        .options(joinedload(Pairing.mentor, innerjoin=True), joinedload(Pairing.mentee, innerjoin=True))
        .where(Meeting.id == meeting_id)
    ).first()
    if row is None or user.id not in (row.Pairing.mentor_id, row.Pairing.mentee_id):
        raise NotFound()
    return row.Meeting, row.Pairing


def action_for(user: User, action_id: int) -> tuple[ActionItem, Pairing]:
    """The action item and its pairing if ``user`` is one of the pair. Raises NotFound (a LookupError) otherwise."""
    row = db.session.execute(
        select(ActionItem, Pairing).join(Pairing, Pairing.id == ActionItem.pairing_id).where(ActionItem.id == action_id)
    ).first()
    if row is None or user.id not in (row.Pairing.mentor_id, row.Pairing.mentee_id):
        raise NotFound()
    return row.ActionItem, row.Pairing


def reflection_for(meeting: Meeting, user: User) -> Reflection | None:
    """``user``'s own reflection on the meeting, if written. Never anyone else's: the author is the filter."""
    return db.session.scalar(
        select(Reflection).where(Reflection.meeting_id == meeting.id, Reflection.author_id == user.id)
    )


# --- choices and labels -------------------------------------------------------------------------------


def format_choices() -> list[Choice]:
    """The active meeting formats (the questionnaire's "formats" list), in order."""
    return list(
        db.session.scalars(
            select(Choice)
            .where(Choice.list_name == "formats", Choice.is_active.is_(True))
            .order_by(Choice.position, Choice.id)
        )
    )


@per_process(60)
def format_labels() -> dict[str, str]:
    """Every format key, retired ones included, with its label: old meetings keep their words (read at most once a
    minute per process)."""
    return dict(db.session.execute(select(Choice.key, Choice.label).where(Choice.list_name == "formats")).all())


def goals_of(pairing: Pairing) -> list[Goal]:
    """The pairing's goals, soonest due first, for "which goals it moved"."""
    return list(db.session.scalars(select(Goal).where(Goal.pairing_id == pairing.id).order_by(Goal.due_on, Goal.id)))


def linked_goal_ids(meeting: Meeting) -> list[int]:
    """The ids of the goals a meeting moved."""
    return list(db.session.scalars(select(MeetingGoal.goal_id).where(MeetingGoal.meeting_id == meeting.id)))


def describe(meeting: Meeting, labels: dict[str, str], zone: ZoneInfo | None = None) -> str:
    """A plain sentence for a meeting's time (read in ``zone``), length and format, for messages and pages."""
    when = format_when(meeting.starts_at, zone, style="long")
    return f"{when}, {meeting.duration_minutes} minutes, {labels.get(meeting.format, meeting.format).lower()}"


# --- validation helpers -------------------------------------------------------------------------------


def _check_length(minutes: int | None, errors: dict[str, str], name: str = "duration_minutes") -> None:
    if minutes is None or not LENGTH_MIN <= minutes <= LENGTH_MAX:
        errors[name] = f"Please choose a length between {LENGTH_MIN} and {LENGTH_MAX} minutes."


def _check_format(value: str | None, errors: dict[str, str]) -> None:
    if value not in {choice.key for choice in format_choices()}:
        errors["format"] = "Please choose how you will meet."


def _check_future_date(on: date | None, today: date, errors: dict[str, str], name: str = "on") -> None:
    if on is None:
        errors[name] = "Please enter a date, for example 2027-03-01."
    elif on < today:
        errors[name] = "Please choose today or a later day."
    elif on > today + PLAN_HORIZON:
        errors[name] = "Please choose a day within the next year."


def _reason(reason: str | None, errors: dict[str, str]) -> str:
    clean = (reason or "").strip()
    if not clean:
        errors["reason"] = "A short reason helps your partner; a few words are enough."
    elif len(clean) > REASON_MAX:
        errors["reason"] = f"Please keep the reason to {REASON_MAX} characters; it is {len(clean)} now."
    return clean


def _at(on: date, at: time | None, zone: ZoneInfo, errors: dict[str, str], name: str = "at") -> datetime | None:
    """The UTC moment of a day and time the person typed in their own zone (noon when no time is given).

    A time the clocks skip or repeat that day puts a message on the field ``name`` and gives None.
    """
    try:
        return to_utc(on, at or time(12, 0), zone)
    except LocalTimeProblem as problem:
        errors[name] = problem.message
        return None


def _partner(pairing: Pairing, user: User) -> User:
    """The other person of the pair (from the identity map when the pairing was loaded with both people)."""
    return db.session.get(User, pairing.mentee_id if pairing.mentor_id == user.id else pairing.mentor_id)


def _link(meeting: Meeting) -> str:
    """The meeting's page, for notices about it."""
    return path_for("journals.show", meeting_id=meeting.id)


# --- planning, moving, cancelling ---------------------------------------------------------------------


def plan_meeting(
    pairing: Pairing,
    user: User,
    *,
    on: date | None,
    at: time | None,
    duration_minutes: int | None,
    format: str | None,
    today: date,
) -> Meeting:
    """Plan the pair's next meeting and tell the other person (in the portal and by email).

    Raises ValidationFailed for a missing or past date, a missing time, a length outside 15-240 minutes,
    or a format not in the list.
    """
    errors: dict[str, str] = {}
    _check_future_date(on, today, errors)
    if at is None:
        errors["at"] = "Please enter a time, for example 14:30."
    _check_length(duration_minutes, errors)
    _check_format(format, errors)
    starts_at = _at(on, at, zone_for(user), errors) if not errors.keys() & {"on", "at"} else None
    if errors:
        raise ValidationFailed(errors)
    meeting = Meeting(
        pairing_id=pairing.id,
        status=MeetingStatus.PLANNED,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        format=format,
        planned_by_id=user.id,
    )
    db.session.add(meeting)
    db.session.flush()
    partner = _partner(pairing, user)
    notify(
        partner,
        f"{user.display_name} planned your next meeting: {describe(meeting, format_labels(), zone_for(partner))}.",
        link=_link(meeting),
        email_subject="Your next mentoring meeting",
        kind="meetings",
        calendar=_invitation(meeting, pairing),
    )
    return meeting


def _invitation(meeting: Meeting, pairing: Pairing) -> str:
    """The meeting as an .ics file for the email, so calendar clients offer to add (or update) it."""
    url = current_app.config["PORTAL_BASE_URL"] + _link(meeting)
    return ics_for(meeting, pairing, host=urlsplit(url).hostname or "portal", url=url)


def _must_be_planned(meeting: Meeting, verb: str) -> None:
    if meeting.status != MeetingStatus.PLANNED:
        state = "was cancelled" if meeting.status == MeetingStatus.CANCELLED else "has already been held"
        raise Conflict(f"This meeting {state}, so it cannot be {verb}.")


def reschedule_meeting(
    meeting: Meeting, pairing: Pairing, user: User, *, on: date | None, at: time | None, reason: str | None, today: date
) -> Meeting:
    """Move a planned meeting to a new day and time with a short reason, and tell the other person.

    Raises Conflict unless the meeting is still planned; ValidationFailed for a missing or past date,
    a missing time, or a missing or over-long reason.
    """
    _must_be_planned(meeting, "moved")
    errors: dict[str, str] = {}
    _check_future_date(on, today, errors)
    if at is None:
        errors["at"] = "Please enter a time, for example 14:30."
    clean = _reason(reason, errors)
    starts_at = _at(on, at, zone_for(user), errors) if not errors.keys() & {"on", "at"} else None
    if errors:
        raise ValidationFailed(errors)
    meeting.starts_at = starts_at
    meeting.change_reason = clean
    meeting.reschedules += 1
    db.session.flush()
    partner = _partner(pairing, user)
    said = describe(meeting, format_labels(), zone_for(partner))
    notify(
        partner,
        f"{user.display_name} moved your meeting to {said}. Their reason: {clean}",
        link=_link(meeting),
        email_subject="Your mentoring meeting has moved",
        kind="meetings",
        calendar=_invitation(meeting, pairing),
    )
    return meeting


def cancel_meeting(meeting: Meeting, pairing: Pairing, user: User, *, reason: str | None) -> Meeting:
    """Cancel a planned meeting with a short reason, and tell the other person.

    Raises Conflict unless the meeting is still planned; ValidationFailed for a missing or over-long reason.
    """
    _must_be_planned(meeting, "cancelled")
    errors: dict[str, str] = {}
    clean = _reason(reason, errors)
    if errors:
        raise ValidationFailed(errors)
    meeting.status = MeetingStatus.CANCELLED
    meeting.change_reason = clean
    db.session.flush()
    partner = _partner(pairing, user)
    when = format_when(meeting.starts_at, zone_for(partner), style="long")
    notify(
        partner,
        f"{user.display_name} cancelled the meeting on {when}. Their reason: {clean}",
        link=_link(meeting),
        email_subject="A mentoring meeting was cancelled",
        kind="meetings",
        calendar=_invitation(meeting, pairing),
    )
    return meeting


# --- logging ------------------------------------------------------------------------------------------


def log_meeting(
    pairing: Pairing,
    user: User,
    *,
    meeting: Meeting | None = None,
    held_on: date | None,
    duration_minutes: int | None,
    format: str | None,
    topics: str | None,
    goal_ids: list[int],
    today: date,
) -> Meeting:
    """Record a meeting as held: when, how long, how, what about, and which of the pair's goals it moved.

    With ``meeting`` a planned (or already logged) meeting is updated; without, a new one is recorded.
    Raises Conflict for a cancelled meeting; ValidationFailed for a date in the future or before the pair
    began, a length outside 15-240 minutes, an unknown format, over-long topics, or a goal of another pair.
    """
    if meeting is not None and meeting.status == MeetingStatus.CANCELLED:
        raise Conflict("This meeting was cancelled. If you met after all, log it as a new meeting.")
    errors: dict[str, str] = {}
    zone = zone_for(user)
    began = local(pairing.created_at, zone).date()
    if held_on is None:
        errors["held_on"] = "Please enter the day you met, for example 2027-03-01."
    elif held_on > today:
        errors["held_on"] = "That day is still to come. You can log the meeting once it has happened."
    elif held_on < began:
        errors["held_on"] = f"Your pairing began on {format_day(began)}; please choose that day or later."
    _check_length(duration_minutes, errors)
    _check_format(format, errors)
    clean_topics = (topics or "").strip()
    if len(clean_topics) > TOPICS_MAX:
        errors["topics"] = f"Please keep the topics to {TOPICS_MAX} characters; they are {len(clean_topics)} now."
    wanted = set(goal_ids)
    if wanted - {goal.id for goal in goals_of(pairing)}:
        errors["goals"] = "Please pick from your own goals."
    if not errors:
        # Keep the planned time of day (as the person reads it); the day is the one they actually met.
        planned = local(meeting.starts_at, zone).time() if meeting is not None else None
        starts_at = _at(held_on, planned, zone, errors, name="held_on")
    if errors:
        raise ValidationFailed(errors)
    if meeting is None:
        meeting = Meeting(pairing_id=pairing.id, starts_at=starts_at, notes="", notes_version=0)
        db.session.add(meeting)
    else:
        meeting.starts_at = starts_at
    meeting.status = MeetingStatus.HELD
    meeting.held_on = held_on
    meeting.duration_minutes = duration_minutes
    meeting.format = format
    meeting.topics = clean_topics or None
    meeting.logged_by_id = user.id
    db.session.flush()
    db.session.execute(delete(MeetingGoal).where(MeetingGoal.meeting_id == meeting.id))
    db.session.add_all(MeetingGoal(meeting_id=meeting.id, goal_id=goal_id) for goal_id in sorted(wanted))
    db.session.flush()
    return meeting


# --- shared notes -------------------------------------------------------------------------------------


_SAVED_NOTES = (
    Meeting.notes,
    Meeting.notes_version,
    Meeting.notes_updated_by_id,
    Meeting.notes_updated_at,
    Meeting.updated_at,
)


def save_notes(meeting: Meeting, user: User, *, body: str, base_version: int | None) -> Meeting:
    """Save the pair's shared notes if nobody else saved since ``base_version``; drop the person's draft.

    The check and the write are one conditional UPDATE, so two saves racing on two servers cannot both win.
    Raises ValidationFailed for notes over 20,000 characters, and NotesConflict (nothing written) when the
    notes moved on since the edit began, unless the text sent is exactly what is saved now.
    """
    if len(body) > NOTES_MAX:
        message = f"Please keep the notes to {NOTES_MAX:,} characters; they are {len(body):,} now."
        raise ValidationFailed({"notes": message})
    saved = db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting.id, Meeting.notes_version == (base_version if base_version is not None else -1))
        .values(
            notes=body,
            notes_version=Meeting.notes_version + 1,
            notes_updated_by_id=user.id,
            notes_updated_at=utcnow(),
            updated_at=utcnow(),
        )
        .returning(*_SAVED_NOTES)
        .execution_options(synchronize_session=False)
    ).first()
    if saved is None:
        db.session.refresh(meeting)  # what the other person saved
    else:
        # What the UPDATE wrote comes back with it: no second read of the meeting.
        for column, value in zip(_SAVED_NOTES, saved, strict=True):
            set_committed_value(meeting, column.key, value)
    if saved is None and meeting.notes != body:
        by = db.session.get(User, meeting.notes_updated_by_id) if meeting.notes_updated_by_id else None
        raise NotesConflict(
            mine=body,
            theirs=meeting.notes,
            version=meeting.notes_version,
            by=by,
            at=meeting.notes_updated_at,
            base=notes_at(meeting, base_version),
        )
    if saved is not None:
        # Kept so that a later conflict can show what each person changed since the version they began from.
        kept = NoteVersion(meeting_id=meeting.id, version=meeting.notes_version, text=body, saved_by_id=user.id)
        db.session.add(kept)
    _discard(user, NOTES_DRAFT, meeting)
    db.session.flush()
    return meeting


def notes_at(meeting: Meeting, version: int | None) -> str | None:
    """The shared notes' text at ``version`` (empty at version 0), or None when that version was not kept."""
    if version is None or version < 0:
        return None
    if version == 0:
        return ""
    return db.session.scalar(
        select(NoteVersion.text).where(NoteVersion.meeting_id == meeting.id, NoteVersion.version == version)
    )


@dataclass
class NotesMerge:
    """An automatic merge: ``text`` to prefill the merge box, ``conflicts`` places where both changed the same
    lines (marked in the text between CONFLICT_START and CONFLICT_END), and each side's changes since the base
    as (kind, line) pairs, kind being "same", "added" or "removed"."""

    text: str
    conflicts: int
    theirs_changes: list[tuple[str, str]]
    mine_changes: list[tuple[str, str]]


CONFLICT_START = "[Both of you changed this part. Their version:]"
CONFLICT_MIDDLE = "[Your version:]"
CONFLICT_END = "[End of the part you both changed. Keep what reads right and remove these bracketed lines.]"


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


def _changes(base: list[str], text: list[str]) -> list[tuple[str, str]]:
    # Line opcodes only: ndiff's character-level hints cost far more and the view does not show them.
    changes: list[tuple[str, str]] = []
    for op, b1, b2, t1, t2 in difflib.SequenceMatcher(None, base, text, autojunk=False).get_opcodes():
        if op == "equal":
            changes += [("same", line.rstrip("\n")) for line in base[b1:b2]]
            continue
        changes += [("removed", line.rstrip("\n")) for line in base[b1:b2]]
        changes += [("added", line.rstrip("\n")) for line in text[t1:t2]]
    return changes


def merge_notes(base: str | None, theirs: str, mine: str) -> NotesMerge:
    """Merge two edits of the notes line by line against the text both started from (merge3, as bzr and
    breezy do): a change made by one side only is taken as it is; where both changed the same lines, both
    versions are kept between plain-worded markers. Without a known base, everything that differs is one
    conflict, so nothing is dropped."""
    base_lines, their_lines, my_lines = _lines(base or ""), _lines(theirs), _lines(mine)
    if base is None:
        # Unknown starting point: compare the two texts only; lines both have are kept once.
        base_lines = [line for line in their_lines if line in set(my_lines)]
    merged: list[str] = []
    conflicts = 0
    for region in Merge3(base_lines, their_lines, my_lines).merge_regions():
        kind = region[0]
        if kind == "unchanged":
            merged += base_lines[region[1] : region[2]]
        elif kind in ("a", "same"):
            merged += their_lines[region[1] : region[2]]
        elif kind == "b":
            merged += my_lines[region[1] : region[2]]
        else:
            conflicts += 1
            _, _, _, a_start, a_end, b_start, b_end = region
            merged += [CONFLICT_START + "\n", *their_lines[a_start:a_end], CONFLICT_MIDDLE + "\n",
                       *my_lines[b_start:b_end], CONFLICT_END + "\n"]  # fmt: skip
    text = "".join(merged)
    if not mine.endswith("\n") and not theirs.endswith("\n"):
        text = text.removesuffix("\n")
    return NotesMerge(
        text=text,
        conflicts=conflicts,
        theirs_changes=_changes(base_lines, their_lines),
        mine_changes=_changes(base_lines, my_lines),
    )


# --- private reflections ------------------------------------------------------------------------------


def save_reflection(meeting: Meeting, user: User, *, body: str) -> Reflection | None:
    """Write, replace or (with empty text) remove ``user``'s own reflection; drop their draft.

    Only ever touches the row whose author is ``user``. Raises ValidationFailed over 10,000 characters.
    """
    if len(body) > REFLECTION_MAX:
        raise ValidationFailed(
            {"reflection": f"Please keep this to {REFLECTION_MAX:,} characters; it is {len(body):,} now."}
        )
    reflection = reflection_for(meeting, user)
    _discard(user, REFLECTION_DRAFT, meeting)
    if not body.strip():
        if reflection is not None:
            db.session.delete(reflection)
        db.session.flush()
        return None
    key = {"meeting_id": meeting.id, "author_id": user.id}
    return insert_or_update(Reflection, key, {"body": body, "updated_at": utcnow()})


# --- drafts -------------------------------------------------------------------------------------------


@dataclass
class NotesDraft:
    text: str
    version: int
    saved_at: datetime


def _draft(user: User, prefix: str, meeting: Meeting) -> Draft | None:
    return db.session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.key == f"{prefix}{meeting.id}"))


def _keep(user: User, prefix: str, meeting: Meeting, text: str) -> Draft:
    key = {"user_id": user.id, "key": f"{prefix}{meeting.id}"}
    return insert_or_update(Draft, key, {"text": text, "updated_at": utcnow()})


def _discard(user: User, prefix: str, meeting: Meeting) -> None:
    db.session.execute(delete(Draft).where(Draft.user_id == user.id, Draft.key == f"{prefix}{meeting.id}"))


def notes_draft(meeting: Meeting, user: User) -> NotesDraft | None:
    """``user``'s unsaved draft of the shared notes, with the version it was based on, if any."""
    return _notes_draft_of(_draft(user, NOTES_DRAFT, meeting))


def journal_drafts(meeting: Meeting, user: User) -> tuple[NotesDraft | None, Draft | None]:
    """``user``'s drafts on ``meeting`` read at once: of the shared notes (as ``notes_draft``) and of their
    reflection (as ``reflection_draft``)."""
    keys = {f"{NOTES_DRAFT}{meeting.id}": None, f"{REFLECTION_DRAFT}{meeting.id}": None}
    for draft in db.session.scalars(select(Draft).where(Draft.user_id == user.id, Draft.key.in_(list(keys)))):
        keys[draft.key] = draft
    return _notes_draft_of(keys[f"{NOTES_DRAFT}{meeting.id}"]), keys[f"{REFLECTION_DRAFT}{meeting.id}"]


def _notes_draft_of(draft: Draft | None) -> NotesDraft | None:
    if draft is None:
        return None
    try:
        data = json.loads(draft.text)
        return NotesDraft(text=str(data["text"]), version=int(data["version"]), saved_at=draft.updated_at)
    except (ValueError, KeyError, TypeError):
        return None


def save_notes_draft(meeting: Meeting, user: User, *, text: str, base_version: int | None) -> None:
    """Keep the shared notes as ``user`` is typing them, remembering the version they started from.

    A later save from this draft still detects a conflict. Raises ValidationFailed over the notes' limit.
    """
    if len(text) > NOTES_MAX:
        raise ValidationFailed({"notes": f"Please keep the notes to {NOTES_MAX:,} characters."})
    version = meeting.notes_version if base_version is None else base_version
    _keep(user, NOTES_DRAFT, meeting, json.dumps({"text": text, "version": version}))


def discard_notes_draft(meeting: Meeting, user: User) -> None:
    """Forget ``user``'s unsaved draft of the shared notes."""
    _discard(user, NOTES_DRAFT, meeting)
    db.session.flush()


def reflection_draft(meeting: Meeting, user: User) -> Draft | None:
    """``user``'s unsaved draft of their own reflection, if any."""
    return _draft(user, REFLECTION_DRAFT, meeting)


def save_reflection_draft(meeting: Meeting, user: User, *, text: str) -> None:
    """Keep ``user``'s reflection as they type it. Raises ValidationFailed over the reflection's limit."""
    if len(text) > REFLECTION_MAX:
        raise ValidationFailed({"reflection": f"Please keep this to {REFLECTION_MAX:,} characters."})
    _keep(user, REFLECTION_DRAFT, meeting, text)


# --- action items -------------------------------------------------------------------------------------


def actions_of(meeting: Meeting) -> list[ActionItem]:
    """The meeting's action items with their owners, open ones first, then by due date."""
    return list(
        db.session.scalars(
            select(ActionItem)
            .options(joinedload(ActionItem.owner))
            .where(ActionItem.meeting_id == meeting.id)
            .order_by(ActionItem.done_at.is_not(None), ActionItem.due_on, ActionItem.id)
        )
    )


def add_action(
    meeting: Meeting,
    pairing: Pairing,
    user: User,
    *,
    title: str | None,
    owner_id: int | None,
    due_on: date | None,
    today: date,
) -> ActionItem:
    """Add an action item to a meeting, owned by one of the pair, due on a day.

    Raises ValidationFailed for a missing or over-long title, an owner outside the pair, or a due date
    missing, past, or more than a year away.
    """
    errors: dict[str, str] = {}
    clean = (title or "").strip()
    if not clean:
        errors["title"] = "Please say what will be done, in a few words."
    elif len(clean) > ACTION_TITLE_MAX:
        errors["title"] = f"Please keep this to {ACTION_TITLE_MAX} characters; it is {len(clean)} now."
    if owner_id not in (pairing.mentor_id, pairing.mentee_id):
        errors["owner_id"] = "Please choose one of you two."
    _check_future_date(due_on, today, errors, name="due_on")
    if errors:
        raise ValidationFailed(errors)
    item = ActionItem(
        pairing_id=pairing.id,
        meeting_id=meeting.id,
        owner_id=owner_id,
        title=clean,
        due_on=due_on,
        created_by_id=user.id,
    )
    db.session.add(item)
    db.session.flush()
    return item


def set_action_done(item: ActionItem, *, done: bool, now: datetime) -> bool:
    """Mark an action item done or not done, as the form asked; return whether it changed.

    One conditional UPDATE, so a double click or a retried request sets the same state and changes nothing.
    """
    wanted = ActionItem.done_at.is_(None) if done else ActionItem.done_at.is_not(None)
    changed = db.session.execute(
        update(ActionItem).where(ActionItem.id == item.id, wanted).values(done_at=now if done else None),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.expire(item, ["done_at"])  # read again only by whoever shows it
    return bool(changed)


# --- the timeline -------------------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    meeting: Row  # what the timeline shows of the meeting (see _TIMELINE), not the ORM object
    goals: list[str] = field(default_factory=list)

    @property
    def reflected(self) -> bool:
        return bool(self.meeting.reflected)

    @property
    def actions_done(self) -> int:
        return self.meeting.actions_done

    @property
    def actions_total(self) -> int:
        return self.meeting.actions_total

    @property
    def version(self) -> tuple:
        """What the entry shows, for its fragment's cache key: it changes whenever the entry does."""
        m = self.meeting
        return (m.id, m.updated_at, m.notes_version, *self.goals, m.reflected, m.actions_done, m.actions_total)


@dataclass(frozen=True)
class TimelinePage:
    """Where one page of the timeline sits among all of them (what the pager shows)."""

    page: int
    total: int
    per_page: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def _mentions(meeting, q: str):
    """``meeting``'s topics or notes hold ``q`` (``meeting`` is Meeting or an alias of it)."""
    return or_(meeting.topics.icontains(q, autoescape=True), meeting.notes.icontains(q, autoescape=True))


def _timeline_select(q: str = ""):
    """A page of the timeline: each row carries the viewer's reflection, the action counts and the number of
    meetings in all (an uncorrelated subquery, counted once, on the index), so a page is one query plus the goals
    its meetings moved."""
    counted = aliased(Meeting)
    total = select(func.count()).select_from(counted).where(counted.pairing_id == bindparam("pairing_id"))
    query = select(
        Meeting.id, Meeting.status, Meeting.starts_at, Meeting.duration_minutes, Meeting.format, Meeting.topics,
        Meeting.notes, Meeting.change_reason, Meeting.updated_at, Meeting.notes_version,
        select(Reflection.id)
        .where(Reflection.meeting_id == Meeting.id, Reflection.author_id == bindparam("user_id"))
        .exists()
        .label("reflected"),
        select(func.count()).where(ActionItem.meeting_id == Meeting.id).scalar_subquery().label("actions_total"),
        select(func.count(ActionItem.done_at))
        .where(ActionItem.meeting_id == Meeting.id)
        .scalar_subquery()
        .label("actions_done"),
        (total.where(_mentions(counted, q)) if q else total).scalar_subquery().label("meetings"),
    ).where(Meeting.pairing_id == bindparam("pairing_id"))  # fmt: skip
    if q:
        query = query.where(_mentions(Meeting, q))
    return (
        query.order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


# Built once: building a select and its cache key costs more than SQLite takes to run this one. A search builds
# its own.
_TIMELINE = _timeline_select()
_GOALS_MOVED = (
    select(MeetingGoal.meeting_id, Goal.title)
    .join(Goal, Goal.id == MeetingGoal.goal_id)
    .where(MeetingGoal.meeting_id.in_(bindparam("meeting_ids", expanding=True)))
    .order_by(Goal.title)
)


def timeline_entries(pairing: Pairing, user: User, *, page: int = 1, q: str = "") -> tuple[TimelinePage, list]:
    """One page of the pair's meetings, newest first, optionally only those whose topics or notes hold ``q``.

    Returns (pagination, entries). Two queries whatever the size of the journal: the page (with its count, the
    person's own reflections and the action counts), then the goals its meetings moved. A page past the last
    one has no entries.
    """
    q = q.strip()[:SEARCH_MAX]
    query = _timeline_select(q) if q else _TIMELINE
    rows = db.session.execute(
        query, {"pairing_id": pairing.id, "user_id": user.id, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    ).all()
    pagination = TimelinePage(page, rows[0].meetings if rows else 0)
    entries = {row.id: TimelineEntry(row) for row in rows}
    if not entries:
        return pagination, []
    for meeting_id, title in db.session.execute(_GOALS_MOVED, {"meeting_ids": list(entries)}):
        entries[meeting_id].goals.append(title)
    return pagination, list(entries.values())


# --- for the director: dates and counts only ----------------------------------------------------------


def pair_activity(pairing_ids, *, now: datetime | None = None) -> dict[int, tuple[int, date | None, datetime | None]]:
    """For each pairing: (meetings held, the last day one was held, when the next planned one starts).

    Dates and counts only, never text, in one query: this is what the director may see. Pairings without
    meetings get (0, None, None).
    """
    ids = list(pairing_ids)
    if not ids:
        return {}
    now = now or utcnow()
    held = Meeting.status == MeetingStatus.HELD
    upcoming = and_(Meeting.status == MeetingStatus.PLANNED, Meeting.starts_at >= now)
    rows = db.session.execute(
        select(
            Meeting.pairing_id,
            func.count(case((held, 1))),
            func.max(case((held, Meeting.held_on))),
            func.min(case((upcoming, Meeting.starts_at))),
        )
        .where(Meeting.pairing_id.in_(ids))
        .group_by(Meeting.pairing_id)
    )
    activity = {pairing_id: (0, None, None) for pairing_id in ids}
    for pairing_id, count, last_held, next_planned in rows:
        activity[pairing_id] = (count, last_held, next_planned)
    return activity


# --- the calendar file --------------------------------------------------------------------------------


def ics_for(meeting: Meeting, pairing: Pairing, *, host: str, url: str, now: datetime | None = None) -> str:
    """An iCalendar file with one event for the meeting: its time in the organiser's zone, the pair's names and
    the link to the journal, never journal text.

    The UID is stable per meeting and SEQUENCE counts every move (and the cancellation), so importing again
    updates the same calendar entry; a cancelled meeting is sent as METHOD:CANCEL. The organiser is whoever
    planned the meeting (else the mentee, who drives the pairing); their zone is the TZID, with its VTIMEZONE.
    """
    mentor, mentee = db.session.get(User, pairing.mentor_id), db.session.get(User, pairing.mentee_id)
    organiser = {mentor.id: mentor, mentee.id: mentee}.get(meeting.planned_by_id, mentee)
    zone = zone_for(organiser)
    start = meeting.starts_at.astimezone(zone)
    cancelled = meeting.status == MeetingStatus.CANCELLED
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Mentorship program//Journals//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"meeting-{meeting.id}@{host}")
    # A cancellation is one more revision than the last move, so calendars apply it over the move.
    event.add("sequence", meeting.reschedules + (1 if cancelled else 0))
    event.add("dtstamp", (now or utcnow()).astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=meeting.duration_minutes))
    event.add("summary", f"Mentoring: {mentor.display_name} and {mentee.display_name}")
    event.add("description", "Your notes and reflections are in the portal: " + url)
    event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("organizer", icalendar.vCalAddress.new(organiser.email, cn=organiser.display_name))
    for person in (mentor, mentee):
        event.add("attendee", icalendar.vCalAddress.new(person.email, cn=person.display_name))
    calendar.add_component(event)
    # Only the rules around the meeting: a whole zone history would make the file hundreds of lines long.
    calendar.add_missing_timezones(
        first_date=start.date() - timedelta(days=366), last_date=start.date() + timedelta(days=366)
    )
    return calendar.to_ical().decode("utf-8")
