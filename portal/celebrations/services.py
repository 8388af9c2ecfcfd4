"""The celebration wall: proposals, kudos, sharing by choice, reactions, reports and the director's care.

Who sees what (the one place it is decided: ``get_post_for``):
- on the wall (published to everyone, not hidden, not deleted): everyone signed in;
- shared with the pair only: the pairing's two people;
- a proposal or kudos not yet shared: its subject, and for kudos the giver (who only ever hears "delivered");
- hidden by the director: the director and the post's author and subject;
- deleted: nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.orm import aliased, joinedload

from portal.database import conflict_insert
from portal.edge import MAX_ID
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.fragments import per_process
from portal.models import (
    Celebration,
    CelebrationAudience,
    CelebrationKind,
    CelebrationReaction,
    CelebrationReport,
    CelebrationStatus,
    Choice,
    Cycle,
    Pairing,
    Role,
    Team,
    User,
)
from portal.notifications.services import notify

TEXT_MAX = 500
REASON_MAX = 500
PAGE_SIZE = 20
# Program-wide totals under this are shown as "a few", so a small number never points at someone.
FEW = 5
# Lists every wall page shows the same to everyone (filter choices, this month's totals) are read at most once a
# minute per process.
LISTS_SECONDS = 60

REACTIONS = {
    "clap": ("\N{CLAPPING HANDS SIGN}", "Clap"),
    "heart": ("\u2764\ufe0f", "Heart"),
    "sparkle": ("\u2728", "Sparkle"),
}
KIND_LABELS = {
    CelebrationKind.MILESTONE: "Milestone reached",
    CelebrationKind.GOAL: "Goal achieved",
    CelebrationKind.FIRST_MEETING: "First meeting",
    CelebrationKind.CYCLE_COMPLETED: "Cycle completed",
    CelebrationKind.KUDOS: "Kudos",
}
DEFAULT_TEXT = {
    CelebrationKind.MILESTONE: "I reached a milestone.",
    CelebrationKind.GOAL: "I achieved a goal.",
    CelebrationKind.FIRST_MEETING: "We had our first meeting.",
    CelebrationKind.CYCLE_COMPLETED: "We completed a mentoring cycle together.",
}


# --- helpers -------------------------------------------------------------------------------------------


def _clean_text(text: str | None, *, field_name: str = "text") -> str:
    """The text trimmed; ValidationFailed when it is empty or over the limit."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationFailed({field_name: "Please write a few words."})
    if len(text) > TEXT_MAX:
        raise ValidationFailed({field_name: f"Please keep it to {TEXT_MAX} characters; it is {len(text)} now."})
    return text


@per_process(LISTS_SECONDS)
def skill_labels() -> dict[str, str]:
    """The active soft skills, key -> label, in their order (one query, at most once a minute per process)."""
    return dict(
        db.session.execute(
            select(Choice.key, Choice.label)
            .where(Choice.list_name == "skills", Choice.is_active.is_(True))
            .order_by(Choice.position, Choice.id)
        ).all()
    )


def _check_skill(skill_key: str | None, *, required: bool) -> str | None:
    skill_key = (skill_key or "").strip() or None
    if skill_key is None:
        if required:
            raise ValidationFailed({"skill": "Please choose the soft skill they showed."})
        return None
    if skill_key not in skill_labels():
        raise ValidationFailed({"skill": "Please choose one of the soft skills in the list."})
    return skill_key


def _pairing_of(user: User, pairing_id: int) -> Pairing:
    pairing = db.session.get(Pairing, pairing_id)
    if pairing is None or user.id not in (pairing.mentor_id, pairing.mentee_id):
        raise NotFound()
    return pairing


def _loaded():
    """Load options for showing a post: its subject, author and team, joined into the same query."""
    # Inner joins for the two people (never null): an outer join around User's own joined team makes SQLite
    # materialise the whole users table for every page.
    return (
        joinedload(Celebration.subject, innerjoin=True),
        joinedload(Celebration.author, innerjoin=True),
        joinedload(Celebration.team),
    )


def _current_cycle_id() -> int | None:
    return db.session.scalar(select(Cycle.id).where(Cycle.is_current.is_(True)))


# --- proposals and kudos -------------------------------------------------------------------------------


