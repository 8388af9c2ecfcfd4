"""Change stamps: every committed write to a watched table raises its stamp, whatever wrote it."""

from __future__ import annotations

import re
import time

from sqlalchemy import event, select, text, update

from portal import queue, stamps
from portal.extensions import db
from portal.models import Goal, Meeting, Pairing
from portal.reports import measures, services
from portal.stamps import KEPT_SECONDS, WATCHED, Kept, forget_all, forget_here, make_store, stamp
from tests.conftest import count_queries, login_as, post
from tests.factories import make_cycle, make_director, make_meeting, make_pairing
from tests.test_reports_measures import backup, world  # noqa: F401  (the hand-counted data sets)


def test_a_committed_write_raises_the_stamp_of_the_tables_it_wrote_by_one():
    pairing = make_pairing(cycle=make_cycle())
    activity, goals = stamp(["pairing_activity"]), stamp(["goals"])
    make_meeting(pairing)  # adds and commits a held meeting, which counts it in the pair's activity row
    assert (stamp(["pairing_activity"]), stamp(["goals"])) == (activity + 1, goals)


def test_core_statements_and_raw_sql_raise_the_stamp_too():
    pairing = make_pairing(cycle=make_cycle())
    make_meeting(pairing)
    goal = Goal(pairing_id=pairing.id, title="t", outcome="o", measure="m", target="t", project="p",
                due_on=pairing.created_at.date(), created_by_id=pairing.mentee_id)  # fmt: skip
    db.session.add(goal)
    db.session.commit()
    before = stamp(["pairings", "goals"])
    db.session.execute(update(Pairing).where(Pairing.id == pairing.id).values(score=12))
    db.session.commit()
    db.session.execute(text("UPDATE goals SET status = :status WHERE id = :id"), {"status": "achieved", "id": goal.id})
    db.session.commit()
    assert stamp(["pairings", "goals"]) == before + 2


def test_an_update_or_delete_that_matched_no_row_leaves_the_stamps_as_they_were():
    pairing = make_pairing(cycle=make_cycle())
    make_meeting(pairing)
    before = stamp(["pairings", "goals"])
    # A save refused because the row moved on, a tick sent twice: conditional writes that change nothing.
    db.session.execute(update(Pairing).where(Pairing.id == pairing.id, Pairing.score == 999).values(score=1000))
    db.session.execute(text("DELETE FROM goals WHERE id = 0"))
    db.session.commit()
    assert stamp(["pairings", "goals"]) == before
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
    before = stamp(["pairing_activity"])
    with db.session.begin_nested():
        db.session.add(Meeting(pairing_id=pairing.id, status="held", starts_at=pairing.created_at, format="video"))
    assert stamp(["pairing_activity"]) == before  # not committed yet: nobody else can see the meeting
    db.session.commit()
    assert stamp(["pairing_activity"]) == before + 1


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
        "funnel_enrolment": lambda: measures.funnel_enrolment(cycles),
        "funnel_matched": lambda: measures.funnel_matched(cycles),
        "funnel_goals": lambda: measures.funnel_goals(cycles),
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
    forget_all()
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


# -- kept for every process --------------------------------------------------------------------------------


def _meetings_held(cycle) -> int:
    return services.cycle_report(cycle, services.report_cycles()).tables["meetings"].rows[1][1].value


def test_a_restarted_process_finds_the_report_counted_by_another_and_counts_nothing(world):  # noqa: F811
    assert _meetings_held(world["now"]) == 12
    forget_here()  # as a restart, or another worker: this process keeps nothing
    with count_queries() as counted:
        assert _meetings_held(world["now"]) == 12
    assert counted[0] == 2  # the cycles and the stamps: no measure was counted


def test_saving_a_meetings_notes_leaves_the_report_kept(world):  # noqa: F811
    from portal.journals.services import save_notes
    from portal.models import User

    assert _meetings_held(world["now"]) == 12
    meeting = db.session.scalar(select(Meeting).where(Meeting.pairing_id.in_([p.id for p in world["pairings"]])))
    author = db.session.get(User, db.session.get(Pairing, meeting.pairing_id).mentor_id)
    save_notes(meeting, author, body="We talked about the vendor call.", base_version=meeting.notes_version)
    db.session.commit()
    with count_queries() as counted:
        assert _meetings_held(world["now"]) == 12
    assert counted[0] == 2  # the cycles and the stamps: nothing counted again


