"""Database sessions that ignore a malformed session cookie instead of querying with it."""

import re

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

# Django makes session keys of 32 lowercase letters and digits.
_SESSION_KEY = re.compile(r"[a-z0-9]{32}")


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        # A cookie with a NUL byte in it would make PostgreSQL raise: treat it as no session.
        return (
            bool(key) and bool(_SESSION_KEY.fullmatch(key)) and super()._validate_session_key(key)
        )
