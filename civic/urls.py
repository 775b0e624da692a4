from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from civic.views import health, ready
from frontend.views.accounts import language_switch

urlpatterns = [
    path("healthz", health, name="health"),
    path("readyz", ready, name="ready"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("civic.api_urls")),
    path("language/", language_switch, name="language"),
]
# Pages live under /ru/, /kk/ and /en/; a path without the prefix (a link in an email,
# /proposals/12/) is redirected to the visitor's language.
urlpatterns += i18n_patterns(path("", include("frontend.urls")))

handler400 = "civic.views.bad_request"
handler404 = "civic.views.page_not_found"
handler500 = "civic.views.server_error"
