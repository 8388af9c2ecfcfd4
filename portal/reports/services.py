"""Baselines, retrospectives, the sponsor's message, and the report's tables built from the measures."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import case, delete, exists, func, select

from portal.clock import today, utcnow
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.extensions import db
from portal.models import (
    Choice,
    Cycle,
    Goal,
    GoalStatus,
    Pairing,
    PairingActivity,
    PairingStatus,
    ProfileAnswer,
    Retrospective,
    RetrospectiveSkill,
    SkillBaseline,
    SponsorMessage,
    User,
)
from portal.pairings import pairing_for
from portal.reports import measures
from portal.reports.measures import DEFINITIONS, Figure
from portal.stamps import Kept, recounting
from portal.stamps import read as read_stamps
from portal.support.services import Waiting

LEVELS = (1, 2, 3, 4, 5)
LEVEL_WORDS = {1: "just starting", 2: "finding my feet", 3: "comfortable", 4: "confident", 5: "could teach it"}


# -- baselines ---------------------------------------------------------------------------------------------


def baselines_of(user: User) -> dict[int, int]:
    """The person's baseline levels, by skill choice id."""
    return dict(
        db.session.execute(
            select(SkillBaseline.choice_id, SkillBaseline.level).where(SkillBaseline.user_id == user.id)
        ).all()
    )


def _level(value: str, field: str) -> int | None:
    """A 1 to 5 level from a form value; empty means "not saying". Raises ValidationFailed otherwise."""
    if not value:
        return None
    if value.isdigit() and int(value) in LEVELS:
        return int(value)
    raise ValidationFailed({field: "Please choose a level from 1 to 5, or leave it empty."})


def baseline_levels(user: User) -> dict[str, int]:
    """The person's baseline levels by skill key, for the questionnaire."""
    return dict(
        db.session.execute(
            select(Choice.key, SkillBaseline.level)
            .join(SkillBaseline, SkillBaseline.choice_id == Choice.id)
            .where(SkillBaseline.user_id == user.id)
        ).all()
    )


def save_baselines(user: User, *, levels: dict[str, str]) -> None:
    """Keep where the person feels they are today on the skills they want to grow.

    ``levels`` maps a skill key to "1".."5" or "" (not saying; an earlier level is then forgotten). Levels for
    skills not in the list are ignored. Raises ValidationFailed (keyed ``skills_grow``) for another value.
    """
    skills = {
        choice.key: choice.id for choice in db.session.scalars(select(Choice).where(Choice.list_name == "skills"))
    }
    chosen = {skills[key]: _level(value, "skills_grow") for key, value in levels.items() if key in skills}
    existing = baselines_of(user)
    for choice_id, level in chosen.items():
        if level is None:
            if choice_id in existing:
                db.session.execute(
                    delete(SkillBaseline).where(SkillBaseline.user_id == user.id, SkillBaseline.choice_id == choice_id)
                )
        elif choice_id in existing:
            db.session.get(SkillBaseline, (user.id, choice_id)).level = level
        else:
            db.session.add(SkillBaseline(user_id=user.id, choice_id=choice_id, level=level))
    db.session.flush()


# -- retrospectives ----------------------------------------------------------------------------------------


@dataclass
class RetrospectiveForm:
    """What the retrospective asks one partner: the pairing's goals and the person's skills to grow."""

    pairing: Pairing
    role: str
    goals: list[Goal]
    skills: list[Choice]
    baselines: dict[int, int]
    existing: Retrospective | None

    @property
    def answered(self) -> bool:
        return self.existing is not None and self.existing.answered_at is not None


