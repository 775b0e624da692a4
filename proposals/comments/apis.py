"""The comments API: a proposal's discussion, a section's discussion, a comment's edits,
flags and moderation, and the moderators' list of flagged comments."""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, status
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civic.accounts.permissions import IsVerifiedResident, requires
from civic.clients import ScopedRateThrottle
from civic.pagination import PageNumberPagination
from proposals import selectors as proposal_selectors
from proposals.comments import queue, selectors, serializers, services
from proposals.models import Comment, Proposal
from strategy.models import Section


class AddressRateThrottle(ScopedRateThrottle):
    """The comment limit per address, whoever is signed in: many accounts behind one
    address share it (the account limit is the `comment` scope)."""

    scope_attr = "address_throttle_scope"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _throttles(request: Request) -> list:
    if request.method in ("POST", "PATCH"):
        return [ScopedRateThrottle(), AddressRateThrottle()]
    return []


class _CommentWrites:
    throttle_scope = "comment"
    address_throttle_scope = "comment_address"

    def get_throttles(self) -> list:
        return _throttles(self.request)


def _proposal(request: Request, proposal_id: int) -> Proposal:
    proposal = proposal_selectors.proposal_find_visible(user=request.user, proposal_id=proposal_id)
    if proposal is None:
        raise Http404
    return proposal


def _section(slug: str, code: str) -> Section:
    section = selectors.section_find_public(slug=slug, code=code)
    if section is None:
        raise Http404
    return section


def _comment(request: Request, comment_id: int) -> Comment:
    comment = selectors.comment_find(user=request.user, comment_id=comment_id)
    if comment is None:
        raise Http404
    return comment


def _represent(request: Request, comment: Comment) -> dict[str, Any]:
    # Reload through the list's selector: the write returns the row it locked.
    discussion = (
        selectors.comment_list(section=comment.section)
        if comment.section_id
        else selectors.comment_list(proposal=comment.proposal)
    )
    fresh = discussion.filter(pk=comment.pk).first()
    if fresh is None:  # deleted meanwhile; never expected right after a write
        raise Http404
    context = {"request": request, "proposal": comment.proposal}
    return serializers.CommentSerializer(fresh, context=context).data


def _keep_target(written: Comment, found: Comment) -> Comment:
    """The written row (locked, reloaded bare) with the proposal or section already loaded
    for it: no query for them again."""
    written.proposal, written.section = found.proposal, found.section
    return written


class _DiscussionApi(_CommentWrites, APIView):
    """A discussion's comments, listed and posted; `_place` says whose: a proposal's, or a
    section's (docs/api-notes.md, "Comments"), with the same shapes, rules and limits."""

    pagination_class = PageNumberPagination  # for the schema: a page, not a bare list

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.request.method == "POST":
            return [IsVerifiedResident()]
        return [permissions.AllowAny()]

    def _place(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        """{"proposal": …} or {"section": …}, or a 404."""
        raise NotImplementedError

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: serializers.CommentSerializer(many=True)},
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        place = self._place(request, **kwargs)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.comment_list(**place), request, view=self)
        context = {"request": request, "proposal": place.get("proposal")}
        data = serializers.CommentSerializer(page, many=True, context=context).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        request=serializers.CommentCreateSerializer,
        responses={201: serializers.CommentSerializer},
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        place = self._place(request, **kwargs)
        data = serializers.CommentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_create(author=request.user, **place, **data.validated_data)
        return Response(_represent(request, comment), status=status.HTTP_201_CREATED)


class CommentListApi(_DiscussionApi):
    def _place(self, request: Request, proposal_id: int) -> dict[str, Any]:
        return {"proposal": _proposal(request, proposal_id)}


class SectionCommentListApi(_DiscussionApi):
    """The sections of a public strategy; posts only while it accepts proposals."""

    def _place(self, request: Request, slug: str, code: str) -> dict[str, Any]:
        return {"section": _section(slug, code)}


