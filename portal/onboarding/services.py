"""Saving questionnaire answers step by step, drafts, resuming and finishing."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, select

from portal.clock import utcnow
from portal.database import insert_or_update
from portal.dates import is_zone
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.models import Choice, Draft, ProfileAnswer, ProfileStep, User
from portal.models.profiles import StepStatus
from portal.onboarding.questions import DEFAULT_CHOICES, QUESTION_BY_KEY, QUESTIONS, Question

DRAFT_PREFIX = "onboarding:"


@dataclass
class StepState:
    """One question as the person left it."""

    status: StepStatus | None = None
    choices: list[Choice] = field(default_factory=list)
    text: str | None = None

    @property
    def keys(self) -> set[str]:
        return {choice.key for choice in self.choices}


@dataclass
class Progress:
    total: int
    answered: int
    skipped: int
    next_question: Question | None
    finished: bool

    @property
    def started(self) -> bool:
        return self.answered + self.skipped > 0


def get_question(key: str) -> Question:
    """Return the question with this key. Raises LookupError for an unknown step."""
    try:
        return QUESTION_BY_KEY[key]
    except KeyError:
        raise NotFound() from None


def question_number(question: Question) -> int:
    """The 1-based position of a question, for "Step 3 of 11"."""
    return QUESTIONS.index(question) + 1


def neighbours(question: Question) -> tuple[Question | None, Question | None]:
    """The questions before and after this one (None at either end)."""
    index = QUESTIONS.index(question)
    before = QUESTIONS[index - 1] if index > 0 else None
    after = QUESTIONS[index + 1] if index + 1 < len(QUESTIONS) else None
    return before, after


def choices_for(list_name: str) -> list[Choice]:
    """The active options of a list, in their order."""
    return list(
        db.session.scalars(
            select(Choice)
            .where(Choice.list_name == list_name, Choice.is_active.is_(True))
            .order_by(Choice.position, Choice.id)
        )
    )


def all_choices() -> dict[str, list[Choice]]:
    """Every active option of every list, in one query, keyed by list name."""
    lists: dict[str, list[Choice]] = {}
    for choice in db.session.scalars(
        select(Choice).where(Choice.is_active.is_(True)).order_by(Choice.position, Choice.id)
    ):
        lists.setdefault(choice.list_name, []).append(choice)
    return lists


def load_state(user: User) -> dict[str, StepState]:
    """Every question's state for this person, in two queries."""
    states = {question.key: StepState() for question in QUESTIONS}
    for step in db.session.scalars(select(ProfileStep).where(ProfileStep.user_id == user.id)):
        if step.question in states:
            states[step.question].status = step.status
            states[step.question].text = step.text
    rows = db.session.execute(
        select(ProfileAnswer.question, Choice)
        .join(Choice, Choice.id == ProfileAnswer.choice_id)
        .where(ProfileAnswer.user_id == user.id)
        .order_by(Choice.position, Choice.id)
    )
    for question_key, choice in rows:
        if question_key in states:
            states[question_key].choices.append(choice)
    return states


# Built once: every home page runs it.
_STEP_STATUSES = select(ProfileStep.question, ProfileStep.status).where(ProfileStep.user_id == bindparam("user_id"))


def progress_for(user: User) -> Progress:
    """How far the person is: counts, the step to resume at, and whether they finished."""
    statuses = dict(db.session.connection().execute(_STEP_STATUSES, {"user_id": user.id}).all())
    answered = sum(1 for q in QUESTIONS if statuses.get(q.key) == StepStatus.ANSWERED)
    skipped = sum(1 for q in QUESTIONS if statuses.get(q.key) == StepStatus.SKIPPED)
    # Resume at the first question never reached: a skipped one was a choice, so we do not insist.
    upcoming = next((q for q in QUESTIONS if q.key not in statuses), None)
    return Progress(
        total=len(QUESTIONS),
        answered=answered,
        skipped=skipped,
        next_question=upcoming,
        finished=user.onboarded_at is not None,
    )


def _validate_choices(question: Question, values: list[str]) -> list[Choice]:
    options = {choice.key: choice for choice in choices_for(question.list_name)}
    picked = list(dict.fromkeys(values))  # keep order, drop repeats
    if not picked:
        word = "one" if question.kind == "single" else "at least one"
        raise ValidationFailed({question.key: f"Please pick {word}, or choose \u201cSkip for now\u201d."})
    unknown = [value for value in picked if value not in options]
    if unknown:
        raise ValidationFailed({question.key: "Please pick from the list shown."})
    if question.kind == "single" and len(picked) > 1:
        raise ValidationFailed({question.key: "Please pick just one."})
    if question.max_choices and len(picked) > question.max_choices:
        raise ValidationFailed({question.key: f"Please pick up to {question.max_choices}; you picked {len(picked)}."})
    return [options[value] for value in picked]