def retrospective_for(user: User, pairing_id: int) -> RetrospectiveForm:
    """The retrospective of an ended pairing for one of its partners.

    Raises NotFound for strangers to the pair (the director included) and for a pairing still running.
    """
    try:
        pairing = pairing_for(user, pairing_id)
    except LookupError:
        raise NotFound() from None
    if pairing.status != PairingStatus.ENDED:
        raise NotFound()
    goals = list(db.session.scalars(select(Goal).where(Goal.pairing_id == pairing.id).order_by(Goal.due_on, Goal.id)))
    skills = list(
        db.session.scalars(
            select(Choice)
            .join(ProfileAnswer, ProfileAnswer.choice_id == Choice.id)
            .where(ProfileAnswer.user_id == user.id, ProfileAnswer.question == "skills_grow")
            .order_by(Choice.position, Choice.id)
        )
    )
    existing = db.session.scalar(
        select(Retrospective).where(Retrospective.pairing_id == pairing.id, Retrospective.user_id == user.id)
    )
    return RetrospectiveForm(
        pairing=pairing,
        role="mentor" if pairing.mentor_id == user.id else "mentee",
        goals=goals,
        skills=skills,
        baselines=baselines_of(user),
        existing=existing,
    )


def answer_retrospective(
    form: RetrospectiveForm,
    user: User,
    *,
    goals_reached: list[str],
    levels: dict[str, str],
    recommend: str,
    went_well: str,
    to_change: str,
) -> Retrospective:
    """Save one partner's retrospective; every answer may be left empty.

    Raises Conflict when it was answered already (answers are kept as given), ValidationFailed for a level
    outside 1 to 5, a score outside 0 to 10, or text over 2,000 characters.
    """
    if form.answered:
        raise Conflict("You answered this retrospective already. Thank you; your answers are kept as they were.")
    errors: dict[str, str] = {}
    score = None
    if recommend:
        if recommend.isdigit() and 0 <= int(recommend) <= 10:
            score = int(recommend)
        else:
            errors["recommend"] = "Please choose a number from 0 to 10, or leave it empty."
    texts = {"went_well": went_well.strip(), "to_change": to_change.strip()}
    for name, text in texts.items():
        if len(text) > 2000:
            errors[name] = f"Please keep this to 2,000 characters; it is {len(text):,} now."
    skill_ids = {str(choice.id): choice.id for choice in form.skills}
    after: dict[int, int] = {}
    for key, value in levels.items():
        if key in skill_ids:
            try:
                level = _level(value, f"skill-{key}")
            except ValidationFailed as failure:
                errors.update(failure.errors)
                continue
            if level is not None:
                after[skill_ids[key]] = level
    if errors:
        raise ValidationFailed(errors)
    goal_ids = {str(goal.id): goal.id for goal in form.goals}
    retro = form.existing or Retrospective(
        pairing_id=form.pairing.id, cycle_id=form.pairing.cycle_id, user_id=user.id, role=form.role
    )
    retro.goals_reached = sorted({goal_ids[value] for value in goals_reached if value in goal_ids})
    retro.recommend = score
    retro.went_well = texts["went_well"] or None
    retro.to_change = texts["to_change"] or None
    retro.answered_at = utcnow()
    retro.skipped_at = None
    db.session.add(retro)
    db.session.flush()
    db.session.add_all(
        RetrospectiveSkill(
            retrospective_id=retro.id,
            choice_id=choice_id,
            level_before=form.baselines.get(choice_id),
            level_after=level,
        )
        for choice_id, level in after.items()
    )
    db.session.flush()
    return retro


def skip_retrospective(form: RetrospectiveForm, user: User) -> None:
    """Say "no thanks" to the retrospective; it stops being offered. Nothing happens when it was answered."""
    if form.existing is not None:
        return
    db.session.add(
        Retrospective(
            pairing_id=form.pairing.id,
            cycle_id=form.pairing.cycle_id,
            user_id=user.id,
            role=form.role,
            skipped_at=utcnow(),
        )
    )
    db.session.flush()


# -- the sponsor's message ---------------------------------------------------------------------------------


def sponsor_message() -> SponsorMessage | None:
    """The latest version of the sponsor's message, if the director wrote one."""
    return db.session.scalar(select(SponsorMessage).order_by(SponsorMessage.id.desc()).limit(1))


