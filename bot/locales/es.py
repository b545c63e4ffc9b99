"""What patients read from the bot itself, in Spanish (usted); the keys of bot.locales.en."""

TEXTS: dict[str, str] = {
    "language_name": "Español",
    # Fechas en el reloj del paciente: "jueves 26 de noviembre a las 14:00"
    "weekdays": "lunes martes miércoles jueves viernes sábado domingo",
    "months": (
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
    ),
    "date_time": "{weekday} {day} de {month} a las {time}",
    "stranger": (
        "Hola. Este bot es para pacientes de la clínica. "
        "Si usted es paciente, pida a su clínica un enlace de invitación.\n"
        "Si trabaja en la clínica, facilite este número para que le den acceso: {user_id}"
    ),
    "staff_only": "Esa orden es solo para el personal de la clínica.",
    "not_active": (
        "Su seguimiento no está activo en este momento. Póngase en contacto con su clínica."
    ),
    "edits_ignored": "No leo los mensajes editados. Envíe su respuesta en un mensaje nuevo.",
    "unknown_command": "No conozco esa orden. Con /help verá lo que puede hacer.",
    "not_understood": (
        "Aquí no puedo leer eso. Use los botones que hay debajo de la pregunta, "
        "o envíe /report si algo va mal."
    ),
    "nothing_open": (
        "Está inscrito en la clínica y ahora mismo no tiene ningún cuestionario pendiente. "
        "Con /next verá cuándo es el siguiente, y /report está ahí si algo va mal."
    ),
    "continue_check_in": "Para seguir con su cuestionario, responda a la pregunta de abajo:",
    "slow_down": (
        "Está enviando mensajes muy rápido, así que durante un momento no responderé a cada uno. "
        "Todo lo que envíe se guarda. Si se encuentra muy mal, llame ahora a emergencias."
    ),
    "help": (
        "Después de cada infusión le haré unas preguntas. Responda con los botones que hay"
        " debajo de cada pregunta.\n"
        "/next - qué tiene pendiente ahora y cuándo es su próximo cuestionario\n"
        "/report - avisar ahora a la clínica de un problema\n"
        "/timezone - la zona horaria que uso con usted (dígamelo si viaja)\n"
        "/mydata - qué datos suyos tiene la clínica\n"
        "/stop - dejar los cuestionarios (envíe /start para volver a empezar)\n"
        "/language - elegir el idioma\n"
        "/help - este mensaje"
    ),
    "menu_next": "Qué tengo pendiente y mi próximo cuestionario",
    "menu_report": "Avisar ahora a la clínica de un problema",
    "menu_timezone": "La zona horaria de mis cuestionarios",
    "menu_mydata": "Qué datos míos tiene la clínica",
    "menu_stop": "Dejar los cuestionarios (/start los reanuda)",
    "menu_language": "Elegir el idioma",
    "menu_help": "Qué puedo hacer",
    # Invitaciones y consentimiento
    "invite_unknown": "Este enlace de invitación no es válido. Pida uno nuevo a su clínica.",
    "invite_used": "Este enlace de invitación ya se ha usado. Pida uno nuevo a su clínica.",
    "invite_expired": "Este enlace de invitación ha caducado. Pida uno nuevo a su clínica.",
    "already_linked": "Usted ya está inscrito en la clínica; no tiene que hacer nada más.",
    "consent_yes": "Acepto",
    "consent_no": "No, gracias",
    "consent_declined": (
        "De acuerdo: no queda inscrito y no le enviaré nada. "
        "Si cambia de opinión, abra de nuevo el enlace de invitación."
    ),
    "consent_stale": "Esta invitación ya no está abierta.",
    "consent_given": (
        "Gracias, ya está todo listo. "
        "Su clínica registrará aquí su infusión y después le haré unas preguntas."
    ),
    # Cuestionarios
    "question": "{title} · pregunta {position} de {total}\n\n{question}",
    "severity_question": "{item}: ¿qué intensidad tiene?",
    "answered": "{question}\n\n✓ Su respuesta: {answer}",
    "yes": "Sí",
    "no": "No",
    "nothing_ticked": "ninguno",
    "back_button": "↩ Cambiar la última respuesta",
    "skip_button": "Nada que añadir",
    "skip_question_button": "Saltar esta pregunta",
    "skipped": "(nada añadido)",
    "skipped_answer": "(sin responder)",
    "done": "Listo",
    "done_ticked": "Listo (marcadas: {count})",
    "none_of_these": "Ninguna de estas",
    "tick_something": "Marque lo que corresponda, o «Ninguna de estas», y después pulse Listo.",
    # El resumen al final de un cuestionario
    "summary": (
        "{title} · sus respuestas\n\n{answers}\n\n"
        "Sus respuestas están guardadas. Pulse Enviar para terminar, o pulse una para cambiarla."
    ),
    "send_button": "✅ Enviar",
    "change_button": "Cambiar: {label}",
    "changing": "✏️ Cambiando su respuesta: {label}",
    "sent": "{summary}\n\n✓ Enviado",
    "summary_closed": "Estas respuestas ya se enviaron, o el cuestionario se ha cerrado.",
    "summary_out_of_date": "Estos botones ya no están al día: use el mensaje más reciente.",
    "continue_summary": "Su cuestionario está esperando a que lo envíe:",
    "stale_button": "Esta pregunta está cerrada o ya se respondió.",
    "foreign_button": "Este botón no es para usted.",
    "answer_saved": "Guardado.",
    "going_back": "↩ Volvemos a la pregunta anterior.",
    "text_too_long": "La respuesta es demasiado larga; no pase de {limit} caracteres.",
    "expecting_text": "Escriba su respuesta en un mensaje.",
    "reminder": "Recordatorio: «{title}» está pendiente. Solo le llevará un minuto.",
    "thanks": "Gracias, sus respuestas se han guardado. {next}",
    "next_planned": "Su próximo cuestionario será el {when}.",
    "none_planned": "Por ahora no hay más cuestionarios previstos.",
    # /next
    "nothing_open_next": "Ahora mismo no tiene nada pendiente. {next}",
    "nothing_open_none_planned": (
        "Ahora mismo no tiene nada pendiente y no hay más cuestionarios previstos. "
        "Si algo va mal, envíe /report y le haré unas preguntas."
    ),
    "still_open": "Sigue abierto: {title}. {after}Continúe donde lo dejó:",
    "after_it": "Después, el siguiente será el {when}. ",
    # /timezone
    "zone_offer": (
        "Uso con usted la hora de {place} ({zone}): allí es {now}. "
        "Los cuestionarios siguen este reloj{keep_quiet}.\n\n"
        "¿Está en otro lugar? Pulse su lugar abajo, o escriba /timezone y su ciudad, "
        "por ejemplo /timezone Buenos Aires."
    ),
    "keep_quiet": ", y no le escribo de {start} a {end}",
    "zone_changed": (
        "Hecho: ahora uso con usted la hora de {place} ({zone}). Allí es {now}. {next}"
    ),
    "zone_ambiguous": (
        "«{typed}» corresponde a más de un lugar. Envíe uno de estos:\n{listed}\n"
        "No se ha cambiado nada."
    ),
    "zone_not_found": (
        "No encuentro una zona horaria para «{typed}». Escriba /timezone y una ciudad grande "
        "cercana, por ejemplo /timezone Madrid, o el nombre de una zona como "
        "/timezone Europe/Madrid. No se ha cambiado nada."
    ),
    "zone_stale": "Estos lugares ya no se ofrecen. Envíe /timezone de nuevo.",
    # Pausa, reanudación, alta (decididas por la clínica)
    "until": " hasta el {when}",
    "paused": (
        "Su clínica ha pausado sus cuestionarios{until}. Si algo va mal, puede seguir"
        " escribiendo aquí al equipo de la clínica."
    ),
    "resumed": "Sus cuestionarios se han reanudado. Gracias.",
    "discharged": (
        "Su seguimiento con {clinic} ha terminado, así que no le enviaré más cuestionarios."
        " Gracias por responderlos. Si tiene algún problema, póngase en contacto directamente"
        " con la clínica."
    ),
    # /mydata
    "mydata_heading": "Qué datos suyos tiene la clínica",
    "mydata_page": " · página {page} de {pages}",
    "mydata_reference": "Su referencia: {ref}",
    "mydata_name": "Su nombre aquí: {name}",
    "mydata_zone": "Las horas que siguen están en su zona horaria ({zone}).",
    "mydata_consent": "Consentimiento: lo dio el {when}{version}",
    "mydata_consent_version": " (versión {version} del texto de consentimiento)",
    "mydata_consent_missing": "Consentimiento: no registrado",
    "mydata_infusions": "Sus infusiones: {count}",
    "mydata_no_infusions": "Sus infusiones: ninguna todavía",
    "mydata_infusion": "Infusión {number}: {when}{dose}",
    "mydata_dose": ", dosis {dose}",
    "mydata_infusion_step": "Infusión {number}, {title}",
    "mydata_check_in": "{title} ({when}):",
    "mydata_no_answers": "Sus respuestas: ninguna todavía",
    "mydata_alerts_heading": "Avisos generados sobre usted (el equipo de la clínica los vio):",
    "mydata_no_alerts": "Avisos generados sobre usted: ninguno",
    "mydata_foreign_page": "Estas páginas son de otra persona.",
    "mydata_stale_page": (
        "Sus datos han cambiado desde que se hizo esta página. Envíe /mydata para verlos de nuevo."
    ),
    "severity_emergency": "emergencia",
    "severity_urgent": "urgente",
    "severity_review": "revisión",
    # /stop y /start de nuevo; la clínica pausa, termina, mueve o cancela
    "stop_question": (
        "¿Quiere dejar de recibir los cuestionarios? No le enviaré más preguntas. "
        "Puede volver cuando quiera enviando /start."
    ),
    "stop_yes": "Sí, dejarlos",
    "stop_no": "No, seguir",
    "stop_kept": "De acuerdo: sus cuestionarios siguen como hasta ahora.",
    "stop_done": "Detenidos.",
    "stopped": (
        "Sus cuestionarios se han detenido; no le enviaré más preguntas. Si quiere volver a "
        "empezar, envíe /start. Puede seguir escribiendo aquí al equipo de la clínica."
    ),
    "already_stopped": "Sus cuestionarios ya están detenidos. Envíe /start para volver a empezar.",
    "cannot_stop": (
        "No hay cuestionarios que detener. Si necesita ayuda, póngase en contacto con la clínica."
    ),
    "paused_by_clinic": (
        "Su clínica ha pausado sus cuestionarios por ahora; le avisarán cuando se reanuden. "
        "Puede seguir escribiendo aquí al equipo de la clínica."
    ),
    "follow_up_ended": (
        "Su seguimiento con la clínica ha terminado, así que no le enviaré cuestionarios. "
        "Si tiene algún problema, póngase en contacto directamente con la clínica."
    ),
    "rejoined": "Bienvenido/a de nuevo: sus cuestionarios se han reanudado. {next}",
    "infusion_moved": (
        "Su clínica ha corregido la hora de su {ordinal} infusión, así que sus cuestionarios "
        "han cambiado de hora. {next}"
    ),
    "infusion_cancelled": (
        "Su clínica ha cancelado los cuestionarios de su {ordinal} infusión, así que no se los "
        "enviaré. Si algo va mal, puede seguir escribiendo aquí al equipo de la clínica."
    ),
    # /language
    "language_question": "¿En qué idioma prefiere que le escriba?",
    "language_set": "A partir de ahora le escribiré en español.",
    "language_unknown": "No conozco ese idioma. Elija uno de estos:",
}