def propose_celebration(
    user: User,
    *,
    kind: str,
    text: str,
    pairing_id: int | None = None,
    goal_id: int | None = None,
    milestone_id: int | None = None,
    skill_key: str | None = None,
    cycle_id: int | None = None,
) -> Celebration:
    """Propose a post about ``user``'s progress to them (never public until they choose) and tell them.

    ``text`` is the prefilled wording; it is trimmed to the length limit (the person edits it anyway) and a
    kind default replaces empty text. The same milestone or goal is proposed once: a second call returns the
    first proposal. Raises ValueError for kudos or an unknown kind (kudos come from ``give_kudos``) and
    NotFound when ``pairing_id`` is not a pairing of ``user``.
    """
    kind = CelebrationKind(kind)
    if kind == CelebrationKind.KUDOS:
        raise ValueError("kudos are given with give_kudos")
    if pairing_id is not None:
        pairing = _pairing_of(user, pairing_id)
        cycle_id = cycle_id or pairing.cycle_id
    same = None
    if milestone_id is not None:
        about = Celebration.milestone_id == milestone_id
    elif goal_id is not None and kind == CelebrationKind.GOAL:
        about = Celebration.goal_id == goal_id
    else:
        about = None
    if about is not None:
        # Ticking a milestone, undoing it and ticking it again proposes one post, not three.
        same = db.session.scalar(
            select(Celebration).where(Celebration.subject_id == user.id, Celebration.kind == kind, about).limit(1)
        )
    if same is not None:
        return same
    text = (text or "").strip()[:TEXT_MAX].strip() or DEFAULT_TEXT[kind]
    if skill_key is not None and skill_key not in skill_labels():
        skill_key = None
    post = Celebration(
        kind=kind,
        status=CelebrationStatus.PROPOSED,
        audience=CelebrationAudience.EVERYONE,
        subject_id=user.id,
        author_id=user.id,
        text=text,
        skill_key=skill_key,
        cycle_id=cycle_id if cycle_id is not None else _current_cycle_id(),
        team_id=user.team_id,
        pairing_id=pairing_id,
        goal_id=goal_id,
        milestone_id=milestone_id,
    )
    db.session.add(post)
    db.session.flush()
    notify(
        user,
        "Would you like to celebrate this on the wall?",
        endpoint="celebrations.show",
        post_id=post.id,
        kind="wall",
    )
    return post


def find_person(address: str | None) -> User:
    """The person with this work email. Raises ValidationFailed (``to``) when there is nobody by that address."""
    address = (address or "").strip().lower()
    if not address:
        raise ValidationFailed({"to": "Please enter the work email of the person you would like to thank."})
    person = db.session.scalar(select(User).where(User.email == address))
    if person is None:
        raise ValidationFailed({"to": "We could not find anyone with that work email. Please check the address."})
    return person


PEOPLE_SHOWN = 8


def find_colleagues(user: User, term: str) -> list[User]:
    """Colleagues (not ``user``) whose name or work email holds ``term``, by name, at most eight (one query).

    A term under two characters finds nobody.
    """
    term = " ".join((term or "").split()).lower()
    if len(term) < 2:
        return []
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.id != user.id,
                or_(func.lower(User.display_name).like(pattern, escape="\\"), User.email.like(pattern, escape="\\")),
            )
            .order_by(User.display_name, User.id)
            .limit(PEOPLE_SHOWN)
        )
    )


def give_kudos(giver: User, *, to: str, skill_key: str | None, text: str) -> Celebration:
    """Send kudos for a soft skill to the person with work email ``to``; they decide whether it goes on the wall.

    Raises ValidationFailed (``to``, ``skill``, ``text``) for an unknown person, oneself, no skill or bad text.
    """
    errors: dict[str, str] = {}
    subject = None
    try:
        subject = find_person(to)
        if subject.id == giver.id:
            raise ValidationFailed({"to": "Kudos are for someone else. Your own progress gets its own celebration."})
    except ValidationFailed as failure:
        errors.update(failure.errors)
    for check in (lambda: _check_skill(skill_key, required=True), lambda: _clean_text(text)):
        try:
            check()
        except ValidationFailed as failure:
            errors.update(failure.errors)
    if errors:
        raise ValidationFailed(errors)
    post = Celebration(
        kind=CelebrationKind.KUDOS,
        status=CelebrationStatus.PROPOSED,
        audience=CelebrationAudience.EVERYONE,
        subject=subject,
        author=giver,
        text=_clean_text(text),
        skill_key=_check_skill(skill_key, required=True),
        cycle_id=_current_cycle_id(),
        team_id=subject.team_id,
    )
    db.session.add(post)
    db.session.flush()
    notify(
        subject,
        f"{giver.display_name} sent you kudos. Would you like them on the wall?",
        endpoint="celebrations.show",
        post_id=post.id,
        kind="wall",
    )
    return post


