"""The terms of use and privacy notice: which version is in force, its text, and who still
has to accept it."""

from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from markdown_it import MarkdownIt

from civic.languages import LANGUAGE_CODES


def terms_version() -> str:
    return settings.CIVIC_TERMS_VERSION


def needs_consent(user: Any) -> bool:
    """Whether a signed-in account must accept the terms in force before writing.

    Superusers are left out: they are made from the command line by the operator who
    publishes the terms, and must be able to reach the admin to fix a wrong version.
    """
    if user is None or not user.is_authenticated or user.is_superuser:
        return False
    return user.consented_terms_version != terms_version()


def terms_path(version: str, language: str) -> Path:
    return Path(settings.CIVIC_TERMS_DIR) / version / f"{language}.md"


def terms_html(*, language: str, version: str | None = None) -> str:
    """The text of the terms in `language` as HTML (Russian if that language is missing)."""
    version = version or terms_version()
    path = terms_path(version, language if language in LANGUAGE_CODES else "ru")
    if not path.is_file():
        path = terms_path(version, "ru")
    return _render(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _render(path: str, mtime: int) -> str:
    # Raw HTML in the file is shown as text, and CommonMark refuses javascript: links:
    # the result is safe to put in a page as it is.
    return MarkdownIt("commonmark", {"html": False}).render(Path(path).read_text("utf-8"))


@register()
def check_terms_exist(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Refuse to start with a version whose texts are not there: nobody could accept it."""
    version = terms_version()
    missing = [lang for lang in LANGUAGE_CODES if not terms_path(version, lang).is_file()]
    if not version or missing:
        return [
            Error(
                f"CIVIC_TERMS_VERSION={version!r} has no text in {', '.join(missing) or 'any'} "
                f"under {settings.CIVIC_TERMS_DIR}.",
                hint="Add <version>/<ru|kk|en>.md there, or set the version to one that exists.",
                id="accounts.E001",
            )
        ]
    return []
