"""The comments API's shapes: a comment as the discussion shows it, and the requests."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from civic.fields import StrictCharField, StrictPrimaryKeyRelatedField
from proposals.comments.selectors import author_role
from proposals.comments.services import MODERATION_ACTIONS, MODERATOR_REASONS
from proposals.models import Comment, CommentFlag
from proposals.rules import CommentVerdicts

ROLES = ["author", "resident", "moderator", "analyst", "responder", "admin"]


class CommentSerializer(serializers.ModelSerializer):
    """A comment in the discussion. A hidden one keeps its place with `body: null` (but for
    its author and moderators); `hidden_reason` reaches only its author and staff. A
    deleted one still answered by replies is a stub: `deleted: true`, `body: null`."""

    parent = serializers.IntegerField(source="parent_id", read_only=True, allow_null=True)
    author_name = serializers.SerializerMethodField()
    author_role = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    hidden = serializers.BooleanField(read_only=True)
    hidden_reason = serializers.SerializerMethodField()
    deleted = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = [
            "id",
            "parent",
            "author_name",
            "author_role",
            "body",
            "created_at",
            "edited_at",
            "hidden",
            "hidden_reason",
            "deleted",
        ]

    def _user(self) -> Any:
        return getattr(self.context.get("request"), "user", None)

    def _may(self, perm: str, comment: Comment) -> bool:
        # One memo for the whole list (the context is shared by a many=True serializer).
        if "verdicts" not in self.context:
            self.context["verdicts"] = CommentVerdicts(self._user())
        return self.context["verdicts"](perm, comment)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author_name(self, comment: Comment) -> str | None:
        # A deleted comment no longer says who wrote it.
        return None if comment.deleted_at else comment.author.display_name

    @extend_schema_field(serializers.ChoiceField(choices=ROLES, allow_null=True))
    def get_author_role(self, comment: Comment) -> str | None:
        if comment.deleted_at:
            return None
        # A section's discussion has no proposal, so no "author" to mark.
        return author_role(author=comment.author, proposal=self.context.get("proposal"))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_body(self, comment: Comment) -> str | None:
        if comment.deleted_at:
            return None
        if comment.hidden and not self._may("proposals.read_hidden_comment", comment):
            return None
        return comment.body

    @extend_schema_field(
        serializers.ChoiceField(choices=Comment.HideReason.values, allow_null=True)
    )
    def get_hidden_reason(self, comment: Comment) -> str | None:
        if not comment.hidden:
            return None
        if not self._may("proposals.view_comment_hidden_reason", comment):
            return None
        return comment.hidden_reason

    def get_deleted(self, comment: Comment) -> bool:
        return comment.deleted_at is not None


class CommentCreateSerializer(serializers.Serializer):
    # Lengths and characters are checked by the service after trimming.
    body = StrictCharField(trim_whitespace=False, max_length=100_000)
    parent = StrictPrimaryKeyRelatedField(
        queryset=Comment.objects.all(), required=False, allow_null=True
    )


class CommentEditSerializer(serializers.Serializer):
    body = StrictCharField(trim_whitespace=False, max_length=100_000)


class CommentFlagRequestSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=CommentFlag.Reason.values)


class CommentFlagSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommentFlag
        fields = ["reason", "created_at"]


class CommentModerationRequestSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(MODERATION_ACTIONS))
    reason = serializers.ChoiceField(choices=MODERATOR_REASONS, required=False, allow_blank=True)