def write_sponsor_message(director: User, *, sponsor_name: str, sponsor_title: str, body: str) -> SponsorMessage:
    """Publish a new version of the sponsor's message (earlier versions are kept).

    Raises ValidationFailed when the name or the message is missing or too long.
    """
    values = {"sponsor_name": sponsor_name.strip(), "sponsor_title": sponsor_title.strip(), "body": body.strip()}
    errors = {}
    if not values["sponsor_name"]:
        errors["sponsor_name"] = "Please name the sponsor, so people know who stands behind the program."
    elif len(values["sponsor_name"]) > 80:
        errors["sponsor_name"] = "Please keep the name to 80 characters."
    if len(values["sponsor_title"]) > 120:
        errors["sponsor_title"] = "Please keep the role to 120 characters."
    if not values["body"]:
        errors["body"] = "Please write the message."
    elif len(values["body"]) > 3000:
        errors["body"] = "Please keep the message to 3,000 characters."
    if errors:
        raise ValidationFailed(errors)
    message = SponsorMessage(written_by_id=director.id, **values)
    db.session.add(message)
    db.session.flush()
    return message


# -- cycles for the report ---------------------------------------------------------------------------------


def report_cycles() -> list[Cycle]:
    """Cycles that have started, the newest first (a report of a cycle not yet started would be empty)."""
    return list(
        db.session.scalars(
            select(Cycle)
            .where((Cycle.starts_on <= today()) | Cycle.is_current.is_(True))
            .order_by(Cycle.starts_on.desc(), Cycle.id.desc())
        )
    )


def previous_of(cycle: Cycle, cycles: list[Cycle]) -> Cycle | None:
    """The cycle that started before this one, if any (``cycles`` newest first)."""
    earlier = [other for other in cycles if (other.starts_on, other.id) < (cycle.starts_on, cycle.id)]
    return earlier[0] if earlier else None


# -- the report's tables -----------------------------------------------------------------------------------


@dataclass
class Table:
    """One table of the report: the page, the chart and the CSV all read it, so they always agree."""

    key: str
    title: str
    columns: list[str]
    rows: list[list]  # cells are Figure or str
    chart_column: int | None = None  # the column a bar chart draws, if any
    summary: str = ""

    @property
    def definition_keys(self) -> list[str]:
        """The definitions of the figures in the table, in the order they first appear."""
        keys: dict[str, None] = {}
        for row in self.rows:
            for cell in row:
                if isinstance(cell, Figure):
                    keys.setdefault(cell.key)
        return list(keys)

    def csv_rows(self) -> list[list]:
        """The table as CSV rows: numbers as numbers, hidden figures as the words shown on the page."""
        out = [list(self.columns)]
        for row in self.rows:
            out.append([_csv_cell(cell) for cell in row])
        return out


def _csv_cell(cell):
    if isinstance(cell, Figure):
        if not cell.shown:
            return cell.text
        if cell.kind == "rate":
            return round(cell.value * 100)
        if cell.kind in ("change", "number", "average", "days"):
            return round(cell.value, 1)
        return round(cell.value)
    return cell


@dataclass
class Change:
    """A headline figure of this cycle beside the previous one, and the difference when both are shown."""

    label: str
    key: str
    now: Figure
    before: Figure | None

    @property
    def difference(self) -> str:
        if self.before is None:
            return "no earlier cycle"
        if not (self.now.shown and self.before.shown):
            return "not comparable"
        delta = self.now.value - self.before.value
        if self.now.kind == "rate":
            points = round(delta * 100)
            return f"{points:+d} points" if points else "no change"
        if abs(delta) < 0.05:
            return "no change"
        return f"{delta:+.1f}" if self.now.kind in ("days", "number", "change") else f"{round(delta):+d}"


@dataclass
class Report:
    cycle: Cycle
    previous: Cycle | None
    headlines: list[Change]
    tables: dict[str, Table]
    answered: int
    went_well: list[str]
    to_change: list[str]
    growth_chart: Table
    nudge_rates: measures.Nudges


HEADLINE_KEYS = (
    "mentees",
    "mentors",
    "match_rate",
    "days_to_match",
    "pairs",
    "meetings_held",
    "meetings_per_pair",
    "goals_achieved",
    "goals_on_time",
    "recommend",
)


