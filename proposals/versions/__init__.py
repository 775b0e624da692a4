"""Versions of a strategy seen from the proposals: which answered proposals changed which
section of a revised document.

strategy/versions.py records each imported text and compares two; here selectors add to a
comparison the proposals a responder linked to each section, services link and unlink them
(with a history row on the proposal), and apis.py serves both.
"""