def share_post(post: Celebration, user: User, *, text: str, audience: str, now: datetime) -> Celebration:
    """The subject shares their proposal, edited, with everyone or with their pair only.

    Raises NotFound unless ``user`` is the subject of a proposal (not kudos) that is not deleted,
    ValidationFailed (``text``, ``audience``) for bad text or "pair" without a pairing, Conflict when it
    was already shared.
    """
    if post.subject_id != user.id or post.kind == CelebrationKind.KUDOS or post.deleted_at is not None:
        raise NotFound()
    if post.status == CelebrationStatus.PUBLISHED:
        raise Conflict("This is already shared.")
    errors = {}
    try:
        text = _clean_text(text)
    except ValidationFailed as failure:
        errors.update(failure.errors)
    if audience not in (CelebrationAudience.EVERYONE, CelebrationAudience.PAIR):
        errors["audience"] = "Please choose who may see it."
    elif audience == CelebrationAudience.PAIR and post.pairing_id is None:
        errors["audience"] = "This is not about a pairing, so it can only be shared with everyone."
    if errors:
        raise ValidationFailed(errors)
    post.text = text
    post.audience = CelebrationAudience(audience)
    _publish(post, user, now)
    return post


def accept_kudos(post: Celebration, user: User, *, now: datetime) -> Celebration:
    """The subject accepts kudos about them: they go on the wall. Raises NotFound unless ``user`` is the
    subject of kudos that are not deleted; Conflict when they are already on the wall."""
    if post.subject_id != user.id or post.kind != CelebrationKind.KUDOS or post.deleted_at is not None:
        raise NotFound()
    if post.status == CelebrationStatus.PUBLISHED:
        raise Conflict("These kudos are already on the wall.")
    post.audience = CelebrationAudience.EVERYONE
    _publish(post, user, now)
    return post


def _publish(post: Celebration, subject: User, now: datetime) -> None:
    post.status = CelebrationStatus.PUBLISHED
    post.published_at = now
    post.team_id = subject.team_id
    db.session.flush()


# --- "Share this on the wall?", offered where the progress happened ------------------------------------


_PENDING_OFFERS = (
    select(Celebration)
    .where(
        Celebration.subject_id == bindparam("user_id"),
        Celebration.status == CelebrationStatus.PROPOSED,
        Celebration.kind.in_([CelebrationKind.MILESTONE, CelebrationKind.GOAL]),
        Celebration.goal_id.in_(bindparam("goal_ids", expanding=True)),
        Celebration.deleted_at.is_(None),
    )
    .order_by(Celebration.id)
)


def pending_offers(user: User, goal_ids: list[int]) -> dict[int, Celebration]:
    """The person's unanswered proposals about these goals (a ticked milestone, an achieved goal), by goal id,
    the newest per goal (one query)."""
    if not goal_ids:
        return {}
    rows = db.session.scalars(_PENDING_OFFERS, {"user_id": user.id, "goal_ids": goal_ids})
    return {row.goal_id: row for row in rows}


def offer_for(user: User, post_id: int) -> Celebration:
    """The person's own proposal about their progress. Raises NotFound for anything else (kudos included)."""
    post = db.session.get(Celebration, post_id)
    if post is None or post.subject_id != user.id or post.kind == CelebrationKind.KUDOS or post.deleted_at:
        raise NotFound()
    return post


