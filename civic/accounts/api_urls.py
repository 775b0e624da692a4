from django.urls import path

from civic.accounts import apis

urlpatterns = [
    path("register/", apis.RegisterApi.as_view(), name="auth-register"),
    path("verify-email/", apis.VerifyEmailApi.as_view(), name="auth-verify-email"),
    path(
        "verify-email/resend/",
        apis.ResendVerificationApi.as_view(),
        name="auth-verify-email-resend",
    ),
    path("token/", apis.TokenApi.as_view(), name="auth-token"),
    path("logout/", apis.LogoutApi.as_view(), name="auth-logout"),
    path("me/", apis.MeApi.as_view(), name="auth-me"),
    path("me/consent/", apis.MeConsentApi.as_view(), name="auth-me-consent"),
    path("me/export/", apis.MeExportApi.as_view(), name="auth-me-export"),
]
