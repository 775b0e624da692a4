"""Residents' comments on published proposals: replies, flags, moderation, edits."""
