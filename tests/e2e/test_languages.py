"""Patients read everything in their language (English or Spanish); staff read English.

The coordinator can set a patient's language at enrolment (`lang=es`), the patient changes it
with /language, and a change shows in the very next message, the open question included.
"""

from __future__ import annotations

import json

from bot.menus import PATIENT_COMMANDS
from storage.models import Answer, AuditEvent, Patient
from tests.utils.environment import clean_environment
from tests.utils.harness import ADMIN_ID
from tests.utils.invites import invite_token
from tests.utils.patients import add_active_patients
from tests.utils.protocols import approved_protocol
from tests.utils.subprocess_bot import run_python_m_bot

PATIENT, OTHER = 1001, 1002
SPANISH_FOOTER = "¿Se encuentra muy mal? Llame ahora a emergencias"


async def enrol(server, command: str, language_code: str = "en"):
    """A coordinator's /enroll, then the patient opens the link; returns the consent message."""
    token = await invite_token(server, command)
    patient = server.add_user(PATIENT, "Lucía", language_code=language_code)
    patient.send_text(f"/start {token}")
    return patient, await server.next_message(PATIENT, contains="?")


async def tap(server, patient, contains: str, button: str):
    """Wait for the message containing `contains` and tap `button` under it ("Ninguna de
    estas" is a checklist's box, then Listo)."""
    message = await server.next_message(PATIENT, contains=contains)
    if button == "Ninguna de estas":
        patient.press(message, button_text="☐ Ninguna de estas")
        patient.press(message, button_text="Listo")
    else:
        patient.press(message, button_text=button)
    return message


async def send(server, patient):
    """Wait for the check-in's summary in Spanish, tap Enviar; returns the summary."""
    summary = await server.next_message(PATIENT, contains="· sus respuestas")
    patient.press(summary, button_text="✅ Enviar")
    return summary


def stored(bot, question_id: str):
    [answer] = bot.all(Answer, Answer.question_id == question_id)
    return json.loads(answer.value)


