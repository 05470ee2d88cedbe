"""A Telegram bot for workshops, webinars and Q&A sessions of peer-support communities."""
