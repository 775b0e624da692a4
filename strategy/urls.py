from django.urls import path

from strategy import apis

urlpatterns = [
    path("themes/", apis.ThemeListApi.as_view(), name="theme-list"),
    path("districts/", apis.DistrictListApi.as_view(), name="district-list"),
    path("strategies/", apis.StrategyListApi.as_view(), name="strategy-list"),
    path("strategies/<slug:slug>/", apis.StrategyDetailApi.as_view(), name="strategy-detail"),
]