def answer_offer(user: User, post_id: int, *, share: bool, text: str, now: datetime) -> Celebration:
    """Post the proposal on the wall with the person's words (everyone may see it), or skip it quietly.

    Raises NotFound unless it is ``user``'s own proposal, Conflict when it was answered already (in another
    tab, or on the wall's page), and ValidationFailed (``text``) for empty or over-long words when sharing.
    """
    post = offer_for(user, post_id)
    if share:
        values = {"status": CelebrationStatus.PUBLISHED, "text": _clean_text(text), "published_at": now,
                  "audience": CelebrationAudience.EVERYONE, "team_id": user.team_id}  # fmt: skip
    else:
        values = {"status": CelebrationStatus.DISMISSED}
    # One conditional write: two tabs answering at once cannot both win.
    answered = db.session.execute(
        update(Celebration)
        .where(Celebration.id == post.id, Celebration.status == CelebrationStatus.PROPOSED)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(post)
    if not answered:
        shared = post.status == CelebrationStatus.PUBLISHED
        raise Conflict("This is on the wall already." if shared else "You chose to keep this to yourself already.")
    return post


def dismiss_post(post: Celebration, user: User) -> Celebration:
    """The subject says "not now" to a proposal or keeps kudos private. Nobody else is told, ever.

    Raises NotFound unless ``user`` is the subject; Conflict when it is already shared (delete it instead).
    """
    if post.subject_id != user.id or post.deleted_at is not None:
        raise NotFound()
    if post.status == CelebrationStatus.PUBLISHED:
        raise Conflict("This is already shared. You can remove it from the wall instead.")
    post.status = CelebrationStatus.DISMISSED
    db.session.flush()
    return post


def edit_post(post: Celebration, user: User, *, text: str) -> Celebration:
    """The author changes the text of their post (or of kudos not yet accepted).

    Raises NotFound unless ``user`` is the author and the post is not deleted, Conflict for kudos already
    on the wall (their subject accepted those words), ValidationFailed (``text``) for bad text.
    """
    if post.author_id != user.id or post.deleted_at is not None:
        raise NotFound()
    if post.kind == CelebrationKind.KUDOS and post.status == CelebrationStatus.PUBLISHED:
        raise Conflict(
            "These kudos are on the wall with the words their subject accepted, so they can no longer be changed. "
            "You can delete them."
        )
    post.text = _clean_text(text)
    db.session.flush()
    return post


def delete_post(post: Celebration, user: User, *, now: datetime) -> Celebration:
    """The author deletes their post; the subject of kudos may also take them down. Reactions go with it.

    Raises NotFound for anyone else or a post already deleted.
    """
    if user.id not in (post.author_id, post.subject_id) or post.deleted_at is not None:
        raise NotFound()
    post.deleted_at = now
    db.session.flush()
    return post


# --- who sees what -------------------------------------------------------------------------------------


def can_see(post: Celebration, user: User, pairing: Pairing | None = None) -> bool:
    """Whether ``user`` may read ``post`` (see the module docstring). ``pairing`` is the post's, if any."""
    if post.deleted_at is not None:
        return False
    if post.hidden_at is not None:
        return user.is_director or user.id in (post.author_id, post.subject_id)
    if post.status == CelebrationStatus.PROPOSED or post.status == CelebrationStatus.DISMISSED:
        if post.kind == CelebrationKind.KUDOS:
            return user.id in (post.author_id, post.subject_id)
        return user.id == post.subject_id
    if post.audience == CelebrationAudience.EVERYONE:
        return True
    return pairing is not None and user.id in (pairing.mentor_id, pairing.mentee_id)


def get_post_for(user: User, post_id: int) -> Celebration:
    """The post with its subject and author loaded, if ``user`` may read it. Raises NotFound otherwise."""
    post = db.session.scalar(select(Celebration).options(*_loaded()).where(Celebration.id == post_id))
    if post is None:
        raise NotFound()
    pairing = db.session.get(Pairing, post.pairing_id) if post.pairing_id else None
    if not can_see(post, user, pairing):
        raise NotFound()
    return post


# --- reactions -----------------------------------------------------------------------------------------


def set_reaction(post_id: int, user: User, kind: str, *, on: bool) -> tuple[Celebration, bool]:
    """Give ``user``'s reaction of ``kind`` to a post (``on``) or take it back; return (post, whether it changed).

    The form says which state it wants, so a double click or a retried request sets the same state again and
    changes nothing. The count on the post follows the row in the same transaction. Raises ValidationFailed
    (``kind``) for an unknown reaction, NotFound when the post is not there for ``user``, Conflict when it was
    taken off the wall or is not shared yet.
    """
    if kind not in REACTIONS:
        raise ValidationFailed({"kind": "Please choose one of the reactions."})
    post = db.session.get(Celebration, post_id)
    if post is None:
        raise NotFound()
    was_public = post.status == CelebrationStatus.PUBLISHED and post.audience == CelebrationAudience.EVERYONE
    if (post.hidden_at is not None or post.deleted_at is not None) and was_public:
        raise Conflict("This post is no longer on the wall, so it cannot take reactions.")
    pairing = db.session.get(Pairing, post.pairing_id) if post.pairing_id else None
    if not can_see(post, user, pairing):
        raise NotFound()
    if post.status != CelebrationStatus.PUBLISHED or post.hidden_at is not None:
        raise Conflict("Reactions open once this is shared.")
    mine = {"celebration_id": post.id, "user_id": user.id, "kind": kind}
    if on:
        # Of two tabs giving the same reaction at once, only the one whose row went in counts it; the other
        # meets the primary key and changes nothing (RETURNING, not rowcount: psycopg does not report the rows
        # of an INSERT ... ON CONFLICT reliably).
        changed = db.session.execute(
            conflict_insert(CelebrationReaction, db.session.get_bind()).values(**mine).on_conflict_do_nothing()
            .returning(CelebrationReaction.kind)
        ).first() is not None  # fmt: skip
    else:
        # Likewise, only the DELETE that removed the row counts it.
        changed = bool(
            db.session.execute(
                delete(CelebrationReaction).filter_by(**mine), execution_options={"synchronize_session": False}
            ).rowcount
        )
    if changed:
        # Computed in the database (never read-modify-write) from exactly one row added or removed by this
        # transaction, so the count cannot drift; the CASE keeps it from ever going below zero.
        column, delta = getattr(Celebration, f"{kind}_count"), 1 if on else -1
        db.session.execute(
            update(Celebration)
            .where(Celebration.id == post.id)
            .values({column: case((column + delta < 0, 0), else_=column + delta)})
        )
        db.session.expire(post, [f"{kind}_count"])
    return post, changed


_MY_REACTIONS = select(CelebrationReaction.celebration_id, CelebrationReaction.kind).where(
    CelebrationReaction.user_id == bindparam("user_id"),
    CelebrationReaction.celebration_id.in_(bindparam("post_ids", expanding=True)),
)


def my_reactions(user: User, post_ids: list[int]) -> dict[int, set[str]]:
    """Which reactions ``user`` gave to each of these posts, in one query."""
    if not post_ids:
        return {}
    mine: dict[int, set[str]] = {}
    for post_id, kind in db.session.execute(_MY_REACTIONS, {"user_id": user.id, "post_ids": post_ids}):
        mine.setdefault(post_id, set()).add(kind)
    return mine


# --- the wall ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page of the wall starts: strictly older than (published_at, id)."""

    published_at: datetime
    id: int

    def token(self) -> str:
        stamp = self.published_at.astimezone(UTC)
        micros = int(stamp.timestamp()) * 1_000_000 + stamp.microsecond
        return f"{micros}-{self.id}"

    @classmethod
    def parse(cls, token: str | None) -> Cursor | None:
        """The cursor in a ``before`` argument; None for no or a garbled value (the newest page is shown)."""
        if not token:
            return None
        try:
            micros, post_id = (int(part) for part in token.split("-", 1))
            if not 0 < post_id <= MAX_ID:
                return None
            stamp = datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)
        except (ValueError, OverflowError, OSError):
            return None
        return cls(stamp, post_id)


