from django.urls import include, path

urlpatterns = [
    path("auth/", include("civic.accounts.api_urls")),
    path("", include("strategy.urls")),
    path("", include("proposals.urls")),
]
