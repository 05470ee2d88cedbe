"""Calendar feeds: iCalendar files built from events, served behind secret tokens."""
