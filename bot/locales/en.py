"""What patients read from the bot itself, in English (the protocol holds the clinical wording).

Every key here must exist in every other language's catalog, with the same placeholders;
the bot refuses to start otherwise (bot.locales.catalog_problems).
"""

TEXTS: dict[str, str] = {
    "language_name": "English",
    # Dates on the patient's clock: "Thursday 26 Nov at 14:00"
    "weekdays": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "date_time": "{weekday} {day} {month} at {time}",
    "stranger": (
        "Hello. This bot is for patients of the clinic. "
        "If you are a patient, please ask your clinic for an invite link.\n"
        "If you work at the clinic, give them this id to be added as staff: {user_id}"
    ),
    "staff_only": "That command is for clinic staff.",
    "not_active": "Your follow-up is not active at the moment. Please contact your clinic.",
    "edits_ignored": "I don't read edited messages. Please send your answer as a new message.",
    "unknown_command": "I don't know that command. /help lists what you can do.",
    "not_understood": (
        "I can't read that here. Please use the buttons under the question, "
        "or send /report if something is wrong."
    ),
    "nothing_open": (
        "You're enrolled with the clinic, and there is no check-in waiting for you right now. "
        "/next shows when the next one is, and /report is there if something is wrong."
    ),
    "continue_check_in": "To go on with your check-in, answer the question below:",
    "slow_down": (
        "You are sending messages very fast, so I will not answer each one for a moment. "
        "Everything you send is kept. If you feel very unwell, call emergency services now."
    ),
    "help": (
        "I check in with you after each infusion. Answer with the buttons under each question.\n"
        "/next - what is open now, and when your next check-in is\n"
        "/report - tell the clinic about a problem now\n"
        "/timezone - the time zone I use for you (tell me when you travel)\n"
        "/mydata - what the clinic holds about you\n"
        "/stop - stop the check-ins (send /start to start them again)\n"
        "/language - choose your language\n"
        "/help - this message"
    ),
    "menu_next": "What is open now, and my next check-in",
    "menu_report": "Tell the clinic about a problem now",
    "menu_timezone": "The time zone my check-ins follow",
    "menu_mydata": "What the clinic holds about me",
    "menu_stop": "Stop the check-ins (/start starts them again)",
    "menu_language": "Choose your language",
    "menu_help": "What I can do",
    # Invites and consent
    "invite_unknown": "This invite link is not valid. Please ask your clinic for a new one.",
    "invite_used": "This invite link has already been used. Please ask your clinic for a new one.",
    "invite_expired": "This invite link has expired. Please ask your clinic for a new one.",
    "already_linked": "You are already enrolled with the clinic; there is nothing more to do.",
    "consent_yes": "I agree",
    "consent_no": "No thanks",
    "consent_declined": (
        "No problem: you are not enrolled and I will not send you anything. "
        "If you change your mind, open the invite link again."
    ),
    "consent_stale": "This invite is no longer open.",
    "consent_given": (
        "Thank you, you're all set. "
        "Your clinic will record your infusion here, and I will check in with you after it."
    ),
    # Check-ins
    "question": "{title} · question {position} of {total}\n\n{question}",
    "severity_question": "How severe is it: {item}?",
    "answered": "{question}\n\n✓ Your answer: {answer}",
    "yes": "Yes",
    "no": "No",
    "nothing_ticked": "none",
    "back_button": "↩ Change last answer",
    "skip_button": "Nothing to add",
    "skip_question_button": "Skip this question",
    "skipped": "(nothing added)",
    "skipped_answer": "(skipped)",
    "done": "Done",
    "done_ticked": "Done ({count} ticked)",
    "none_of_these": "None of these",
    "tick_something": 'Please tick what applies, or tick "None of these", then tap Done.',
    # The summary at the end of a check-in
    "summary": (
        "{title} · your answers\n\n{answers}\n\n"
        "Your answers are saved. Tap Send to finish, or tap one to change it."
    ),
    "send_button": "✅ Send",
    "change_button": "Change: {label}",
    "changing": "✏️ Changing your answer: {label}",
    "sent": "{summary}\n\n✓ Sent",
    "summary_closed": "These answers were already sent, or the check-in has closed.",
    "summary_out_of_date": "These buttons are out of date: please use the newest message.",
    "continue_summary": "Your check-in is waiting to be sent:",
    "stale_button": "This question is closed or was already answered.",
    "foreign_button": "This button is not for you.",
    "answer_saved": "Saved.",
    "going_back": "↩ Going back to the previous question.",
    "text_too_long": "That answer is too long; please keep it under {limit} characters.",
    "expecting_text": "Please type your answer as a message.",
    "reminder": "Reminder: your {title} is waiting. It only takes a minute.",
    "thanks": "Thank you, your answers are saved. {next}",
    "next_planned": "Your next check-in is on {when}.",
    "none_planned": "There is no further check-in planned for now.",
    # /next
    "nothing_open_next": "Nothing is waiting for you right now. {next}",
    "nothing_open_none_planned": (
        "Nothing is waiting for you right now, and no more check-ins are planned. "
        "If something is wrong, send /report and I will ask you about it."
    ),
    "still_open": "Still open: {title}. {after}Here is where you left off:",
    "after_it": "After it, the next one is on {when}. ",
    # /timezone
    "zone_offer": (
        "I use {place} time for you ({zone}): it is {now} there now. "
        "Check-ins come by this clock{keep_quiet}.\n\n"
        "Somewhere else? Tap your place below, or type /timezone and your city, "
        "for example /timezone New York."
    ),
    "keep_quiet": ", and I keep quiet from {start} to {end}",
    "zone_changed": "Done: I now use {place} time for you ({zone}). It is {now} there now. {next}",
    "zone_ambiguous": (
        "“{typed}” fits more than one place. Please send one of these:\n{listed}\n"
        "Nothing was changed."
    ),
    "zone_not_found": (
        "I couldn't find a time zone for “{typed}”. Please type /timezone and a big city "
        "near you, for example /timezone Madrid, or a zone name such as "
        "/timezone Europe/Madrid. Nothing was changed."
    ),
    "zone_stale": "These places are no longer offered. Please send /timezone again.",
    # Pause, resume, discharge (told by the clinic)
    "until": " until {when}",
    "paused": (
        "Your clinic has paused your check-ins{until}. If something is wrong, you can"
        " still write to the clinic team here."
    ),
    "resumed": "Your check-ins have started again. Thank you.",
    "discharged": (
        "Your follow-up with {clinic} has ended, so I will not send you more"
        " check-ins. Thank you for answering them. If you have a problem, please contact the"
        " clinic directly."
    ),
    # /mydata
    "mydata_heading": "What the clinic holds about you",
    "mydata_page": " · page {page} of {pages}",
    "mydata_reference": "Your reference: {ref}",
    "mydata_name": "Your name here: {name}",
    "mydata_zone": "Times below are in your time zone ({zone}).",
    "mydata_consent": "Consent: you agreed on {when}{version}",
    "mydata_consent_version": " (consent text version {version})",
    "mydata_consent_missing": "Consent: not recorded",
    "mydata_infusions": "Your infusions: {count}",
    "mydata_no_infusions": "Your infusions: nothing yet",
    "mydata_infusion": "Infusion {number}: {when}{dose}",
    "mydata_dose": ", dose {dose}",
    "mydata_infusion_step": "Infusion {number}, {title}",
    "mydata_check_in": "{title} ({when}):",
    "mydata_no_answers": "Your answers: none yet",
    "mydata_alerts_heading": "Alerts raised about you (the clinic team saw these):",
    "mydata_no_alerts": "Alerts raised about you: none",
    "mydata_foreign_page": "These pages belong to someone else.",
    "mydata_stale_page": (
        "Your data has changed since this page was made. Send /mydata to see it again."
    ),
    "severity_emergency": "emergency",
    "severity_urgent": "urgent",
    "severity_review": "review",
    # /stop and /start again; the clinic pausing, ending, moving or cancelling
    "stop_question": (
        "Do you want to stop your check-ins? I will not send you any more questions. "
        "You can come back at any time by sending /start."
    ),
    "stop_yes": "Yes, stop",
    "stop_no": "No, keep going",
    "stop_kept": "Good: your check-ins go on as before.",
    "stop_done": "Stopped.",
    "stopped": (
        "Your check-ins have stopped; I will not send you any more questions. "
        "If you want to start again, send /start. You can still write to the clinic team here."
    ),
    "already_stopped": "Your check-ins are already stopped. Send /start to start them again.",
    "cannot_stop": "There are no check-ins to stop. If you need help, please contact the clinic.",
    "paused_by_clinic": (
        "Your clinic has paused your check-ins for now; they will tell you when they start "
        "again. You can still write to the clinic team here."
    ),
    "follow_up_ended": (
        "Your follow-up with the clinic has ended, so I will not send you check-ins. "
        "If you have a problem, please contact the clinic directly."
    ),
    "rejoined": "Welcome back: your check-ins have started again. {next}",
    "infusion_moved": (
        "Your clinic corrected the time of your {ordinal} infusion, so your check-ins have "
        "moved. {next}"
    ),
    "infusion_cancelled": (
        "Your clinic cancelled the check-ins of your {ordinal} infusion, so I will not send "
        "them. If something is wrong, you can still write to the clinic team here."
    ),
    # /language
    "language_question": "Which language would you like me to use?",
    "language_set": "From now on I will write to you in English.",
    "language_unknown": "I don't know that language. Please choose one of these:",
}