@dataclass
class WallFilters:
    skill: str | None = None
    cycle_id: int | None = None
    team_id: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.skill or self.cycle_id or self.team_id)

    def args(self) -> dict:
        """As URL arguments, for the next page's link."""
        found = {"skill": self.skill, "cycle": self.cycle_id, "team": self.team_id}
        return {key: value for key, value in found.items() if value}


class Person(NamedTuple):
    display_name: str


class TeamName(NamedTuple):
    name: str


@dataclass(frozen=True, slots=True)
class WallPost:
    """A post as the wall lists it: plain values from one Core query (no ORM objects, no identity map), with the
    attributes ``celebrations/_post.html`` reads from a Celebration."""

    id: int
    kind: CelebrationKind
    skill_key: str | None
    text: str
    published_at: datetime
    updated_at: datetime
    hidden_at: datetime | None
    clap_count: int
    heart_count: int
    sparkle_count: int
    subject: Person
    author: Person
    team: TeamName | None

    def count_of(self, reaction: str) -> int:
        return getattr(self, f"{reaction}_count")


@dataclass
class WallPage:
    posts: list[WallPost]
    next_cursor: Cursor | None
    reactions: dict[int, set[str]] = field(default_factory=dict)


def _on_wall():
    return and_(
        Celebration.status == CelebrationStatus.PUBLISHED,
        Celebration.audience == CelebrationAudience.EVERYONE,
        Celebration.hidden_at.is_(None),
        Celebration.deleted_at.is_(None),
    )


