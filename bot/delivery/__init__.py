"""The only code that talks to Telegram on its own: the inbox that receives updates, the
sender that delivers the outbox, the dispatcher that turns due times into messages."""
