from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from strategy import selectors, serializers


class ThemeListApi(generics.ListAPIView):
    serializer_class = serializers.ThemeSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):  # noqa: ANN201 - DRF hook
        return selectors.theme_list()


class DistrictListApi(generics.ListAPIView):
    serializer_class = serializers.DistrictSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):  # noqa: ANN201 - DRF hook
        return selectors.district_list()


class StrategyListApi(generics.ListAPIView):
    serializer_class = serializers.StrategyListSerializer
    filter_backends: list = []

    def get_queryset(self):  # noqa: ANN201 - DRF hook
        return selectors.strategy_list_public()


class StrategyDetailApi(APIView):
    @extend_schema(
        responses={
            200: serializers.StrategyDetailSerializer,
            404: OpenApiResponse(description="Unknown or draft strategy"),
        }
    )
    def get(self, request: Request, slug: str) -> Response:
        strategy = selectors.strategy_get_public(slug=slug)
        if strategy is None:
            raise Http404
        return Response(serializers.StrategyDetailSerializer(strategy).data)
