"""Patients made straight in the database (already consented), for tests about what follows."""

from __future__ import annotations

from bot.core.schedule import plan_infusion
from storage import repository as repo
from storage.models import PatientStatus
from tests.utils.harness import ADMIN_ID, BotUnderTest


def add_active_patients(bot: BotUnderTest, user_ids: list[int], infusion: bool = True) -> None:
    """Active patients MRN<user id>, their chats open in the fake, each with an infusion
    starting now (so that their baseline is due at once) when `infusion` is set."""
    rt, now = bot.runtime, bot.clock.now()
    with rt.session() as session:
        for user_id in user_ids:
            bot.server.add_user(user_id, f"P{user_id}", started=True)
            patient = repo.create_patient(
                session,
                clinic_ref=f"MRN{user_id}",
                display_name=None,
                timezone=rt.settings.clinic_timezone.key,
                enrolled_by=ADMIN_ID,
                now=now,
            )
            patient.telegram_user_id = patient.chat_id = user_id
            patient.status = PatientStatus.ACTIVE
            if infusion:
                planned = plan_infusion(rt.protocol, now, now, rt.settings.clinic_timezone)
                repo.record_infusion(
                    session,
                    patient=patient,
                    started_at=now,
                    recorded_at=now,
                    dose=None,
                    recorded_by=ADMIN_ID,
                    protocol_version=rt.protocol.version,
                    planned=[(p.step_id, p.due_at, p.closes_at, p.remind_at) for p in planned],
                )
