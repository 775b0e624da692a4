from django.urls import path

from civic.accounts import views

urlpatterns = [
    path("verify-email/<str:token>/", views.verify_email, name="verify-email"),
]