def label(key: str) -> str:
    return DEFINITIONS[key][0]


# Reports computed at the current stamps of the tables they read, for a few cycles and days; and each measure
# on its own, so that a change recomputes only the measures that read what changed. Every process shares them.
_KEPT_REPORTS = Kept(*measures.REPORT_TABLES, shared="report")
_KEPT_MEASURES = {name: Kept(*tables, shared=f"measure-{name}") for name, tables in measures.MEASURE_TABLES.items()}


def default_report_cycle(cycles: list[Cycle]) -> Cycle | None:
    """The cycle the report opens on: the current one, else the newest started (``cycles`` newest first)."""
    return next((c for c in cycles if c.is_current), cycles[0] if cycles else None)


def recount_reports() -> int:
    """Count the report the director opens first (and the program's figures) afresh, and keep them for every
    process, so that nobody waits for the count after a restart, a new day or ``KEPT_SECONDS``. Returns the
    number of reports counted (0 before any cycle has started)."""
    with recounting():
        program_numbers()
        cycles = report_cycles()
        cycle = default_report_cycle(cycles)
        if cycle is None:
            return 0
        cycle_report(cycle, cycles)
        return 1


def cycle_report(cycle: Cycle, cycles: list[Cycle]) -> Report:
    """Everything the report of one cycle shows, with the change from the cycle before it.

    Kept per process until a table it reads changes, and per day ("due so far" moves with today): two queries
    when kept (the cycles, read by the caller, and the stamps), a fixed number otherwise.
    """
    previous = previous_of(cycle, cycles)
    key = (today(), cycle.id, tuple(other.id for other in cycles))
    stamps = read_stamps(measures.REPORT_TABLES)
    # What is kept holds no ORM object (each belongs to one session): the request's own cycles go back in.
    kept = _KEPT_REPORTS.get(
        key, lambda: replace(_compute_report(cycle, cycles, previous, stamps), cycle=None, previous=None), stamps
    )
    return replace(kept, cycle=cycle, previous=previous)


def _kept_funnel(key: tuple, cycles: list[Cycle], stamps=None) -> dict[int, measures.Funnel]:
    """The funnel of these cycles from its three parts, each kept under ``key`` until its own tables change."""
    parts = (
        ("funnel_enrolment", measures.funnel_enrolment),
        ("funnel_matched", measures.funnel_matched),
        ("funnel_goals", measures.funnel_goals),
    )
    if stamps is None:  # one read for the three
        stamps = read_stamps({table for name, _ in parts for table in measures.MEASURE_TABLES[name]})
    return measures.funnel_from(
        *(_KEPT_MEASURES[name].get(key, lambda count=count: count(cycles), stamps) for name, count in parts)
    )


