"""The site's languages, read once from settings.LANGUAGES for every module that needs
them: pages, emails, reports, imports and the data model speak exactly these."""

from django.conf import settings

LANGUAGE_CODES: tuple[str, ...] = tuple(code for code, _ in settings.LANGUAGES)
DEFAULT_LANGUAGE: str = settings.LANGUAGE_CODE


def supported_language(language: str | None) -> str:
    """The language itself if the site speaks it, else the default (Russian)."""
    return language if language in LANGUAGE_CODES else DEFAULT_LANGUAGE
