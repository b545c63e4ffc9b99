"""The dispatcher's claim, the inbox and the sender's queries, on a real database (SQLite, or
PostgreSQL with TEST_DATABASE_URL), and the query plans that keep them independent of the
number of patients on SQLite."""

from datetime import timedelta

from sqlalchemy import event
from sqlmodel import col, select

from storage import repository as repo
from storage.db import session_scope
from storage.models import (
    OPEN_CHECK_IN,
    OUTBOX_PENDING_HEAD_INDEX,
    UNFINISHED_CHECK_IN,
    CheckIn,
    CheckInStatus,
    InboxUpdate,
    PatientStatus,
)
from tests.storage.test_repository import T0, new_infusion, new_patient, outbox_row


def add_patient_with_check_ins(session, user_id, due_hours):
    patient = new_patient(session, ref=f"MRN{user_id}", user_id=user_id)
    new_infusion(session, patient, [(f"s{h}", h) for h in due_hours])
    return patient


def test_the_claim_takes_due_pending_check_ins_of_active_patients_once(engine):
    with session_scope(engine) as session:
        first = add_patient_with_check_ins(session, 5, [-1, 0, 3])
        paused = add_patient_with_check_ins(session, 6, [0])
        paused.status = PatientStatus.PAUSED
        add_patient_with_check_ins(session, 7, [-3])  # its window closed an hour ago
    with session_scope(engine) as session:
        claimed = repo.claim_due_check_ins(session, T0, 10)
        assert [(c.patient_id, c.step_id) for c in claimed] == [(first.id, "s-1"), (first.id, "s0")]
        assert {c.status for c in claimed} == {CheckInStatus.SENT}
        assert {c.sent_at for c in claimed} == {T0}
    with session_scope(engine) as session:
        assert repo.claim_due_check_ins(session, T0, 10) == []
        assert [
            c.step_id for c in repo.claim_due_check_ins(session, T0 + timedelta(hours=3), 1)
        ] == ["s3"]


def test_updates_are_stored_once_and_marked_handled(engine):
    with session_scope(engine) as session:
        rows = [(1, 10, '{"update_id": 1}', None), (2, 10, '{"update_id": 2}', "throttled")]
        assert repo.store_updates(session, rows, T0) == [1, 2]
    with session_scope(engine) as session:
        again = [(2, 10, "{}", None), (3, None, '{"update_id": 3}', None)]
        assert repo.store_updates(session, again, T0) == [3]
        assert [u.update_id for u in repo.unhandled_updates(session)] == [1, 3]
        repo.mark_handled(session, 1, T0, "handled")
    with session_scope(engine) as session:
        stored = {u.update_id: u for u in session.exec(select(InboxUpdate))}
        assert [u.update_id for u in repo.unhandled_updates(session)] == [3]
        assert (stored[1].outcome, stored[1].handled_at) == ("handled", T0)
        assert (stored[2].outcome, stored[2].handled_at) == ("throttled", T0)
        assert stored[2].payload == '{"update_id": 2}'


def test_a_chats_head_is_its_most_urgent_then_oldest_pending_message(engine):
    with session_scope(engine) as session:
        for priority, words in ((4, "question"), (0, "call 112"), (0, "then this")):
            repo.enqueue(session, outbox_row(1001, priority, words))
        repo.enqueue(session, outbox_row(1002, 2, "someone else"))
        assert repo.outbox_head(session, 1001).text == "call 112"
        repo.outbox_head(session, 1001).status = "sent"
        assert repo.outbox_head(session, 1001).text == "then this"
        assert repo.outbox_head(session, 1003) is None


def test_sqlite_claims_by_id_and_walks_the_partial_indexes(engine):
    if engine.dialect.name != "sqlite":
        return
    now = T0 + timedelta(hours=1)
    statements = {
        "ix_checkin_pending_due": repo._due_check_in_ids(now, 10),
        "ix_checkin_unfinished_closes": select(CheckIn.id).where(
            repo._status_is(*UNFINISHED_CHECK_IN), CheckIn.closes_at <= now
        ),
        "ix_checkin_open_remind": select(CheckIn.id).where(
            repo._status_is(*OPEN_CHECK_IN), col(CheckIn.reminded_at).is_(None)
        ),
    }
    claim = "UPDATE checkin SET status = 'sent' WHERE id IN (1, 2) AND status = ?"
    with engine.connect() as connection:
        for index, statement in statements.items():
            compiled = statement.compile(engine, compile_kwargs={"render_postcompile": True})
            sql, args = str(compiled), tuple(compiled.params[p] for p in compiled.positiontup)
            assert index in plan(connection, sql, args), index
        assert "INTEGER PRIMARY KEY" in plan(connection, claim, ("pending",))


def test_sqlite_finds_a_chats_next_message_among_pending_rows_only(engine):
    if engine.dialect.name != "sqlite":
        return
    ran = []  # the SQL as the sender's look-up sends it, parameters bound as they are

    def note(_connection, _cursor, statement, parameters, _context, _many):
        ran.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", note)
    try:
        with session_scope(engine) as session:
            repo.outbox_head(session, 1001)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    with engine.connect() as connection:
        steps = plan(connection, *ran[-1])
    assert OUTBOX_PENDING_HEAD_INDEX in steps
    assert "TEMP B-TREE" not in steps  # no sort: the index is already in sending order


def plan(connection, sql, args):
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", args)
    return " ".join(row[3] for row in rows)