def test_a_figure_shared_by_the_processes_is_counted_again_once_its_tables_change(world):  # noqa: F811
    assert _meetings_held(world["now"]) == 12
    make_meeting(world["pairings"][2])  # committed: the meetings' stamp rises
    forget_here()
    assert _meetings_held(world["now"]) == 13


def test_a_shared_figure_older_than_kept_seconds_is_counted_again(world, monkeypatch):  # noqa: F811
    assert _meetings_held(world["now"]) == 12
    forget_here()
    later = time.time() + KEPT_SECONDS + 1
    monkeypatch.setattr(stamps.time, "time", lambda: later)
    with count_queries() as counted:
        assert _meetings_held(world["now"]) == 12
    assert counted[0] > 2


def test_a_figure_kept_by_another_release_of_the_code_is_not_read(world, monkeypatch):  # noqa: F811
    assert _meetings_held(world["now"]) == 12
    forget_here()
    monkeypatch.setattr(stamps, "_code_digest", lambda: "another release")
    with count_queries() as counted:
        assert _meetings_held(world["now"]) == 12
    assert counted[0] > 2


def test_the_recount_job_counts_the_report_afresh_for_every_process_even_while_it_is_kept(world):  # noqa: F811
    assert _meetings_held(world["now"]) == 12
    # A write the stamps do not see (as from psql): kept figures stay as they were until they are counted again.
    db.session.add(Meeting(pairing_id=world["pairings"][2].id, status="held", starts_at=world["now"].created_at,
                           format="video"))  # fmt: skip
    db.session.flush()
    Kept.tables_written_here(db.session.connection()).clear()
    db.session.commit()
    assert _meetings_held(world["now"]) == 12
    assert queue.recount_kept.call_local() == (1, 1)
    assert _meetings_held(world["now"]) == 13  # the job's count, kept here
    forget_here()
    with count_queries() as counted:
        assert _meetings_held(world["now"]) == 13  # and for the other processes
    assert counted[0] == 2


def test_a_cycle_created_or_changed_is_counted_again_by_the_queue_before_the_director_asks(client, world):  # noqa: F811
    from tests.test_programs import cycle_form

    assert _meetings_held(world["now"]) == 12
    login_as(client, make_director())
    assert post(client, "/programs/new", cycle_form(name="Autumn")).status_code == 303  # every figure reads cycles
    forget_here()
    with count_queries() as counted:
        assert _meetings_held(world["now"]) == 12
    assert counted[0] == 2  # the queue counted it when the change committed


def test_the_recount_job_has_nothing_to_count_before_a_cycle_starts():
    assert queue.recount_kept.call_local() == (0, 0)


def test_the_report_is_counted_on_the_page_when_the_shared_store_cannot_be_reached(client, world, app):  # noqa: F811
    login_as(client, make_director())
    kept = app.extensions["kept_store"]
    app.extensions["kept_store"] = make_store("redis://127.0.0.1:1/0", app.instance_path)  # nothing listens there
    try:
        page = client.get("/reports/")
    finally:
        app.extensions["kept_store"] = kept
    assert page.status_code == 200
    assert '<h2 id="report-title">Now</h2>' in page.get_data(as_text=True)


def test_processes_sharing_the_instance_folder_share_the_report(world, app, tmp_path):  # noqa: F811
    kept = app.extensions["kept_store"]
    app.extensions["kept_store"] = make_store("", str(tmp_path))
    try:
        assert _meetings_held(world["now"]) == 12
        app.extensions["kept_store"] = make_store("", str(tmp_path))  # another process opens the same folder
        forget_here()
        with count_queries() as counted:
            assert _meetings_held(world["now"]) == 12
    finally:
        app.extensions["kept_store"] = kept
    assert counted[0] == 2


def test_each_cycles_report_reads_the_measures_that_another_cycles_report_counted_for_every_cycle(world):  # noqa: F811
    cycles = services.report_cycles()
    services.cycle_report(world["now"], cycles)  # counts every measure of every cycle
    with count_queries() as other:
        services.cycle_report(world["earlier"], cycles)
    # The stamps, then the earlier cycle's skill growth, nudges and free text: what is counted for one cycle.
    assert other[0] == 4