def _compute_report(cycle: Cycle, cycles: list[Cycle], previous: Cycle | None, stamps=None) -> Report:
    """The report of one cycle from the measures; each asks once for every cycle together, or is kept.

    ``stamps``: the tables' stamps as ``cycle_report`` read them, else read here once.
    """
    # Every cycle at once: the table across cycles needs them, and grouped queries cost the same number.
    everyone = list({c.id: c for c in [cycle, *cycles]}.values())
    stamps = read_stamps(measures.REPORT_TABLES) if stamps is None else stamps
    # In order of id: the report of each cycle then finds the measures another cycle's report counted.
    day, ids = today(), tuple(sorted(c.id for c in everyone))

    def kept(name: str, compute, *key):
        return _KEPT_MEASURES[name].get((day, ids, *key), compute, stamps)

    funnel = _kept_funnel((day, ids), everyone, stamps)
    meets = kept("meetings", lambda: measures.meetings(everyone))
    # The funnel has counted the mentees with a goal already (and reads every table that count depends on).
    people = {c.id: funnel[c.id].set_goal.value for c in everyone}
    goal_sets = kept("goals", lambda: measures.goals(everyone, people=people))
    feelings = kept("satisfaction", lambda: measures.satisfaction(everyone))
    growth = kept("growth", lambda: measures.growth([cycle])[cycle.id], cycle.id)
    nudge = kept("nudges", lambda: measures.nudges([cycle])[cycle.id], cycle.id)
    answered, went_well, to_change = kept("free_text", lambda: measures.free_text(cycle), cycle.id)

    def heads(cycle_id):
        return {
            "mentees": funnel[cycle_id].mentees,
            "mentors": funnel[cycle_id].mentors,
            "match_rate": funnel[cycle_id].match_rate,
            "days_to_match": funnel[cycle_id].days_to_match,
            "pairs": meets[cycle_id].pairs,
            "meetings_held": meets[cycle_id].held,
            "meetings_per_pair": meets[cycle_id].per_pair,
            "goals_achieved": goal_sets[cycle_id].total.achieved,
            "goals_on_time": goal_sets[cycle_id].total.on_time,
            "recommend": feelings[cycle_id].recommend,
        }

    now = heads(cycle.id)
    before = heads(previous.id) if previous else None
    headlines = [Change(label(key), key, now[key], before[key] if before else None) for key in HEADLINE_KEYS]

    f, m, g, s = funnel[cycle.id], meets[cycle.id], goal_sets[cycle.id], feelings[cycle.id]
    tables = {}
    tables["funnel"] = Table(
        "funnel",
        "From the roster to an achieved goal",
        ["Step", "People"],
        [[label(fig.key), fig] for fig in f.steps()],
        chart_column=1,
    )
    tables["matching"] = Table(
        "matching",
        "Enrolment and matching",
        ["Measure", "Value"],
        [[label(fig.key), fig] for fig in (f.mentees, f.mentors, f.matched, f.match_rate, f.days_to_match)],
    )
    tables["meetings"] = Table(
        "meetings",
        "Meetings",
        ["Measure", "Value"],
        [[label(fig.key), fig] for fig in (m.pairs, m.held, m.per_pair, m.cancelled, m.moved, m.without)],
    )
    tables["meetings_per_pair"] = Table(
        "meetings_per_pair",
        "Held meetings per pair",
        ["Meetings held", "Pairs"],
        [[bucket, fig] for bucket, fig in m.distribution],
        chart_column=1,
    )
    goal_columns = ["Goals set", "Achieved", "Achieved by the due date", "Set aside"]
    tables["goals"] = Table(
        "goals",
        "Goals",
        ["Group", *goal_columns],
        [[row.label, row.set, row.achieved, row.on_time, row.set_aside] for row in [g.total]],
    )
    tables["objectives"] = Table(
        "objectives",
        "Each objective's contribution",
        ["Objective", "Level", *goal_columns],
        [
            [row.label, row.level or "\u2014", row.set, row.achieved, row.on_time, row.set_aside]
            for row in g.by_objective
        ],
        chart_column=3,
    )
    tables["levels"] = Table(
        "levels",
        "Goals by level of objective",
        ["Level", *goal_columns],
        [[row.label, row.set, row.achieved, row.on_time, row.set_aside] for row in g.by_level],
    )
    tables["skills"] = Table(
        "skills",
        "Goals by soft skill",
        ["Soft skill", *goal_columns],
        [[row.label, row.set, row.achieved, row.on_time, row.set_aside] for row in g.by_skill],
        chart_column=2,
    )
    tables["growth"] = Table(
        "growth",
        "Skill growth, self-rated (1 to 5)",
        ["Soft skill", "Before (average)", "At the retrospective (average)", "Change"],
        [[row.label, row.before, row.after, row.change] for row in growth],
        chart_column=3,
    )
    tables["satisfaction"] = Table(
        "satisfaction",
        "Satisfaction",
        ["Measure", "Value"],
        [
            [label("retro_answered"), s.answered],
            [label("recommend"), s.recommend],
            [label("recommend") + ", mentees", s.recommend_mentees],
            [label("recommend") + ", mentors", s.recommend_mentors],
            [label("ended_early"), s.ended_early],
            [label("closing_surveys"), s.closing.surveys],
            [label("suitability"), s.closing.suitability],
            [label("checkins"), s.checkins.answers],
            [label("help_requests"), s.help.requests],
            [label("help_answer_days"), s.help.answer_days],
        ],
    )
    tables["checkin_first"] = Table(
        "checkin_first",
        "First check-in: \u201cHow is this pairing going for you?\u201d",
        ["Answer", "Partners"],
        [[answer, fig] for answer, fig in s.checkins.first],
        chart_column=1,
    )
    tables["pulses"] = Table(
        "pulses",
        "Pulses over time (1 to 5)",
        ["Round", "Answers", "Average pulse"],
        [[pulse.label, pulse.answers, pulse.average] for pulse in s.checkins.pulses],
        chart_column=2,
    )
    tables["closing_reasons"] = Table(
        "closing_reasons",
        "Why pairings closed early",
        ["Reason", "Pairings"],
        [[reason, fig] for reason, fig in s.closing.reasons],
        chart_column=1,
    )
    tables["nudges"] = Table(
        "nudges",
        "The interest nudge",
        ["Measure", "Value"],
        [[label(fig.key), fig] for fig in (nudge.invited, nudge.opened, nudge.joined)],
    )
    tables["change"] = Table(
        "change",
        "Change from the previous cycle",
        ["Measure", cycle.name, previous.name if previous else "Previous cycle", "Change"],
        [[c.label, c.now, c.before if c.before else "\u2014", c.difference] for c in headlines],
    )
    for table in tables.values():
        table.summary = summarise(table)
    tables["across"] = across_cycles(everyone, {c.id: heads(c.id) for c in everyone})
    return Report(
        cycle=cycle,
        previous=previous,
        headlines=headlines,
        tables=tables,
        answered=answered,
        went_well=went_well,
        to_change=to_change,
        growth_chart=tables["growth"],
        nudge_rates=nudge,
    )