# The wall's selects are built once: building one (aliases, joins, column proxies) costs several times what
# SQLite takes to run it. SQLAlchemy caches the compiled form; the bound values still vary per call.
_SUBJECT, _AUTHOR = aliased(User, name="subject"), aliased(User, name="author")
_WALL_POSTS = (
    select(
        Celebration.id,
        Celebration.kind,
        Celebration.skill_key,
        Celebration.text,
        Celebration.published_at,
        Celebration.updated_at,
        Celebration.hidden_at,
        Celebration.clap_count,
        Celebration.heart_count,
        Celebration.sparkle_count,
        _SUBJECT.display_name,
        _AUTHOR.display_name,
        Team.name,
        # The viewer's own reactions, one primary-key probe each, instead of a second query with the page's ids.
        *(
            select(CelebrationReaction.kind)
            .where(
                CelebrationReaction.celebration_id == Celebration.id,
                CelebrationReaction.user_id == bindparam("viewer_id"),
                CelebrationReaction.kind == kind,
            )
            .exists()
            .label(f"mine_{kind}")
            for kind in REACTIONS
        ),
    )
    .join(_SUBJECT, _SUBJECT.id == Celebration.subject_id)
    .join(_AUTHOR, _AUTHOR.id == Celebration.author_id)
    .outerjoin(Team, Team.id == Celebration.team_id)
)
_NEWEST_FIRST = (Celebration.published_at.desc(), Celebration.id.desc())
_WALL_NEWEST = _WALL_POSTS.where(_on_wall()).order_by(*_NEWEST_FIRST)
# The same statement object each time: SQLAlchemy keeps its cache key on it instead of walking it again.
_WALL_FIRST_PAGE = _WALL_NEWEST.limit(PAGE_SIZE + 1)
_VIEWER = bindparam("viewer_id")
_PAIR_POSTS = _WALL_POSTS.where(
    # Driven by the viewer's few pairings (an IN subquery), never by a scan of the whole wall.
    Celebration.pairing_id.in_(
        select(Pairing.id).where(or_(Pairing.mentor_id == _VIEWER, Pairing.mentee_id == _VIEWER))
    ),
    Celebration.status == CelebrationStatus.PUBLISHED,
    Celebration.audience == CelebrationAudience.PAIR,
    Celebration.hidden_at.is_(None),
    Celebration.deleted_at.is_(None),
).order_by(*_NEWEST_FIRST)


def _wall_post(row) -> tuple[WallPost, set[str]]:
    """The post in a row of _WALL_POSTS, and the viewer's reactions to it."""
    fields, (subject, author, team), mine = row[:10], row[10:13], row[13:]
    post = WallPost(*fields, Person(subject), Person(author), TeamName(team) if team is not None else None)
    return post, {kind for kind, on in zip(REACTIONS, mine, strict=True) if on}


def wall_page(viewer: User, *, filters: WallFilters, before: Cursor | None = None, size: int = PAGE_SIZE) -> WallPage:
    """One page of the wall, newest first, with the viewer's own reactions (one query, whatever the size).

    Keyset pagination on (published_at, id): a deep page costs what the first one does.
    """
    query = _WALL_FIRST_PAGE if size == PAGE_SIZE else _WALL_NEWEST.limit(size + 1)
    if filters.skill:
        query = query.where(Celebration.skill_key == filters.skill)
    if filters.cycle_id:
        query = query.where(Celebration.cycle_id == filters.cycle_id)
    if filters.team_id:
        query = query.where(Celebration.team_id == filters.team_id)
    if before is not None:
        # Written as a range on published_at (index-friendly everywhere) plus a tie-break on id.
        query = query.where(
            Celebration.published_at <= before.published_at,
            or_(Celebration.published_at < before.published_at, Celebration.id < before.id),
        )
    found = [_wall_post(row) for row in db.session.execute(query, {"viewer_id": viewer.id})]
    next_cursor = None
    if len(found) > size:
        found = found[:size]
        next_cursor = Cursor(found[-1][0].published_at, found[-1][0].id)
    return WallPage([post for post, _ in found], next_cursor, {post.id: mine for post, mine in found if mine})


