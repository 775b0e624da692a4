"""Search of a strategy's own text over HTTP (an addition to the contract)."""

from django.http import Http404
from django.utils import translation
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civic.errors import InvalidInput
from proposals.search.selectors import parts_text, section_search
from strategy.selectors import strategy_get_public

# Enough for a page of results; a query that matches more is too vague to list them all.
MAX_SECTIONS = 50


class SectionSearchApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q", str, required=True, description="Words to find in any of their forms"
            )
        ],
        responses={
            200: inline_serializer(
                "SectionMatch",
                {
                    "id": serializers.IntegerField(),
                    "code": serializers.CharField(),
                    "title": serializers.CharField(),
                    "language": serializers.CharField(),
                    "highlight": serializers.CharField(),
                },
                many=True,
            )
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        strategy = strategy_get_public(slug=slug)
        if strategy is None:
            raise Http404
        q = request.query_params.get("q", "")
        if not q.strip() or len(q) > 200:
            raise InvalidInput(
                "Words to search for, at most 200 characters.",
                errors={"q": ["Words to search for, at most 200 characters."]},
            )
        found = section_search(strategy=strategy, q=q, language=translation.get_language() or "ru")
        return Response(
            [
                {
                    **{key: value for key, value in row.items() if key != "parts"},
                    "highlight": parts_text(row["parts"]),
                }
                for row in found[:MAX_SECTIONS]
            ]
        )
