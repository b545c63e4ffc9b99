"""Infusion follow-up bot: Telegram check-ins after ketamine infusions, with staff alerts."""
