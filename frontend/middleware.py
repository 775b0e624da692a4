from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation


class LocaleMiddleware(DjangoLocaleMiddleware):
    """The language of a page: its /ru/, /kk/ or /en/ prefix, else the visitor's choice
    remembered in a cookie, else Russian.

    The browser's Accept-Language is not consulted for pages: the city's default is
    Russian whatever the device was set up with, and the switcher on every page
    changes it. API clients keep Django's negotiation (Accept-Language), which picks
    the language of the emails an account is sent.
    """

    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith("/api/"):
            return super().process_request(request)
        language = translation.get_language_from_path(request.path_info)
        if not language:
            cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
            language = cookie if cookie in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
