import logging
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone, translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civic.accounts.permissions import (
    CanAnswer,
    CanModerate,
    CanOrderReports,
    CanViewAll,
    CanViewHistory,
    IsVerifiedResident,
    requires,
)
from civic.accounts.rules import allows
from civic.clients import ScopedRateThrottle
from civic.errors import InvalidInput, NotAllowed
from civic.pagination import PageNumberPagination
from civic.snapshots import snapshot_get, snapshot_key, snapshot_set
from proposals import paging, selectors, serializers, services
from proposals.answers.services import answer_save
from proposals.duplicates import selectors as duplicates
from proposals.filters import ORDERINGS, RELEVANCE
from proposals.listing import proposal_list_rows
from proposals.models import Answer, Proposal, Report
from proposals.reports.services import report_list_of, report_order
from proposals.search.selectors import highlight
from proposals.tallies.selectors import tally_json
from strategy.models import Strategy

logger = logging.getLogger(__name__)

_FILTER_PARAMETERS = [
    OpenApiParameter("strategy", str, description="Strategy slug"),
    OpenApiParameter("section", int, description="Section id; includes its sub-sections"),
    OpenApiParameter("theme", str, many=True, description="Theme slug; repeatable, any of"),
    OpenApiParameter("district", str, description="District slug"),
    OpenApiParameter("language", str, enum=Proposal.Language.values),
    OpenApiParameter("status", str, enum=Proposal.Status.values, description="Staff only"),
    OpenApiParameter("created_after", OpenApiTypes.DATE),
    OpenApiParameter("created_before", OpenApiTypes.DATE),
    OpenApiParameter(
        "q",
        str,
        description="Words to find in title and body, in any of their forms (ru, kk, en); "
        "each result then carries `highlight`",
    ),
    OpenApiParameter(
        "ordering",
        str,
        enum=list(ORDERINGS),
        description="Newest first by default; with `q`, by relevance (which needs `q`)",
    ),
    OpenApiParameter(
        "answer",
        str,
        enum=[*Answer.Outcome.values, "unanswered", "overdue"],
        description="The city's answer: an outcome, unanswered, or unanswered past the deadline",
    ),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int, description="At most 100"),
]


def _get_visible(request: Request, proposal_id: int, *, for_write: bool = False) -> Proposal:
    find = selectors.proposal_find_visible if for_write else selectors.proposal_get_visible
    proposal = find(user=request.user, proposal_id=proposal_id)
    if proposal is None:
        raise Http404
    return proposal


def _represent(request: Request, proposal: Proposal) -> dict:
    # Reload through the selector: a write returns the row it locked, without relations.
    fresh = selectors.proposal_get_visible(user=request.user, proposal_id=proposal.pk)
    if fresh is None:  # the caller could act on it, so it is visible; never expected
        raise Http404
    return serializers.ProposalSerializer(fresh, context={"request": request}).data


def _paginate(request: Request, view: APIView, queryset: QuerySet[Proposal]) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    context = {"request": request, "reactions": selectors.reaction_counts_for(page)}
    data = serializers.ProposalSerializer(page, many=True, context=context).data
    return paginator.get_paginated_response(data)


class ProposalListPagination(PageNumberPagination):
    """What the schema says of the list's pages; proposals.paging makes them."""

    def get_paginated_response_schema(self, schema: dict) -> dict:
        page = super().get_paginated_response_schema(schema)
        page["properties"]["count_is_estimate"] = {
            "type": "boolean",
            "description": "true when `count` is an estimate (a large set on PostgreSQL)",
        }
        return page

    def get_schema_operation_parameters(self, view: APIView) -> list[dict]:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "Cursor pagination: empty for the first page, then the "
                "cursor in `next` or `previous`",
                "schema": {"type": "string"},
            },
        ]