def across_cycles(cycles: list[Cycle], figures: dict[int, dict[str, Figure]]) -> Table:
    """The headline figures of every cycle side by side, oldest first, with the change from the one before."""
    ordered = sorted(cycles, key=lambda c: (c.starts_on, c.id))
    keys = ("mentees", "match_rate", "meetings_per_pair", "goals_achieved", "goals_on_time", "recommend")
    rows = []
    for key in keys:
        row: list = [label(key)]
        for cycle in ordered:
            row.append(figures[cycle.id][key])
        if len(ordered) >= 2:
            row.append(Change(label(key), key, figures[ordered[-1].id][key], figures[ordered[-2].id][key]).difference)
        rows.append(row)
    last = ["Change from the one before"] if len(ordered) >= 2 else []
    table = Table("across", "Across cycles", ["Measure", *[cycle.name for cycle in ordered], *last], rows)
    table.summary = f"{len(ordered)} cycles, oldest first; the last column compares the newest with the one before it."
    return table


def summarise(table: Table) -> str:
    """A sentence or two saying what the table (and its chart) shows, for the text summary beside the chart."""
    if table.chart_column is None:
        return ""
    shown = [(row[0], row[table.chart_column]) for row in table.rows if row[table.chart_column].shown]
    hidden = len(table.rows) - len(shown)
    if not shown:
        return "Nothing to draw yet: every group is empty or has fewer than 5 people."
    top = max(shown, key=lambda pair: pair[1].value)
    column = table.columns[table.chart_column].lower()
    text = f"{len(shown)} bars of {column}; the largest is {top[0]} at {top[1].text}."
    if hidden:
        text += f" {hidden} {'group is' if hidden == 1 else 'groups are'} not drawn (fewer than 5 people or none yet)."
    return text


# -- the program page and the director's home --------------------------------------------------------------


@dataclass
class ProgramNumbers:
    """The program so far, over every cycle: the figures everyone may see (rule of five applies)."""

    pairs: Figure
    meetings: Figure
    goals_achieved: Figure
    recommend: Figure


