"""Change stamps: every committed write to a watched table raises its stamp, whatever wrote it."""

from __future__ import annotations

import re

from sqlalchemy import event, text, update

from portal.extensions import db
from portal.models import Goal, Meeting
from portal.reports import measures, services
from portal.stamps import WATCHED, stamp
from tests.factories import make_cycle, make_meeting, make_pairing
from tests.test_reports_measures import backup, world  # noqa: F401  (the hand-counted data sets)


def test_a_committed_write_raises_the_stamp_of_the_tables_it_wrote_by_one():
    pairing = make_pairing(cycle=make_cycle())
    meetings, goals = stamp(["meetings"]), stamp(["goals"])
    make_meeting(pairing)  # adds and commits a held meeting
    assert (stamp(["meetings"]), stamp(["goals"])) == (meetings + 1, goals)


def test_core_statements_and_raw_sql_raise_the_stamp_too():
    pairing = make_pairing(cycle=make_cycle())
    make_meeting(pairing)
    goal = Goal(pairing_id=pairing.id, title="t", outcome="o", measure="m", target="t", project="p",
                due_on=pairing.created_at.date(), created_by_id=pairing.mentee_id)  # fmt: skip
    db.session.add(goal)
    db.session.commit()
    before = stamp(["meetings", "goals"])
    db.session.execute(update(Meeting).where(Meeting.pairing_id == pairing.id).values(reschedules=1))
    db.session.commit()
    db.session.execute(text("UPDATE goals SET status = :status WHERE id = :id"), {"status": "achieved", "id": goal.id})
    db.session.commit()
    assert stamp(["meetings", "goals"]) == before + 2


def test_an_update_or_delete_that_matched_no_row_leaves_the_stamps_as_they_were():
    pairing = make_pairing(cycle=make_cycle())
    make_meeting(pairing)
    before = stamp(["meetings", "goals"])
    # A save refused because the notes moved on, a tick sent twice: conditional writes that change nothing.
    db.session.execute(update(Meeting).where(Meeting.pairing_id == pairing.id, Meeting.reschedules == 99).values(
        reschedules=100))  # fmt: skip
    db.session.execute(text("DELETE FROM goals WHERE id = 0"))
    db.session.commit()
    assert stamp(["meetings", "goals"]) == before
    # With RETURNING the rows are counted only as they are fetched (SQLite), so such a statement always counts.
    goals = stamp(["goals"])
    db.session.execute(text("UPDATE goals SET status = 'achieved' WHERE id = 0 RETURNING id")).all()
    db.session.commit()
    assert stamp(["goals"]) == goals + 1


def test_a_write_that_is_the_transactions_first_statement_is_stamped():
    pairing = make_pairing(cycle=make_cycle())
    before = stamp(["pairings"])
    db.session.commit()  # as a request ends
    pairing.score = 12  # on an object loaded earlier, with nothing read in this transaction
    db.session.commit()
    assert stamp(["pairings"]) == before + 1


def test_a_savepoint_is_stamped_once_with_the_transaction_around_it():
    pairing = make_pairing(cycle=make_cycle())
    before = stamp(["meetings"])
    with db.session.begin_nested():
        db.session.add(Meeting(pairing_id=pairing.id, status="held", starts_at=pairing.created_at, format="video"))
    assert stamp(["meetings"]) == before  # not committed yet: nobody else can see the meeting
    db.session.commit()
    assert stamp(["meetings"]) == before + 1


def test_a_transaction_that_changed_the_reports_data_computes_it_afresh_and_keeps_nothing(world):  # noqa: F811
    now = world["now"]
    cycles = services.report_cycles()
    assert services.cycle_report(now, cycles).tables["meetings"].rows[1][1].value == 12
    db.session.add(Meeting(pairing_id=world["pairings"][2].id, status="held", starts_at=now.created_at, format="video"))
    db.session.flush()  # written, not committed: the stamp does not stand for it yet
    assert services.cycle_report(now, cycles).tables["meetings"].rows[1][1].value == 13
    db.session.rollback()
    assert services.cycle_report(now, cycles).tables["meetings"].rows[1][1].value == 12


def _tables_read_by(compute) -> set[str]:
    statements = []

    def keep(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        compute()
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    sql = "\n".join(statements)
    return {name for name in db.metadata.tables if re.search(rf"\b{name}\b", sql)}


def test_every_table_each_measure_and_the_program_page_read_is_watched(backup):  # noqa: F811
    cycles = services.report_cycles()
    cycle = backup["now"]
    computations = {
        "funnels": lambda: measures.funnels(cycles),
        "meetings": lambda: measures.meetings(cycles),
        "goals": lambda: measures.goals(cycles),
        "satisfaction": lambda: measures.satisfaction(cycles),
        "growth": lambda: measures.growth([cycle]),
        "nudges": lambda: measures.nudges([cycle]),
        "free_text": lambda: measures.free_text(cycle),
    }
    assert computations.keys() == measures.MEASURE_TABLES.keys()
    for name, compute in computations.items():
        read = _tables_read_by(compute)
        assert read, name  # the capture sees the measure's SQL
        assert read <= set(measures.MEASURE_TABLES[name]) | {"cycles"}, name
    assert _tables_read_by(services._compute_program_numbers) <= set(services._KEPT_PROGRAM.tables)
    assert set(measures.REPORT_TABLES) <= WATCHED


def test_every_table_the_mentor_index_reads_is_watched():
    from portal.matches import cohort
    from tests.test_matches import mentee, mentor

    cycle = make_cycle()
    mentor(cycle), mentee(cycle)
    cohort._INDEX_CACHE.clear()
    db.session.refresh(cycle)  # loaded, as the page has it
    read = _tables_read_by(lambda: cohort.mentor_index(cycle))
    assert "profile_answers" in read  # the capture sees every mentor's answers being read
    assert read - {"data_stamps"} <= set(cohort.INDEX_TABLES)
    assert set(cohort.INDEX_TABLES) <= WATCHED


def test_no_unwatched_table_deletes_or_changes_watched_rows_by_cascade():
    # The database changes those rows itself, in no statement the stamps could notice.
    for name in WATCHED:
        for key in db.metadata.tables[name].foreign_keys:
            if key.ondelete and key.ondelete.upper() in ("CASCADE", "SET NULL"):
                assert key.column.table.name in WATCHED, f"{name}.{key.parent.name} follows {key.column.table.name}"


def test_only_watched_tables_are_stamped():
    pairing = make_pairing(cycle=make_cycle())
    goal = Goal(pairing_id=pairing.id, title="t", outcome="o", measure="m", target="t", project="p",
                due_on=pairing.created_at.date(), created_by_id=pairing.mentee_id)  # fmt: skip
    db.session.add(goal)
    db.session.commit()
    names = {row[0] for row in db.session.execute(text("SELECT name FROM data_stamps"))}
    assert "goals" in names and names <= WATCHED