class ProposalListApi(APIView):
    throttle_scope = "submit"
    # Read by the schema generator, which then describes the list as the page it is.
    pagination_class = ProposalListPagination

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.request.method == "POST":
            return [IsVerifiedResident()]
        return [permissions.AllowAny()]

    def get_throttles(self) -> list:
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        parameters=_FILTER_PARAMETERS,
        responses={200: serializers.ProposalListItemSerializer(many=True)},
    )
    def get(self, request: Request) -> HttpResponse:
        key = self._kept_page_key(request)
        kept = snapshot_get(key)
        if kept is not None:
            content_type, body = kept
            return HttpResponse(body, content_type=content_type)
        response = self._page(request)
        if key is not None:
            response.add_post_render_callback(
                lambda rendered: snapshot_set(key, rendered["Content-Type"], rendered.content)
            )
        return response

    @staticmethod
    def _kept_page_key(request: Request) -> str | None:
        """Anonymous readers of the same URL, language and time zone get the same bytes
        while the database is unchanged (civic/snapshots.py). Overdue answers depend on
        the clock too, so that filter is built every time."""
        if not request.user.is_anonymous or request.accepted_renderer.format != "json":
            return None
        if request.query_params.get("answer") == "overdue":
            return None
        return snapshot_key(
            "proposal-list",
            request.build_absolute_uri(),
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
            request.accepted_media_type,
        )

    def _page(self, request: Request) -> Response:
        queryset = selectors.proposal_list(user=request.user, filters=request.query_params)
        q = request.query_params.get("q", "").strip()
        if "cursor" in request.query_params:
            ordering = request.query_params.get("ordering") or (RELEVANCE if q else ORDERINGS[0])
            page = paging.page_by_cursor(queryset=queryset, request=request, ordering=ordering)
        else:
            page = paging.page_by_number(queryset=queryset, request=request)
        results = proposal_list_rows(ids=page.ids, user=request.user)
        if q:
            for row in results:
                row["highlight"] = highlight(title=row["title"], body=row["body"], q=q)
        return Response(
            {
                "count": page.count,
                "count_is_estimate": page.count_is_estimate,
                "next": page.next,
                "previous": page.previous,
                "results": results,
            }
        )

    @extend_schema(
        request=serializers.ProposalSubmitSerializer,
        responses={201: serializers.ProposalSerializer},
    )
    def post(self, request: Request) -> Response:
        data = serializers.ProposalSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = services.proposal_submit(author=request.user, **data.validated_data)
        return Response(_represent(request, proposal), status=status.HTTP_201_CREATED)


class ProposalDetailApi(APIView):
    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.request.method == "PATCH":
            return [permissions.IsAuthenticated()]
        return [permissions.AllowAny()]

    @extend_schema(responses={200: serializers.ProposalSerializer, 404: OpenApiResponse()})
    def get(self, request: Request, proposal_id: int) -> Response:
        proposal = _get_visible(request, proposal_id)
        return Response(serializers.ProposalSerializer(proposal, context={"request": request}).data)

    @extend_schema(
        request=serializers.ProposalEditSerializer, responses={200: serializers.ProposalSerializer}
    )
    def patch(self, request: Request, proposal_id: int) -> Response:
        proposal = _get_visible(request, proposal_id, for_write=True)
        if not allows(request.user, "proposals.edit_proposal", proposal):
            raise NotAllowed("Only the author may edit a proposal.")
        data = serializers.ProposalEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data:
            raise InvalidInput("Nothing to change: send title, body, section, district or themes.")
        proposal = services.proposal_edit(
            proposal=proposal, actor=request.user, **data.validated_data
        )
        return Response(_represent(request, proposal))


class ProposalWithdrawApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: serializers.ProposalSerializer})
    def post(self, request: Request, proposal_id: int) -> Response:
        proposal = _get_visible(request, proposal_id, for_write=True)
        proposal = services.proposal_withdraw(proposal=proposal, actor=request.user)
        return Response(_represent(request, proposal))


class ProposalModerationApi(APIView):
    permission_classes = [CanModerate]

    @extend_schema(
        request=serializers.ModerationRequestSerializer,
        responses={200: serializers.ProposalSerializer},
    )
    def post(self, request: Request, proposal_id: int) -> Response:
        proposal = _get_visible(request, proposal_id, for_write=True)
        data = serializers.ModerationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = services.proposal_moderate(
            proposal=proposal, moderator=request.user, **data.validated_data
        )
        return Response(_represent(request, proposal))


class ProposalAnswerApi(APIView):
    """Responders and admins: give, change or publish the city's answer."""

    permission_classes = [CanAnswer]

    @extend_schema(
        request=serializers.AnswerRequestSerializer,
        responses={
            200: serializers.AnswerStateSerializer,
            400: OpenApiResponse(description="Unknown outcome, or no text where one is needed"),
            403: OpenApiResponse(description="Not a responder"),
            404: OpenApiResponse(),
            409: OpenApiResponse(description="Code not_published or answer_changed"),
        },
    )
    def put(self, request: Request, proposal_id: int) -> Response:
        # Whoever may answer is staff: a proposal that is not published yet is a 409
        # naming its state, not a 404 hiding it.
        proposal = Proposal.objects.filter(pk=proposal_id).first()
        if proposal is None:
            raise Http404
        data = serializers.AnswerRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = answer_save(proposal=proposal, responder=request.user, **data.validated_data)
        return Response(serializers.AnswerStateSerializer(answer).data)


