from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from civic.views import health

urlpatterns = [
    path("healthz", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("civic.api_urls")),
    path("", include("civic.accounts.urls")),
]

handler400 = "civic.views.bad_request"
handler404 = "civic.views.page_not_found"
handler500 = "civic.views.server_error"
