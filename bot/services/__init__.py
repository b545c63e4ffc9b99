"""Use cases, one module per noun: take a session and the time, change state through the
repository, and queue the messages that the change causes in the same transaction."""