class ProposalHistoryApi(APIView):
    permission_classes = [CanViewHistory]

    @extend_schema(responses={200: serializers.HistoryEntrySerializer(many=True)})
    def get(self, request: Request, proposal_id: int) -> Response:
        proposal = _get_visible(request, proposal_id, for_write=True)
        events = selectors.proposal_history(proposal=proposal)
        return Response(serializers.HistoryEntrySerializer(events, many=True).data)


class ProposalNearDuplicatesApi(APIView):
    """Staff: the proposals of the same strategy nearly the same as this one."""

    permission_classes = [requires("proposals.view_near_duplicates")]

    @extend_schema(responses={200: serializers.SimilarProposalSerializer(many=True)})
    def get(self, request: Request, proposal_id: int) -> Response:
        proposal = _get_visible(request, proposal_id, for_write=True)
        found = duplicates.near_duplicates_of_proposal(user=request.user, proposal=proposal)
        return Response(serializers.SimilarProposalSerializer(found, many=True).data)


class SimilarProposalsApi(APIView):
    """Before submitting: published proposals nearly the same as the text being written, so
    the author can react to one instead. Nothing is stored."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "similar"

    @extend_schema(
        request=serializers.SimilarRequestSerializer,
        responses={200: serializers.SimilarProposalSerializer(many=True)},
    )
    def post(self, request: Request) -> Response:
        data = serializers.SimilarRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = duplicates.near_duplicates_of_text(**data.validated_data)
        return Response(serializers.SimilarProposalSerializer(found, many=True).data)


class DuplicateGroupListApi(APIView):
    """Staff: the strategy's groups of near-identical proposals, largest first."""

    permission_classes = [CanViewAll]
    pagination_class = PageNumberPagination  # for the schema: a page, not a bare list

    @extend_schema(
        parameters=[
            OpenApiParameter("min_size", int, description="Smallest group to list; at least 2"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="At most 100"),
        ],
        responses={200: serializers.DuplicateGroupSerializer(many=True)},
    )
    def get(self, request: Request, slug: str) -> Response:
        # Staff see drafts too; the slug converter already refused anything but a slug.
        strategy = Strategy.objects.filter(slug=slug).first()
        if strategy is None:
            raise Http404
        min_size = duplicates.parse_min_size(request.query_params.get("min_size", "2"))
        if min_size is None:
            raise InvalidInput(
                "Invalid filter.",
                errors={"min_size": ["A whole number from 2 to 1000000."]},
            )
        labels = duplicates.duplicate_group_labels(strategy=strategy, min_size=min_size)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(labels, request, view=self)
        groups = duplicates.duplicate_groups(strategy=strategy, labels=list(page))
        data = serializers.DuplicateGroupSerializer(groups, many=True).data
        return paginator.get_paginated_response(data)