def pair_posts(viewer: User, *, limit: int = 5) -> list[WallPost]:
    """The newest posts shared with the viewer's pair only (one query)."""
    rows = db.session.execute(_PAIR_POSTS, {"viewer_id": viewer.id, "limit": limit})
    return [post for post, _ in map(_wall_post, rows)]


_WAITING = (
    select(func.count())
    .select_from(Celebration)
    .where(
        Celebration.subject_id == bindparam("user_id"),
        Celebration.status == CelebrationStatus.PROPOSED,
        Celebration.deleted_at.is_(None),
    )
)


def waiting_count(user: User) -> int:
    """How many proposals and kudos wait for ``user``'s choice."""
    return db.session.scalar(_WAITING, {"user_id": user.id})


@dataclass
class Total:
    count: int
    one: str
    many: str

    @property
    def words(self) -> str:
        if self.count < FEW:
            return f"a few {self.many}"
        return f"{self.count} {self.many}"


@per_process(LISTS_SECONDS)
def month_totals(today: date) -> list[Total]:
    """Program-wide totals of this month's wall, by kind (one query, at most once a minute per process). Never per
    person; small counts blur."""
    start = datetime(today.year, today.month, 1, tzinfo=UTC)
    counts = dict(
        db.session.execute(
            select(Celebration.kind, func.count())
            .where(_on_wall(), Celebration.published_at >= start)
            .group_by(Celebration.kind)
        ).all()
    )
    words = [
        (CelebrationKind.MILESTONE, "milestone celebrated", "milestones celebrated"),
        (CelebrationKind.GOAL, "goal achieved", "goals achieved"),
        (CelebrationKind.FIRST_MEETING, "first meeting", "first meetings"),
        (CelebrationKind.CYCLE_COMPLETED, "cycle completed", "cycles completed"),
        (CelebrationKind.KUDOS, "kudos shared", "kudos shared"),
    ]
    return [Total(counts[kind], one, many) for kind, one, many in words if counts.get(kind)]


class Option(NamedTuple):
    id: int
    name: str


@per_process(LISTS_SECONDS)
def filter_options() -> tuple[list[Option], list[Option]]:
    """The cycles and teams the wall can be filtered by (two small queries, at most once a minute per process;
    skills come from skill_labels)."""
    cycles = db.session.execute(select(Cycle.id, Cycle.name).order_by(Cycle.starts_on.desc(), Cycle.id.desc()))
    teams = db.session.execute(select(Team.id, Team.name).order_by(Team.name))
    return [Option(*row) for row in cycles], [Option(*row) for row in teams]


def post_version(post: Celebration | WallPost) -> tuple:
    """What a post's fragment on the wall shows, for its cache key: it changes whenever the fragment does."""
    team = post.team.name if post.team else None
    counts = (post.clap_count, post.heart_count, post.sparkle_count)
    return (
        post.id,
        post.updated_at,
        post.hidden_at,
        *counts,
        post.subject.display_name,
        post.author.display_name,
        team,
    )


def page_version(page: WallPage) -> tuple:
    """What a whole page of the wall's list shows (every post's version, the viewer's reactions to it, where the
    next page starts), for its cache key."""
    cursor = page.next_cursor.token() if page.next_cursor else None
    return (cursor, *((post_version(post), *sorted(page.reactions.get(post.id, ()))) for post in page.posts))


def my_celebrations(user: User) -> dict[str, list[Celebration]]:
    """The person's own page: what waits for their choice, their posts, and kudos they sent (one query)."""
    rows = db.session.scalars(
        select(Celebration)
        .options(*_loaded())
        .where(
            or_(Celebration.subject_id == user.id, Celebration.author_id == user.id),
            Celebration.deleted_at.is_(None),
        )
        .order_by(Celebration.created_at.desc(), Celebration.id.desc())
        .limit(200)
    ).unique()
    found: dict[str, list[Celebration]] = {"waiting": [], "shared": [], "sent": [], "kept": []}
    for post in rows:
        if post.kind == CelebrationKind.KUDOS and post.author_id == user.id:
            found["sent"].append(post)
        elif post.subject_id != user.id:
            continue
        elif post.status == CelebrationStatus.PROPOSED:
            found["waiting"].append(post)
        elif post.status == CelebrationStatus.PUBLISHED:
            found["shared"].append(post)
        else:
            found["kept"].append(post)
    return found


