"""Repository functions and migrations on a real database file."""

from datetime import UTC, datetime, timedelta
from threading import Event, Thread

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel, select

from storage import repository as repo
from storage.db import migrate, session_scope
from storage.models import (
    Alert,
    Answer,
    CheckIn,
    CheckInStatus,
    Infusion,
    OutboxMessage,
    PatientStatus,
)

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def new_patient(session, ref="MRN1", user_id=None):
    patient = repo.create_patient(
        session, clinic_ref=ref, display_name=None, timezone="UTC", enrolled_by=1, now=T0
    )
    if user_id is not None:
        patient.telegram_user_id = user_id
        patient.chat_id = user_id
        patient.status = PatientStatus.ACTIVE
    return patient


def new_infusion(session, patient, steps, start=T0):
    planned = [
        (step, start + timedelta(hours=h), start + timedelta(hours=h + 2), None)
        for step, h in steps
    ]
    return repo.record_infusion(
        session,
        patient=patient,
        started_at=start,
        recorded_at=start,
        dose=None,
        recorded_by=1,
        protocol_version="v1",
        planned=planned,
    )


def test_migrations_match_the_models_and_run_twice(engine):
    migrate(engine)  # already at head: a no-op
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_sqlite_has_foreign_keys_and_wal(engine):
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_times_come_back_as_utc(engine):
    with session_scope(engine) as session:
        patient_id = new_patient(session).id
    with session_scope(engine) as session:
        patient = repo.patient_by_ref(session, "MRN1")
        assert patient.id == patient_id
        assert patient.created_at == T0
        assert patient.created_at.tzinfo is not None


def test_big_telegram_ids_fit(engine):
    big = -1001234567890123
    with session_scope(engine) as session:
        new_patient(session, user_id=big)
    with session_scope(engine) as session:
        assert repo.patient_by_telegram_id(session, big).chat_id == big


def test_a_new_invite_retires_earlier_unused_ones(engine):
    with session_scope(engine) as session:
        patient = new_patient(session)
        first = repo.create_invite(
            session,
            token_hash="a" * 64,
            kind="patient",
            created_by=1,
            now=T0,
            expires_at=T0 + timedelta(days=7),
            patient_id=patient.id,
        )
        later = T0 + timedelta(hours=1)
        repo.create_invite(
            session,
            token_hash="b" * 64,
            kind="patient",
            created_by=1,
            now=later,
            expires_at=later + timedelta(days=7),
            patient_id=patient.id,
        )
    with session_scope(engine) as session:
        assert repo.invite_by_hash(session, first.token_hash).expires_at == later


def test_recording_an_infusion_cancels_the_previous_ones_unsent_check_ins(engine):
    with session_scope(engine) as session:
        patient = new_patient(session, user_id=5)
        first, _ = new_infusion(session, patient, [("a", 0), ("b", 4)])
        repo.check_ins_of(session, first.id)[0].status = CheckInStatus.ANSWERED
        second, cancelled = new_infusion(session, patient, [("a", 0)], start=T0 + timedelta(days=1))
        assert cancelled == [None]  # one cancelled, its question never shown
        statuses = [c.status for c in repo.check_ins_of(session, first.id)]
        assert statuses == [CheckInStatus.ANSWERED, CheckInStatus.CANCELLED]
        assert len(session.exec(select(Infusion)).all()) == 2


def test_an_infusion_recorded_while_another_holds_the_patient_waits_for_it(engine):
    """Two /infusion at once: the second waits for the first to commit, then sees it."""
    with session_scope(engine) as session:
        patient_id = new_patient(session, user_id=5).id
    first_locked, first_recorded, second_locked = Event(), Event(), Event()
    failures = []

    def second_records() -> None:
        first_locked.wait()
        try:
            with session_scope(engine) as session:
                repo.lock_patient(session, patient_id)
                second_locked.set()
                first_recorded.wait()
                patient = repo.get_patient(session, patient_id)
                new_infusion(session, patient, [("a", 0)], start=T0 + timedelta(days=1))
        except Exception as exc:  # asserted below, in the test's thread
            failures.append(exc)

    second = Thread(target=second_records)
    second.start()
    with session_scope(engine) as session:
        repo.lock_patient(session, patient_id)
        first_locked.set()
        # Unlocked, the second would now read "no infusion yet" and take number 1 as well;
        # locked, it cannot get this far and these waits run out.
        second_locked.wait(timeout=0.5)
        new_infusion(session, repo.get_patient(session, patient_id), [("a", 0)])
        first_recorded.set()
        second.join(timeout=0.5)
    second.join()
    assert failures == []
    with session_scope(engine) as session:
        infusions = session.exec(select(Infusion).order_by(Infusion.number)).all()
        assert [i.number for i in infusions] == [1, 2]
        unfinished = repo.unfinished_infusion_check_ins(session, patient_id)
        assert {c.infusion_id for c in unfinished} == {infusions[1].id}


