"""The city's answers to published proposals: saving, reading, notifying."""