def _program_select():
    """The program's totals in one select, built once: cycles, pairs, held meetings, achieved goals, the mentees
    with a goal counted once per cycle (as each cycle's report counts them), and the recommend score's parts."""

    def scalar(query):
        return query.scalar_subquery()

    with_goal = (
        select(Pairing.cycle_id, Pairing.mentee_id)
        .where(exists().where(Goal.pairing_id == Pairing.id))
        .distinct()
        .subquery()
    )
    answered = Retrospective.answered_at.is_not(None)
    return select(
        scalar(select(func.count()).select_from(Cycle)),
        scalar(select(func.count()).select_from(Pairing)),
        # Each pair's activity row counts its held meetings: a row per pair summed, not every meeting read.
        scalar(select(func.coalesce(func.sum(PairingActivity.held_meetings), 0))),
        scalar(select(func.count()).select_from(Goal).where(Goal.status == GoalStatus.ACHIEVED)),
        scalar(select(func.count()).select_from(with_goal)),
        scalar(select(func.count(Retrospective.recommend)).where(answered)),
        scalar(select(func.count(case((Retrospective.recommend >= 9, 1)))).where(answered)),
        scalar(select(func.count(case((Retrospective.recommend <= 6, 1)))).where(answered)),
    )


_PROGRAM = _program_select()
# The program page is every employee's: its totals are kept until one of their tables changes.
_KEPT_PROGRAM = Kept("cycles", "pairings", "pairing_activity", "goals", "retrospectives", shared="program")


def program_numbers() -> ProgramNumbers:
    """Pairs, meetings held, goals achieved and the recommend score over all cycles.

    Every meeting and goal belongs to a pairing and every pairing to a cycle, so the totals are plain counts.
    One query when kept (``portal.stamps``), two otherwise.
    """
    return _KEPT_PROGRAM.get("program", _compute_program_numbers)


def _compute_program_numbers() -> ProgramNumbers:
    """The program's totals from the database (one query)."""
    cycles, pairs, held, achieved, people, answers, promoters, detractors = db.session.execute(_PROGRAM).one()
    if not cycles:
        return ProgramNumbers(
            *(Figure(key, None, 0) for key in ("pairs", "meetings_held", "goals_achieved", "recommend"))
        )
    return ProgramNumbers(
        pairs=measures.count("pairs", pairs),
        meetings=Figure("meetings_held", held, pairs),
        goals_achieved=Figure("goals_achieved", achieved, people),
        recommend=measures.recommend_score(promoters, detractors, answers),
    )


@dataclass
class ProgramState:
    cycle: Cycle | None
    mentees: Figure | None
    mentors: Figure | None
    match_rate: Figure | None
    pairs_needing_help: Figure | None
    help_waiting: Figure
    waiting: Waiting

    @property
    def oldest_wait(self) -> str:
        """How long the oldest question has waited, in plain words."""
        return self.waiting.waited(utcnow())


def program_state() -> ProgramState:
    """What the director's home page leads with: the current cycle, enrolment, match rate, the pairs that may
    need help and the questions waiting for an answer. A fixed number of queries, fewer while the funnel is kept
    (``portal.stamps``)."""
    help_waiting, waiting = measures.help_requests_waiting()
    cycle = db.session.scalar(select(Cycle).where(Cycle.is_current.is_(True)))
    if cycle is None:
        return ProgramState(None, None, None, None, None, help_waiting, waiting)
    # Kept like the report's funnel: enrolment and matching move with each enrolment and pairing, not per visit.
    funnel = _kept_funnel((today(), (cycle.id,)), [cycle])[cycle.id]
    return ProgramState(
        cycle=cycle,
        mentees=funnel.mentees,
        mentors=funnel.mentors,
        match_rate=funnel.match_rate,
        pairs_needing_help=measures.pairs_needing_help(cycle),
        help_waiting=help_waiting,
        waiting=waiting,
    )


def next_cycle(after: Cycle | None) -> Cycle | None:
    """The next cycle to start after the current one (or after today when there is none)."""
    start = after.starts_on if after else today()
    return db.session.scalar(select(Cycle).where(Cycle.starts_on > start).order_by(Cycle.starts_on, Cycle.id).limit(1))