class CommentDetailApi(_CommentWrites, APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=serializers.CommentEditSerializer, responses={200: serializers.CommentSerializer}
    )
    def patch(self, request: Request, comment_id: int) -> Response:
        comment = _comment(request, comment_id)
        data = serializers.CommentEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        edited = services.comment_edit(comment=comment, actor=request.user, **data.validated_data)
        return Response(_represent(request, _keep_target(edited, comment)))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, comment_id: int) -> Response:
        comment = _comment(request, comment_id)
        services.comment_delete(comment=comment, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentFlagApi(_CommentWrites, APIView):
    permission_classes = [IsVerifiedResident]

    @extend_schema(
        request=serializers.CommentFlagRequestSerializer,
        responses={201: serializers.CommentFlagSerializer},
    )
    def post(self, request: Request, comment_id: int) -> Response:
        comment = _comment(request, comment_id)
        data = serializers.CommentFlagRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag = services.comment_flag(comment=comment, user=request.user, **data.validated_data)
        return Response(
            serializers.CommentFlagSerializer(flag).data, status=status.HTTP_201_CREATED
        )


class CommentModerationApi(APIView):
    permission_classes = [requires("proposals.moderate_comment")]

    @extend_schema(
        request=serializers.CommentModerationRequestSerializer,
        responses={200: serializers.CommentSerializer},
    )
    def post(self, request: Request, comment_id: int) -> Response:
        comment = _comment(request, comment_id)
        data = serializers.CommentModerationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moderated = services.comment_moderate(
            comment=comment, moderator=request.user, **data.validated_data
        )
        return Response(_represent(request, _keep_target(moderated, comment)))


class FlagCountsSerializer(drf.Serializer):
    """Open flags by reason; every reason is named, with 0 where none."""

    spam = drf.IntegerField()
    offensive = drf.IntegerField()
    personal_data = drf.IntegerField()
    off_topic = drf.IntegerField()


# Where a comment on a section is; a comment on a proposal has none of them.
SECTION_KEYS = ("section", "section_code", "strategy")


class FlaggedCommentSerializer(drf.ModelSerializer):
    """A comment awaiting a moderator. The text is shown even when hidden: deciding on it
    is what the reader is here for (the rule `proposals.read_hidden_comment`)."""

    # A comment on a section has no proposal: `proposal` and `proposal_code` are null, and
    # `section`, `section_code` and `strategy` name where it is. Those three are only on a
    # section's comments: a proposal's keep the shape they had.
    proposal = drf.IntegerField(source="proposal_id", read_only=True, allow_null=True)
    proposal_code = drf.CharField(source="proposal.code", read_only=True, allow_null=True)
    section = drf.IntegerField(source="section_id", read_only=True, required=False)
    section_code = drf.CharField(source="section.code", read_only=True, required=False)
    strategy = drf.CharField(source="section.strategy.slug", read_only=True, required=False)
    hidden = drf.BooleanField(read_only=True)
    hidden_reason = drf.SerializerMethodField()
    flags = drf.SerializerMethodField()
    first_flagged_at = drf.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Comment
        fields = [
            "id",
            "proposal",
            "proposal_code",
            "section",
            "section_code",
            "strategy",
            "body",
            "hidden",
            "hidden_reason",
            "flags",
            "first_flagged_at",
        ]

    @extend_schema_field(drf.ChoiceField(choices=Comment.HideReason.values, allow_null=True))
    def get_hidden_reason(self, comment: Comment) -> str | None:
        return comment.hidden_reason or None

    @extend_schema_field(FlagCountsSerializer)
    def get_flags(self, comment: Comment) -> dict[str, int]:
        return queue.flag_counts(comment)

    def to_representation(self, comment: Comment) -> dict[str, Any]:
        data = super().to_representation(comment)
        if comment.section_id is None:
            for key in SECTION_KEYS:
                data.pop(key, None)
        return data


class FlaggedCommentListApi(APIView):
    """Comments awaiting a moderator, the one flagged first at the top (docs/api-notes.md,
    "Comments"): hidden by flags, or shown with flags nobody has settled yet."""

    permission_classes = [requires("proposals.moderate_comment")]
    pagination_class = PageNumberPagination  # for the schema: a page, not a bare list

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: FlaggedCommentSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(queue.flagged_comments(), request, view=self)
        data = FlaggedCommentSerializer(page, many=True).data
        return paginator.get_paginated_response(data)