class ReactionApi(APIView):
    permission_classes = [IsVerifiedResident]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "react"

    @extend_schema(
        request=serializers.ReactionRequestSerializer,
        responses={200: serializers.ReactionSerializer},
    )
    def put(self, request: Request, proposal_id: int) -> Response:
        proposal = _get_visible(request, proposal_id, for_write=True)
        data = serializers.ReactionRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reaction = services.reaction_set(
            proposal=proposal, user=request.user, kind=data.validated_data["kind"]
        )
        counts = selectors.reaction_counts(proposal=proposal)
        return Response({"kind": reaction.kind, "reactions": counts})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, proposal_id: int) -> Response:
        proposal = _get_visible(request, proposal_id, for_write=True)
        services.reaction_clear(proposal=proposal, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyProposalListApi(APIView):
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = PageNumberPagination  # for the schema: a page, not a bare list

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: serializers.ProposalSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return _paginate(request, self, selectors.proposal_list_of_author(user=request.user))


class TallyApi(APIView):
    """The OpenAPI description of the tally endpoint.

    Requests are served by `tally_view` below, a plain Django view: the endpoint
    must answer at close to the rate of a view that does no work, and DRF's
    request wrapping and negotiation are a third of its cost.
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse()})
    def get(self, request: Request, slug: str) -> HttpResponse:
        return tally_view(request, slug)


def tally_view(request: HttpRequest, slug: str) -> HttpResponse:
    body = tally_json(slug=slug)
    if body is None:
        return JsonResponse({"detail": "Not found."}, status=404)
    return HttpResponse(body, content_type="application/json")


def document_fields_for_some_readers(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: a proposal's fields that only some readers
    get (ProposalSerializer.to_representation leaves them out) are not required."""
    schemas = result.get("components", {}).get("schemas", {})
    # `highlight` only comes with a search.
    absent = {*serializers.ProposalSerializer.FOR_SOME_READERS, "highlight"}
    for name in ("Proposal", "ProposalListItem"):
        proposal = schemas.get(name)
        if proposal and "required" in proposal:
            proposal["required"] = [field for field in proposal["required"] if field not in absent]
    return result


def document_tally_endpoint(endpoints: list[tuple]) -> list[tuple]:
    """drf-spectacular preprocessing hook: describe `tally_view` through `TallyApi`."""
    return [
        *endpoints,
        (
            "/api/v1/strategies/{slug}/tallies/",
            "api/v1/strategies/<slug:slug>/tallies/",
            "GET",
            TallyApi.as_view(),
        ),
    ]


_REPORT_TYPES = {
    Report.Format.CSV: "text/csv; charset=utf-8",
    Report.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Report.Format.HTML: "text/html; charset=utf-8",
}


class ReportListApi(APIView):
    permission_classes = [CanOrderReports]
    throttle_scope = "report"
    pagination_class = PageNumberPagination  # for the schema: a page, not a bare list

    def get_throttles(self) -> list:
        # Ordering builds a file in the background; reading the list costs nothing.
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(responses=serializers.ReportSerializer(many=True))
    def get(self, request: Request) -> Response:
        queryset = report_list_of(user=request.user)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(serializers.ReportSerializer(page, many=True).data)

    @extend_schema(
        request=serializers.ReportOrderSerializer,
        responses={202: serializers.ReportSerializer},
    )
    def post(self, request: Request) -> Response:
        data = serializers.ReportOrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = report_order(
            user=request.user,
            strategy_slug=data.validated_data["strategy"],
            format=data.validated_data["format"],
            filters=data.validated_data.get("filters"),
            language=(request.user.language or "ru"),
        )
        return Response(serializers.ReportSerializer(report).data, status=status.HTTP_202_ACCEPTED)


def _report_or_404(request: Request, report_id: int) -> Report:
    report = Report.objects.select_related("strategy").filter(pk=report_id).first()
    if report is None or not allows(request.user, "proposals.read_report", report):
        # Someone else's report is not found rather than forbidden: ids say nothing.
        raise Http404
    return report


class ReportDetailApi(APIView):
    permission_classes = [CanOrderReports]

    @extend_schema(responses=serializers.ReportSerializer)
    def get(self, request: Request, report_id: int) -> Response:
        return Response(serializers.ReportSerializer(_report_or_404(request, report_id)).data)


def report_file_response(report: Report) -> FileResponse | None:
    """A finished report's file as a private download; None when the file is not in
    MEDIA_ROOT although the row says it was built (the API and the page answer 410).

    A file goes missing when a media folder is lost or restored without it, or when the web
    processes do not share MEDIA_ROOT with the workers that write it: the log says which file,
    so the operator can tell the two apart.
    """
    try:
        file = report.file.open("rb")
    except FileNotFoundError:
        logger.warning(
            "Report %s is done, but its file %s is not in MEDIA_ROOT (%s): the download "
            "answers 410. Do the web and worker processes share MEDIA_ROOT?",
            report.pk,
            report.file.name,
            settings.MEDIA_ROOT,
        )
        return None
    response = FileResponse(
        file,
        as_attachment=True,
        filename=f"civic-{report.strategy.slug}-report-{report.pk}.{report.format}",
        content_type=_REPORT_TYPES[report.format],
    )
    # A private file: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response


class ReportDownloadApi(APIView):
    permission_classes = [CanOrderReports]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, report_id: int) -> HttpResponse:
        report = _report_or_404(request, report_id)
        if report.expired_at is not None:
            return JsonResponse(
                {"detail": "The file was removed after its retention period.", "code": "expired"},
                status=410,
            )
        if report.status != Report.Status.DONE or not report.file:
            return JsonResponse(
                {"detail": f"The report is {report.status}.", "code": "not_ready"}, status=409
            )
        response = report_file_response(report)
        if response is None:
            # The same answer as a file removed on schedule: either way the file is gone for
            # good, and ordering the report again is what a client does about it.
            return JsonResponse(
                {
                    "detail": "The file is no longer on the server; order the report again.",
                    "code": "expired",
                },
                status=410,
            )
        return response
