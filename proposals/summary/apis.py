"""GET /api/v1/strategies/<slug>/summary/: the summary table as pages of rows, or as a file.

Public: the table holds no personal data. `?format=csv|xlsx|html` asks for the file in
the language of the request: 200 with it when a current one is built, else 202 with the
build's state (and the build is queued if it is not under way).
"""

from typing import Any

from django.http import FileResponse, Http404, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civic.pagination import PageNumberPagination
from proposals.models import SummaryFile
from proposals.summary import serializers
from proposals.summary.selectors import summary_row, summary_rows
from proposals.summary.services import FORMATS, summary_file_request, summary_is_current
from strategy.models import Strategy
from strategy.selectors import strategy_get_public

CONTENT_TYPES = {
    SummaryFile.Format.CSV: "text/csv; charset=utf-8",
    SummaryFile.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    SummaryFile.Format.HTML: "text/html; charset=utf-8",
}


class JsonWhateverTheFormat(DefaultContentNegotiation):
    """`?format=` names the file here. DRF would read it as the renderer to answer with
    and give a 404 for `csv`; every body this view renders is JSON."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


def _strategy_or_404(slug: str) -> Strategy:
    strategy = strategy_get_public(slug=slug)
    if strategy is None:
        raise Http404
    return strategy


def summary_file_response(summary: SummaryFile, strategy: Strategy) -> HttpResponse:
    """The built file as a download, cacheable by anyone for a minute."""
    response = FileResponse(
        summary.file.open("rb"),
        as_attachment=True,
        filename=f"{strategy.slug}-summary-{summary.language}.{summary.format}",
        content_type=CONTENT_TYPES[summary.format],
    )
    response["Cache-Control"] = "public, max-age=60"
    # The language comes from Accept-Language, or from the site's language cookie.
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def request_language() -> str:
    """The request's language (Accept-Language, or the site's cookie); the service falls
    back to Russian for any it does not have."""
    return (translation.get_language() or "ru")[:2]


class SummaryApi(APIView):
    permission_classes = [permissions.AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonWhateverTheFormat

    @extend_schema(
        summary="The strategy's summary table: every proposal, its outcome and the answer",
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=list(FORMATS),
                description="Ask for the table as a file (in the Accept-Language language) "
                "instead of pages of rows.",
            ),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="At most 100"),
        ],
        responses={
            (200, "application/json"): serializers.SummaryPageSerializer,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, CONTENT_TYPES[SummaryFile.Format.XLSX]): OpenApiTypes.BINARY,
            (200, "text/html"): OpenApiTypes.BINARY,
            (202, "application/json"): serializers.SummaryFileStateSerializer,
            (400, "application/json"): OpenApiResponse(description="Unknown format"),
            (404, "application/json"): OpenApiResponse(description="No such public strategy"),
        },
    )
    def get(self, request: Request, slug: str) -> Any:
        strategy = _strategy_or_404(slug)
        format = request.query_params.get("format")
        if format is None:
            paginator = PageNumberPagination()
            page = paginator.paginate_queryset(summary_rows(strategy=strategy), request, view=self)
            rows = [summary_row(proposal) for proposal in page]
            data = serializers.SummaryRowSerializer(rows, many=True).data
            return paginator.get_paginated_response(data)
        summary = summary_file_request(
            strategy=strategy, format=format, language=request_language()
        )
        # Without a broker the build ran when the request committed: read it again.
        summary.refresh_from_db()
        if summary_is_current(summary):
            return summary_file_response(summary, strategy)
        return Response(
            serializers.SummaryFileStateSerializer(summary).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Cache-Control": "no-store", "Retry-After": "2"},
        )
