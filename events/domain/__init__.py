"""Rules with no Telegram and no SQL."""