def test_due_close_and_remind_queries(engine):
    with session_scope(engine) as session:
        patient = new_patient(session, user_id=5)
        infusion, _ = new_infusion(session, patient, [("a", 0), ("b", 4)])
        first, second = repo.check_ins_of(session, infusion.id)
        assert list(session.exec(repo._due_check_in_ids(T0, 10))) == [first.id]
        assert repo.expired_check_in_ids(session, T0 + timedelta(hours=2), 10) == [first.id]
        assert repo.expired_check_in_ids(session, T0 + timedelta(hours=8), 1) == [first.id]
        claimed = repo.claim_check_in(session, first.id, [CheckInStatus.PENDING], "sent")
        assert claimed is first and first.status == CheckInStatus.SENT
        assert repo.claim_check_in(session, first.id, [CheckInStatus.PENDING], "sent") is None
        first.remind_at = T0 + timedelta(hours=1)
        assert repo.check_ins_to_remind(session, T0 + timedelta(hours=1), 10) == [first]
        assert repo.next_wakeup(session) == T0 + timedelta(hours=1)
        patient.status = PatientStatus.PAUSED
        assert repo.claim_due_check_ins(session, T0 + timedelta(hours=4), 10) == []
        assert second.status == CheckInStatus.PENDING


def test_an_answer_is_corrected_in_place_keeping_what_it_replaced(engine):
    with session_scope(engine) as session:
        patient = new_patient(session, user_id=5)
        infusion, _ = new_infusion(session, patient, [("a", 0)])
        check_in = repo.check_ins_of(session, infusion.id)[0]
        repo.save_answer(session, check_in=check_in, question_id="pain", value=7, now=T0)
        repo.save_answer(session, check_in=check_in, question_id="pain", value=4, now=T0)
        repo.save_answer(session, check_in=check_in, question_id="fx", value={"a": None}, now=T0)
        assert repo.answers_of(session, check_in.id) == {"pain": 4, "fx": {"a": None}}
        row = session.exec(select(Answer).where(Answer.question_id == "pain")).one()
        assert (row.value, row.changed_from) == ("4", "7")


def test_withdrawing_names_a_message_noted_after_the_check_in_was_read(engine):
    with session_scope(engine) as session:
        patient = new_patient(session, user_id=5)
        infusion, _ = new_infusion(session, patient, [("a", 0)])
        check_in = repo.check_ins_of(session, infusion.id)[0]
        check_in.status, check_in.message_outbox_id = CheckInStatus.SENT, 77
    with session_scope(engine) as session:
        stale = repo.check_ins_of(session, infusion.id)[0]  # read before the send is noted
        with session_scope(engine) as sender:
            assert repo.record_question_message(sender, stale.id, 77, message_id=901)
        shown = repo.withdraw_check_ins(session, [stale], CheckInStatus.CANCELLED, "test")
        assert shown == [901]  # its buttons come off
    with session_scope(engine) as session:
        assert repo.check_ins_of(session, infusion.id)[0].message_id is None


def test_replanning_names_a_message_noted_after_the_check_in_was_read(engine):
    later = T0 + timedelta(hours=5)
    with session_scope(engine) as session:
        patient = new_patient(session, user_id=5)
        infusion, _ = new_infusion(session, patient, [("a", 0), ("b", 1)])
        sent, stopped = repo.check_ins_of(session, infusion.id)
        sent.status, sent.message_outbox_id = CheckInStatus.SENT, 77
        stopped.status = CheckInStatus.STOPPED
    with session_scope(engine) as session:
        stale, stopped = repo.check_ins_of(session, infusion.id)  # before the send is noted
        with session_scope(engine) as sender:
            assert repo.record_question_message(sender, stale.id, 77, message_id=901)
        assert repo.replan_check_in(session, stale.id, later, later, None) == (True, 901)
        assert repo.replan_check_in(session, stopped.id, later, later, None) == (True, None)
    with session_scope(engine) as session:
        moved, still_stopped = repo.check_ins_of(session, infusion.id)
        assert (moved.status, moved.message_id, moved.due_at) == ("pending", None, later)
        assert (still_stopped.status, still_stopped.due_at) == ("stopped", later)
        moved.status = CheckInStatus.ANSWERED
        assert repo.replan_check_in(session, moved.id, T0, T0, None) == (False, None)


