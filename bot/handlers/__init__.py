"""Telegram handlers, one module per audience; each stays thin and calls the services."""
