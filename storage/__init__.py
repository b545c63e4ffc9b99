"""Storage: tables, engine and the repository functions the bot uses."""