def test_the_rules_see_the_baseline_and_earlier_answers_in_the_order_they_were_due(engine):
    steps = [("base", 0), ("day_3", 72), ("evening", 6), ("next_day", 24), ("gone", 30)]
    with session_scope(engine) as session:
        patient = new_patient(session, user_id=5)
        infusion, _ = new_infusion(session, patient, [*steps, ("week_1", 168)])
        by_step = {c.step_id: c for c in repo.check_ins_of(session, infusion.id)}
        answered = {"base": 7, "day_3": 3, "evening": 2}  # saved out of due order
        for step, pain in answered.items():
            by_step[step].status = CheckInStatus.ANSWERED
            repo.save_answer(
                session, check_in=by_step[step], question_id="pain", value=pain, now=T0
            )
        repo.save_answer(session, check_in=by_step["evening"], question_id="mood", value=5, now=T0)
        by_step["next_day"].status = CheckInStatus.PARTIAL  # closed with nothing stored
        by_step["gone"].status = CheckInStatus.MISSED
        current = by_step["week_1"]
        assert repo.baseline_answers(session, infusion.id, "base") == {"pain": 7}
        assert repo.earlier_answers(session, current, "base") == [
            {"pain": 2, "mood": 5},
            {},
            {"pain": 3},
        ]
        assert repo.earlier_answers(session, by_step["evening"], "base") == []
        assert repo.baseline_answers(session, infusion.id, "absent") == {}


def test_one_alert_per_rule_and_check_in(engine):
    with session_scope(engine) as session:
        patient = new_patient(session, user_id=5)
        infusion, _ = new_infusion(session, patient, [("a", 0)])
        check_in = repo.check_ins_of(session, infusion.id)[0]
        kwargs = dict(
            patient_id=patient.id,
            check_in_id=check_in.id,
            rule_id="chest_pain",
            severity="emergency",
            description="Chest pain",
            summary="x",
            now=T0,
            escalate_at=T0 + timedelta(minutes=30),
        )
        assert repo.create_alert(session, **kwargs) is not None
        assert repo.create_alert(session, **kwargs) is None
        assert len(session.exec(select(Alert)).all()) == 1
        assert repo.alerts_to_escalate(session, T0 + timedelta(minutes=30), 10)
        alert = session.exec(select(Alert)).one()
        assert repo.acknowledge_alert(session, alert.id, 77, T0) is True
        assert repo.acknowledge_alert(session, alert.id, 88, T0) is False
        assert repo.get_alert(session, alert.id).acknowledged_by == 77
        assert repo.alerts_to_escalate(session, T0 + timedelta(hours=1), 10) == []


def test_missed_in_a_row_counts_back_from_the_latest(engine):
    with session_scope(engine) as session:
        patient = new_patient(session, user_id=5)
        infusion, _ = new_infusion(session, patient, [("a", 0), ("b", 4), ("c", 8), ("d", 12)])
        a, b, c, d = repo.check_ins_of(session, infusion.id)
        a.status, b.status, c.status = (
            CheckInStatus.MISSED,
            CheckInStatus.ANSWERED,
            CheckInStatus.MISSED,
        )
        assert repo.missed_in_a_row(session, patient.id) == 1
        d.status = CheckInStatus.MISSED
        assert repo.missed_in_a_row(session, patient.id) == 2
        assert isinstance(d, CheckIn)


def test_the_outbox_batch_takes_one_message_per_chat_so_a_long_queue_crowds_out_nobody(engine):
    with session_scope(engine) as session:
        for n in range(250):
            repo.enqueue(session, outbox_row(-100500, priority=1, text=f"alert {n}"))
        repo.enqueue(session, outbox_row(1001, priority=4, text="question"))
        repo.enqueue(session, outbox_row(1001, priority=4, text="next question"))
        batch = repo.outbox_due(session, T0, 200)
        assert [(m.chat_id, m.text) for m in batch] == [(-100500, "alert 0"), (1001, "question")]
        assert repo.outbox_due(session, T0 - timedelta(seconds=1), 200) == []


def outbox_row(chat_id, priority, text):
    return OutboxMessage(
        chat_id=chat_id,
        method="send",
        purpose="alert",
        priority=priority,
        text=text,
        created_at=T0,
        next_attempt_at=T0,
    )


def test_a_message_waiting_for_its_retry_holds_back_its_chat_only(engine):
    with session_scope(engine) as session:
        first = repo.enqueue(session, outbox_row(1001, priority=0, text="call 112 now"))
        repo.enqueue(session, outbox_row(1001, priority=2, text="next question"))
        repo.enqueue(session, outbox_row(1002, priority=2, text="other patient"))
        first.next_attempt_at = T0 + timedelta(seconds=4)
        assert [m.text for m in repo.outbox_due(session, T0, 200)] == ["other patient"]
        later = repo.outbox_due(session, T0 + timedelta(seconds=4), 200)
        assert [m.text for m in later] == ["call 112 now", "other patient"]
