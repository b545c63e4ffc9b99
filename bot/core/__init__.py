"""The pure core: protocol, schedule, check-in flow, alert rules and outcomes.

Nothing here imports Telegram, the database or reads the clock.
"""
