"""Versions of a strategy over HTTP: the list, a comparison, and responders' links."""

from django.http import Http404
from django.utils import translation
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civic.accounts.permissions import requires
from civic.errors import InvalidInput
from civic.languages import LANGUAGE_CODES
from proposals.models import Proposal
from proposals.selectors import proposal_find_by_code
from proposals.versions import selectors, serializers, services
from strategy.models import Strategy, StrategyVersion
from strategy.selectors import strategy_get_public

# Responders (and admins) link answered proposals to the sections they changed.
CanLink = requires("proposals.link_section")

_LANGUAGE = OpenApiParameter(
    "Accept-Language",
    str,
    location=OpenApiParameter.HEADER,
    enum=list(LANGUAGE_CODES),
    description="Language of the titles and of the diffed text (ru by default)",
)


def _strategy(slug: str) -> Strategy:
    # Drafts are as unknown here as on the strategy itself.
    strategy = strategy_get_public(slug=slug)
    if strategy is None:
        raise Http404
    return strategy


class VersionListApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={
            200: serializers.VersionSerializer(many=True),
            404: OpenApiResponse(description="Unknown or draft strategy"),
        },
        description="Every imported text of the strategy, oldest first, with the codes "
        "of the sections added, removed or changed since the previous version.",
    )
    def get(self, request: Request, slug: str) -> Response:
        versions = selectors.version_list(strategy=_strategy(slug))
        return Response(serializers.VersionSerializer(versions, many=True).data)


class VersionCompareApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[_LANGUAGE],
        responses={
            200: serializers.SectionChangeSerializer(many=True),
            404: OpenApiResponse(description="Unknown or draft strategy, or unknown version"),
        },
        description="Section by section, in document order, from the earlier of the two "
        "versions to the later: what changed, a word-level diff of the title and the body, "
        "and the codes of the proposals a responder linked to the section in a version "
        "after the earlier one, up to the later one.",
    )
    def get(self, request: Request, slug: str, a: int, b: int) -> Response:
        items = selectors.version_compare(
            strategy=_strategy(slug), a=a, b=b, language=translation.get_language() or "ru"
        )
        if items is None:
            raise Http404
        return Response(serializers.SectionChangeSerializer(items, many=True).data)


def _version(slug: str, number: int) -> StrategyVersion:
    version = selectors.version_get(strategy=_strategy(slug), number=number)
    if version is None:
        raise Http404
    return version


def _proposal(request: Request, version: StrategyVersion, reference: str) -> Proposal:
    proposal = proposal_find_by_code(user=request.user, code=reference)
    if proposal is None or proposal.strategy_id != version.strategy_id:
        raise InvalidInput(
            "Invalid proposal.",
            errors={"proposal": [f"No proposal {reference} in this strategy."]},
        )
    return proposal


class VersionLinkApi(APIView):
    """Responders (and admins) link a proposal the city accepted to a section it changed."""

    permission_classes = [CanLink]

    def _parse(self, request: Request, slug: str, number: int) -> dict:
        version = _version(slug, number)
        payload = request.data
        if request.method == "DELETE" and not payload:
            # A body on DELETE is legal but dropped by some clients and proxies (and
            # OpenAPI cannot describe it): the query string may carry the same fields.
            payload = {
                key: request.query_params[key]
                for key in ("proposal", "section_code")
                if key in request.query_params
            }
        data = serializers.LinkRequestSerializer(data=payload)
        data.is_valid(raise_exception=True)
        return {
            "proposal": _proposal(request, version, data.validated_data["proposal"]),
            "version": version,
            "section_code": data.validated_data["section_code"],
            "responder": request.user,
        }

    @extend_schema(
        request=serializers.LinkRequestSerializer,
        responses={
            201: serializers.LinkSerializer,
            400: OpenApiResponse(description="Unknown proposal or section_code"),
            409: OpenApiResponse(
                description="Not published (code not_published), or its answer is not "
                "accepted / accepted_in_part (code not_accepted)"
            ),
        },
        description="Link an answered proposal to a section of this version. Linking what "
        "is already linked is harmless (201, no second history row).",
    )
    def post(self, request: Request, slug: str, number: int) -> Response:
        link = services.section_link_add(**self._parse(request, slug, number))
        body = {
            "proposal": link.proposal.code or str(link.proposal_id),
            "version": link.version.number,
            "section_code": link.section_code,
        }
        return Response(serializers.LinkSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.LinkRequestSerializer,
        parameters=[
            OpenApiParameter("proposal", str, description="The proposal's code or id"),
            OpenApiParameter("section_code", str),
        ],
        responses={204: None, 400: OpenApiResponse(description="Unknown proposal or section")},
        description="Undo a link (harmless when there is none). The proposal and the "
        "section code come as a JSON body like POST's, or in the query string.",
    )
    def delete(self, request: Request, slug: str, number: int) -> Response:
        services.section_link_remove(**self._parse(request, slug, number))
        return Response(status=status.HTTP_204_NO_CONTENT)