async def test_a_spanish_patients_follow_up_is_in_spanish_and_staff_read_english(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    # The coordinator's choice wins over the patient's Telegram app, set to English here.
    lucia, consent = await enrol(server, "/enroll MRN500 Lucía Pérez lang=es")
    assert consent.text.startswith("Hola, soy el asistente de seguimiento de su clínica.")
    assert "¿Acepta recibir estos cuestionarios" in consent.text
    assert "llame ahora al 112" in consent.text and SPANISH_FOOTER in consent.text
    lucia.press(consent, button_text="Acepto")
    await server.next_message(PATIENT, contains="Gracias, ya está todo listo")
    await server.next_message(ADMIN_ID, contains="MRN500 has joined")
    menu = server.commands({"type": "chat", "chat_id": PATIENT})
    assert dict((c["command"], c["description"]) for c in menu)["language"] == "Elegir el idioma"

    server.user(ADMIN_ID).send_text("/infusion MRN500")
    await server.next_message(ADMIN_ID, contains="Infusion recorded for MRN500")
    first = await tap(server, lucia, "Antes de su infusión · pregunta 1 de 5", "6")
    assert "¿Cuánto dolor tiene ahora mismo?" in first.text
    await server.wait_for(
        lambda: "✓ Su respuesta: 6" in server.message(PATIENT, first.message_id).text
    )
    await tap(server, lucia, "de media en las últimas 24 horas", "6")
    await tap(server, lucia, "la calidad de mi sueño fue", "Regular")
    await tap(server, lucia, "estado de ánimo", "5")
    checklist = await tap(server, lucia, "Piel amarilla, orina oscura", "Ninguna de estas")
    summary = await send(server, lucia)
    assert (
        "• Dolor ahora: 6/10" in summary.text
        and "• Orina e hígado: Ninguna de estas" in summary.text
    )
    assert "Pulse Enviar para terminar" in summary.text
    assert "pulse Listo" in checklist.text
    thanks = await server.next_message(PATIENT, contains="Gracias, sus respuestas se han guardado")
    assert "Su próximo cuestionario será el martes 24 de noviembre a las 14:00." in thanks.text
    assert thanks.text.endswith(SPANISH_FOOTER + "; no espere a este chat.")
    assert stored(bot, "sleep") == "3" and stored(bot, "urine_liver") == {}  # values, not labels

    bot.clock.advance(hours=4)
    await bot.dispatch()
    await tap(server, lucia, "Cuestionario de la tarde · pregunta 1 de", "3")
    await tap(server, lucia, "¿Tiene ahora alguno de estos síntomas?", "☐ Dolor en el pecho")
    emergency = await server.next_message(PATIENT, contains="Llame ahora al 112")
    assert "También se ha avisado al equipo de la clínica." in emergency.text
    alert = await server.next_message(ADMIN_ID, contains="EMERGENCY")
    assert "Rule: Chest pain" in alert.text and "Side effects: Chest pain" in alert.text

    # Her own words reach staff as written; English risk phrases count for her too.
    lucia.send_text("Me duelen las rodillas")
    await server.next_message(PATIENT, contains="Su mensaje ha llegado al equipo de la clínica")
    relayed = await server.next_message(ADMIN_ID, contains="Me duelen las rodillas")
    assert "Message from the patient" in relayed.text
    lucia.send_text("some days I want to die")
    crisis = await server.next_message(PATIENT, contains="quédese con una persona de confianza")
    assert "llame al 024" in crisis.text
    alert = await server.next_message(ADMIN_ID, contains="some days I want to die")
    assert "EMERGENCY" in alert.text and "suicide or self-harm" in alert.text
    assert not any("Call 112 now" in text for text in server.sent_to(PATIENT))

    lucia.send_text("/mydata")
    mine = await server.next_message(PATIENT, contains="Qué datos suyos tiene la clínica")
    assert "Infusión 1, Antes de su infusión (martes 24 de noviembre a las 10:00):" in mine.text
    assert "  Dolor ahora: 6/10" in mine.text and "  Orina e hígado: Ninguna de estas" in mine.text
    assert "  martes 24 de noviembre a las 14:00 · emergencia" in mine.text


async def test_without_lang_the_telegram_app_language_is_the_guess_at_consent(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    lucia, consent = await enrol(server, "/enroll MRN501", language_code="es-419")
    assert "Do you agree" in consent.text  # the invite had no language: English
    lucia.press(consent, button_text="I agree")
    await server.next_message(PATIENT, contains="Gracias, ya está todo listo")
    [patient] = bot.all(Patient)
    assert patient.language == "es"


async def test_language_mid_check_in_changes_the_next_question_not_staff_alerts(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    patient = server.user(PATIENT)
    await tap(server, patient, "How bad is your pain right now", "7")
    english = await server.next_message(PATIENT, contains="Average pain over the last 24 hours")

    patient.send_text("/language")
    choice = await server.next_message(PATIENT, contains="Which language")
    patient.press(choice, button_text="Español")
    again = await server.next_message(PATIENT, contains="A partir de ahora le escribiré en español")
    assert "¿Cuánto dolor ha tenido de media en las últimas 24 horas?" in again.text
    assert "Antes de su infusión · pregunta 2 de 5" in again.text
    await server.wait_for(lambda: not server.message(PATIENT, english.message_id).reply_markup)
    menu = server.commands({"type": "chat", "chat_id": PATIENT})
    assert [c["command"] for c in menu] == list(PATIENT_COMMANDS)
    assert menu[1]["description"] == "Avisar ahora a la clínica de un problema"

    patient.press(again, button_text="7")
    await tap(server, patient, "la calidad de mi sueño fue", "Mala")
    await tap(server, patient, "estado de ánimo", "4")
    await tap(server, patient, "Piel amarilla, orina oscura", "Ninguna de estas")
    await send(server, patient)
    await server.next_message(PATIENT, contains="Gracias, sus respuestas se han guardado")
    bot.clock.advance(hours=4)
    await bot.dispatch()
    await tap(server, patient, "Cuestionario de la tarde · pregunta 1 de", "9")
    await server.next_message(PATIENT, contains="El equipo de la clínica se pondrá en contacto")
    alert = await server.next_message(ADMIN_ID, contains="URGENT")
    assert "Rule: Pain 9-10 after the infusion" in alert.text
    assert "Pain now: 9" in alert.text and "Check-in: Evening check-in" in alert.text
    assert stored(bot, "sleep") == "2"

    patient.send_text("/language EN")
    await server.next_message(PATIENT, contains="From now on I will write to you in English")
    assert [e.detail for e in bot.all(AuditEvent, AuditEvent.action == "language")] == ["es", "en"]


async def test_bad_input_to_language_changes_nothing(bot, fake_bot_api):
    server = fake_bot_api
    add_active_patients(bot, [PATIENT], infusion=False)
    patient = server.user(PATIENT)
    for command in ("/language klingon", "/language es en", "/language ../es"):
        patient.send_text(command)
        unknown = await server.next_message(PATIENT, contains="I don't know that language")
        assert [label for label, _ in unknown.buttons] == ["English", "Español"]
    stranger = server.add_user(5555, "Stranger")
    stranger.send_text("/language es")
    await server.next_message(5555, contains="This bot is for patients of the clinic")
    assert len(server.sent_to(5555)) == 1
    assert [p.language for p in bot.all(Patient)] == [None]
    assert not bot.all(AuditEvent, AuditEvent.action == "language")
    assert not server.commands({"type": "chat", "chat_id": PATIENT})
    assert all(text.startswith("I don't know") for text in server.sent_to(PATIENT))


async def test_enroll_lang_must_be_a_protocol_language(bot, fake_bot_api):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    admin.send_text("/enroll MRN9 Ana lang=fr")
    refused = await server.next_message(ADMIN_ID, contains="'fr' is not a language")
    assert "Usage: /enroll" in refused.text
    admin.send_text("/enroll MRN9 Ana language=es")
    await server.next_message(ADMIN_ID, contains="language= is not an option here")
    assert not bot.all(Patient)
    admin.send_text("/enroll MRN9 Ana María lang=ES")
    await server.next_message(ADMIN_ID, contains="Enrolled MRN9")
    [patient] = bot.all(Patient)
    assert (patient.display_name, patient.language) == ("Ana María", "es")


def test_a_protocol_missing_one_spanish_text_does_not_start(tmp_path):
    broken = tmp_path / "protocol.toml"
    spanish = 'text.es = "¿Ha pensado en cómo podría hacerlo?"\n'
    text = approved_protocol(tmp_path).read_text(encoding="utf-8")
    assert spanish in text
    broken.write_text(text.replace(spanish, ""), encoding="utf-8")
    result = run_python_m_bot(tmp_path, clean_environment(PROTOCOL_FILE=str(broken)), "check")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {broken}: questions.safety_3.text.es: is missing: every patient-facing text"
        " needs en, es"
    ]


async def test_next_timezone_and_stop_answer_in_the_patients_language(bot, fake_bot_api):
    server = fake_bot_api
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    patient = server.user(PATIENT)
    await server.next_message(PATIENT, contains="How bad is your pain right now")
    patient.send_text("/language es")
    await server.next_message(PATIENT, contains="¿Cuánto dolor tiene ahora mismo?")
    patient.send_text("/next")
    shown = await server.next_message(PATIENT, contains="Sigue abierto: Antes de su infusión.")
    assert "el siguiente será el martes 24 de noviembre a las 14:00" in shown.text
    patient.send_text("/timezone Atlantis")
    await server.next_message(PATIENT, contains="No encuentro una zona horaria para «Atlantis»")
    patient.send_text("/timezone Madrid")
    changed = await server.next_message(PATIENT, contains="Hecho: ahora uso con usted la hora")
    assert "Su próximo cuestionario será el martes 24 de noviembre a las 15:00." in changed.text
    patient.send_text("/stop")
    question = await server.next_message(
        PATIENT, contains="¿Quiere dejar de recibir los cuestionarios?"
    )
    assert [label for label, _ in question.buttons] == ["Sí, dejarlos", "No, seguir"]
    patient.press(question, button_text="No, seguir")
    kept = "De acuerdo: sus cuestionarios siguen como hasta ahora."
    await server.wait_for(lambda: server.message(PATIENT, question.message_id).text == kept)