# --- reports and the director's care -------------------------------------------------------------------


def report_post(post: Celebration, user: User, *, reason: str) -> CelebrationReport:
    """Report a post privately to the director (a second report by the same person updates the reason).

    Raises Conflict for one's own post, ValidationFailed (``reason``) for an over-long reason.
    """
    if user.id in (post.author_id, post.subject_id):
        raise Conflict("This post is yours: you can edit or delete it instead.")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": f"Please keep it to {REASON_MAX} characters; it is {len(reason)} now."})
    report = db.session.scalar(
        select(CelebrationReport).where(
            CelebrationReport.celebration_id == post.id, CelebrationReport.reporter_id == user.id
        )
    )
    if report is None:
        report = CelebrationReport(celebration_id=post.id, reporter_id=user.id, reason=reason)
        db.session.add(report)
    else:
        report.reason, report.resolved_at = reason, None
    db.session.flush()
    for director in db.session.scalars(select(User).where(User.role == Role.DIRECTOR)):
        notify(director, "A wall post was reported. Please have a look.", endpoint="celebrations.reports")
    return report


@dataclass
class ReportedPost:
    post: Celebration
    reports: list[CelebrationReport]


def reported_posts() -> tuple[list[ReportedPost], list[Celebration]]:
    """For the director: posts with open reports (with their reasons), and the posts hidden (three queries)."""
    reports = list(
        db.session.scalars(
            select(CelebrationReport)
            .where(CelebrationReport.resolved_at.is_(None))
            .order_by(CelebrationReport.created_at, CelebrationReport.id)
        )
    )
    ids = list(dict.fromkeys(report.celebration_id for report in reports))
    posts = {
        post.id: post
        for post in db.session.scalars(
            select(Celebration).options(*_loaded()).where(Celebration.id.in_(ids), Celebration.deleted_at.is_(None))
        ).unique()
    }
    open_reports = [
        ReportedPost(posts[post_id], [r for r in reports if r.celebration_id == post_id])
        for post_id in ids
        if post_id in posts
    ]
    hidden = list(
        db.session.scalars(
            select(Celebration)
            .options(*_loaded())
            .where(Celebration.hidden_at.is_not(None), Celebration.deleted_at.is_(None))
            .order_by(Celebration.hidden_at.desc())
            .limit(100)
        ).unique()
    )
    return open_reports, hidden


def get_post_for_director(post_id: int) -> Celebration:
    """A post that is shared (or reported) for the director to hide or restore. Raises NotFound otherwise.

    Proposals and kudos not shared are nobody's business but their subject's, the director's included.
    """
    post = db.session.get(Celebration, post_id)
    if post is None or post.deleted_at is not None or post.status != CelebrationStatus.PUBLISHED:
        raise NotFound()
    return post


def set_hidden(post: Celebration, director: User, *, hidden: bool, now: datetime) -> Celebration:
    """The director takes a post off the wall, or puts it back (which also closes its reports).

    The author is told, kindly, when their post is taken off. Raises NotAllowed for anyone but the director.
    """
    if not director.is_director:
        raise NotAllowed("Only the program director can do this.")
    db.session.execute(
        update(CelebrationReport)
        .where(CelebrationReport.celebration_id == post.id, CelebrationReport.resolved_at.is_(None))
        .values(resolved_at=now)
    )
    if hidden and post.hidden_at is None:
        post.hidden_at, post.hidden_by_id = now, director.id
        notify(
            db.session.get(User, post.author_id),
            "The program director has taken one of your wall posts off the wall for now. "
            "They will be glad to talk it through.",
            endpoint="celebrations.show",
            post_id=post.id,
            kind="wall",
        )
    elif not hidden:
        post.hidden_at, post.hidden_by_id = None, None
    db.session.flush()
    return post


def reaction_counts(post: Celebration) -> list[tuple[str, str, str, int]]:
    """(key, symbol, label, count) for each reaction, in order."""
    return [(key, symbol, label, post.count_of(key)) for key, (symbol, label) in REACTIONS.items()]
