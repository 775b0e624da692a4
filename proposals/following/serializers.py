"""The following API's shapes."""

from typing import Any

from rest_framework import serializers

from civic.fields import StrictPrimaryKeyRelatedField, StrictSlugRelatedField
from proposals.models import Follow, Notification, Proposal
from proposals.selectors import proposal_visible_to
from strategy.models import Section
from strategy.selectors import strategy_list_public

TARGETS = ("proposal", "section", "strategy")


class FollowRequestSerializer(serializers.Serializer):
    """Exactly one of: a proposal id the caller may open, a section id or a strategy slug
    of a public strategy."""

    proposal = StrictPrimaryKeyRelatedField(queryset=Proposal.objects.none(), required=False)
    section = StrictPrimaryKeyRelatedField(
        queryset=Section.objects.filter(strategy__in=strategy_list_public()), required=False
    )
    strategy = StrictSlugRelatedField(
        slug_field="slug", queryset=strategy_list_public(), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What a proposal id may name depends on who asks: a 400 for one they cannot see.
        request = self.context.get("request")
        if request is not None:  # the schema generator builds one without a request
            self.fields["proposal"].queryset = proposal_visible_to(request.user)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = self.initial_data if isinstance(self.initial_data, dict) else {}
        unknown = set(given) - set(TARGETS)
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown field."] for name in sorted(unknown)}
            )
        if len(attrs) != 1:
            raise serializers.ValidationError("Give exactly one of proposal, section and strategy.")
        return attrs


class FollowSerializer(serializers.ModelSerializer):
    following = serializers.BooleanField(source="active")
    section = serializers.IntegerField(source="section_id", allow_null=True)
    strategy = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    proposal = serializers.IntegerField(source="proposal_id", allow_null=True)

    class Meta:
        model = Follow
        fields = ["proposal", "section", "strategy", "following", "automatic", "created_at"]


class NotificationSerializer(serializers.ModelSerializer):
    """`{id, kind, proposal, created_at, read}` as the contract gives it; the rest is added:
    the proposal's code, the comment to jump to, the strategy of a new version and the
    status of a status change."""

    proposal = serializers.IntegerField(source="proposal_id", allow_null=True)
    proposal_code = serializers.SerializerMethodField()
    comment = serializers.IntegerField(source="comment_id", allow_null=True)
    section = serializers.IntegerField(source="section_id", allow_null=True)
    section_code = serializers.SerializerMethodField()
    strategy = serializers.SerializerMethodField()
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "proposal",
            "created_at",
            "read",
            "proposal_code",
            "comment",
            "section",
            "section_code",
            "strategy",
            "status",
        ]

    def get_proposal_code(self, notification: Notification) -> str | None:
        return notification.proposal.code if notification.proposal_id else None

    def get_section_code(self, notification: Notification) -> str | None:
        return notification.section.code if notification.section_id else None

    def get_strategy(self, notification: Notification) -> str | None:
        # A new version names its strategy; a section's comment names the section's.
        if notification.strategy_id:
            return notification.strategy.slug
        return notification.section.strategy.slug if notification.section_id else None

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationReadSerializer(serializers.Serializer):
    """`{ids}`: the notifications to mark read (others' ids are ignored); `{"all": true}`
    marks every one."""

    ids = serializers.ListField(
        # Ids are 64-bit: a larger number is a 400 here, not an overflow in the database.
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        max_length=500,
        required=False,
    )
    all = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("ids" in attrs) == bool(attrs.get("all")):
            raise serializers.ValidationError("Give either ids or all: true.")
        return attrs