def _validate_text(question: Question, text: str) -> str:
    if question.max_length and len(text) > question.max_length:
        raise ValidationFailed(
            {question.key: f"Please keep this to {question.max_length} characters; it is {len(text)} now."}
        )
    return text


def _set_step(user: User, question: Question, status: StepStatus, text: str | None = None) -> None:
    step = db.session.get(ProfileStep, (user.id, question.key))
    if step is None:
        db.session.add(ProfileStep(user_id=user.id, question=question.key, status=status, text=text))
    else:
        step.status = status
        step.text = text
        step.updated_at = utcnow()


def save_answer(
    user: User, question: Question, *, values: list[str], text: str = "", timezone: str | None = None
) -> None:
    """Save the person's answer to one question, replacing any earlier answer, and drop its draft; on the
    availability step, also their time zone (``timezone``, when sent).

    Raises ValidationFailed (keyed by the question, and ``timezone``) for a choice not in the list, too many
    choices, none at all, text over the limit, or a name that is not a time zone; nothing is changed then.
    """
    if question.asks_zone and timezone is not None:
        errors: dict[str, str] = {}
        for save in (lambda: set_timezone(user, timezone=timezone), lambda: _validate_choices(question, values)):
            try:
                save()
            except ValidationFailed as failure:
                errors.update(failure.errors)
        if errors:
            raise ValidationFailed(errors)
    if question.kind == "text":
        clean = _validate_text(question, text.strip())
        _set_step(user, question, StepStatus.ANSWERED, clean or None)
    else:
        picked = _validate_choices(question, values)
        db.session.execute(
            delete(ProfileAnswer).where(ProfileAnswer.user_id == user.id, ProfileAnswer.question == question.key)
        )
        db.session.add_all(
            ProfileAnswer(user_id=user.id, question=question.key, choice_id=choice.id) for choice in picked
        )
        _set_step(user, question, StepStatus.ANSWERED)
    discard_draft(user, question)
    db.session.flush()


ZONE_EXAMPLE = "Europe/Berlin"


def set_timezone(user: User, *, timezone: str | None) -> None:
    """Keep ``user``'s time zone (an IANA name such as ``Europe/Berlin``); blank means the organisation's.

    Raises ValidationFailed (field ``timezone``) for a name that is not an IANA time zone; nothing changes then.
    """
    name = (timezone or "").strip()
    if name and not is_zone(name):
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise ValidationFailed(
            {
                "timezone": f"“{shown}” is not a time zone we know. Please pick one from the list, written "
                f"like {ZONE_EXAMPLE} (region, a slash, then a city)."
            }
        )
    user.timezone = name or None
    db.session.flush()


def skip_question(user: User, question: Question) -> None:
    """Mark a question skipped for now. An answer given earlier is kept: skipping never loses anything."""
    step = db.session.get(ProfileStep, (user.id, question.key))
    if step is None:
        _set_step(user, question, StepStatus.SKIPPED)
    db.session.flush()


def get_draft(user: User, question: Question) -> Draft | None:
    """The autosaved, not yet submitted text for a question, if any."""
    return db.session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.key == DRAFT_PREFIX + question.key))


def save_draft(user: User, question: Question, text: str) -> Draft:
    """Keep text being typed. Raises ValidationFailed for a non-text question or text over the limit."""
    if question.kind != "text":
        raise ValidationFailed({question.key: "Only written answers have drafts."})
    text = _validate_text(question, text)
    key = {"user_id": user.id, "key": DRAFT_PREFIX + question.key}
    return insert_or_update(Draft, key, {"text": text, "updated_at": utcnow()})


def discard_draft(user: User, question: Question) -> None:
    """Forget the draft of a question once its answer is saved."""
    db.session.execute(delete(Draft).where(Draft.user_id == user.id, Draft.key == DRAFT_PREFIX + question.key))


def finish(user: User) -> bool:
    """Mark the questionnaire done (answers stay editable). Returns True the first time."""
    if user.onboarded_at is not None:
        return False
    user.onboarded_at = utcnow()
    db.session.flush()
    return True


def seed_choices() -> int:
    """Add the default options to any list that has none yet; return how many were added.

    Existing lists are left alone, so the director's edits survive.
    """
    existing = set(db.session.scalars(select(Choice.list_name).distinct()))
    added = 0
    for list_name, options in DEFAULT_CHOICES.items():
        if list_name in existing:
            continue
        for position, (key, label) in enumerate(options):
            db.session.add(Choice(list_name=list_name, key=key, label=label, position=position))
            added += 1
    db.session.flush()
    return added
