from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from civic.accounts.rules import allows
from civic.fields import StrictCharField, StrictPrimaryKeyRelatedField, StrictSlugRelatedField
from proposals.comments.selectors import comment_counts_for
from proposals.models import Answer, Proposal, ProposalEvent, Reaction, Report
from proposals.selectors import reaction_counts_for
from strategy.models import District, Section, Strategy, Theme

REACTION_KINDS = Reaction.Kind.values


class ModerationSerializer(serializers.Serializer):
    decision = serializers.CharField()
    reason = serializers.CharField()
    note = serializers.CharField()
    decided_at = serializers.DateTimeField()


class AnswerSerializer(serializers.Serializer):
    """The city's answer as a proposal carries it; `published` only reaches staff."""

    outcome = serializers.ChoiceField(choices=Answer.Outcome.values)
    text = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    published = serializers.BooleanField(required=False)


class RejectionSerializer(serializers.Serializer):
    reason = serializers.CharField()
    note = serializers.CharField(allow_null=True)
    duplicate_of = serializers.CharField(allow_null=True, help_text="the original's code")


class ProposalSerializer(serializers.ModelSerializer):
    """A proposal as the API shows it. `moderation` only reaches the author and staff."""

    # Left out for other readers: `moderation` but for the author and staff,
    # `suggested_themes` but for staff (apis.document_fields_for_some_readers).
    FOR_SOME_READERS = ("moderation", "suggested_themes")

    strategy = serializers.CharField(source="strategy.slug", read_only=True)
    section = serializers.IntegerField(source="section_id", read_only=True, allow_null=True)
    district = serializers.CharField(source="district.slug", read_only=True, allow_null=True)
    themes = serializers.SerializerMethodField()
    author_name = serializers.CharField(source="author.display_name", read_only=True)
    reactions = serializers.SerializerMethodField()
    comments_count = serializers.SerializerMethodField()
    moderation = serializers.SerializerMethodField()
    suggested_themes = serializers.SerializerMethodField()
    answer = serializers.SerializerMethodField()
    rejection = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = [
            "id",
            "code",
            "strategy",
            "section",
            "title",
            "body",
            "language",
            "district",
            "themes",
            "status",
            "created_at",
            "published_at",
            "author_name",
            "reactions",
            "comments_count",
            "moderation",
            "suggested_themes",
            "answer",
            "rejection",
        ]

    def to_representation(self, proposal: Proposal) -> dict[str, Any]:
        data = super().to_representation(proposal)
        user = self._user()
        if not allows(user, "proposals.view_decision", proposal):
            data.pop("moderation")
        if not allows(user, "proposals.view_suggested_themes", proposal):
            data.pop("suggested_themes")
        return data

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "slug": {"type": "string"},
                    "score": {"type": "number"},
                    "words": {"type": "array", "items": {"type": "string"}},
                    "version": {"type": "string"},
                },
            },
        }
    )
    def get_suggested_themes(self, proposal: Proposal) -> list[dict[str, Any]]:
        return [
            {**theme, "version": proposal.suggestion_version} for theme in proposal.suggested_themes
        ]

    def _user(self) -> Any:
        return getattr(self.context.get("request"), "user", None)

    @extend_schema_field(AnswerSerializer(allow_null=True))
    def get_answer(self, proposal: Proposal) -> dict[str, Any] | None:
        answer = getattr(proposal, "answer", None)
        if answer is None:
            return None
        staff = allows(self._user(), "proposals.view_draft_answer", proposal)
        if not (answer.published or staff):
            return None
        data = {
            "outcome": answer.outcome,
            "text": answer.text,
            "answered_at": serializers.DateTimeField().to_representation(answer.answered_at)
            if answer.answered_at
            else None,
        }
        if staff:
            data["published"] = answer.published
        return data

    @extend_schema_field(RejectionSerializer(allow_null=True))
    def get_rejection(self, proposal: Proposal) -> dict[str, Any] | None:
        """Why a rejected proposal was rejected, where the reason is public (or the
        reader is its author or staff, who see `moderation` anyway)."""
        event = proposal.latest_decision
        if proposal.status != Proposal.Status.REJECTED or event is None:
            return None
        if not allows(self._user(), "proposals.view_rejection", proposal):
            return None
        return {
            "reason": event.reason,
            "note": event.note if event.note_public and event.note else None,
            "duplicate_of": proposal.duplicate_of.code if proposal.duplicate_of_id else None,
        }

    def get_themes(self, proposal: Proposal) -> list[str]:
        # Sorted in Python: the prefetch cache is already loaded, no query.
        return sorted(theme.slug for theme in proposal.themes.all())

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_reactions(self, proposal: Proposal) -> dict[str, int]:
        # Views pass the counts of a whole page (selectors.reaction_counts_for).
        counts = self.context.get("reactions") or {}
        if proposal.pk not in counts:
            counts = reaction_counts_for([proposal])
        return counts[proposal.pk]

    def get_comments_count(self, proposal: Proposal) -> int:
        """Comments neither hidden nor deleted. Counted for the whole page at its first
        proposal (one query per page), kept in the context the page's items share."""
        counts = self.context.setdefault("comment_counts", {})
        if proposal.pk not in counts:
            many = isinstance(self.parent, serializers.ListSerializer)
            page = list(self.parent.instance) if many else [proposal]
            counts.update(comment_counts_for(page))
        return counts.get(proposal.pk, 0)

    @extend_schema_field(ModerationSerializer(allow_null=True))
    def get_moderation(self, proposal: Proposal) -> dict[str, Any] | None:
        event = proposal.latest_decision
        if event is None:
            return None
        return {
            "decision": event.action,
            "reason": event.reason,
            "note": event.note,
            "decided_at": serializers.DateTimeField().to_representation(event.at),
        }


class ProposalListItemSerializer(ProposalSerializer):
    """A proposal in the list, for the schema: proposals.listing renders the same fields
    without DRF, and `highlight` is added to each result of a search."""

    highlight = serializers.CharField(
        required=False,
        help_text="With `q` only: plain text, the matched words between « and »",
    )

    class Meta(ProposalSerializer.Meta):
        fields = [*ProposalSerializer.Meta.fields, "highlight"]


class ProposalSubmitSerializer(serializers.Serializer):
    strategy = StrictSlugRelatedField(
        slug_field="slug", queryset=Strategy.objects.exclude(status=Strategy.Status.DRAFT)
    )
    section = StrictPrimaryKeyRelatedField(
        queryset=Section.objects.all(), required=False, allow_null=True
    )
    # Lengths and characters are checked by the service after trimming; these
    # bounds only stop absurd payloads early.
    title = StrictCharField(trim_whitespace=False, max_length=2000)
    body = StrictCharField(trim_whitespace=False, max_length=100_000)
    district = StrictSlugRelatedField(
        slug_field="slug", queryset=District.objects.all(), required=False, allow_null=True
    )
    themes = StrictSlugRelatedField(
        slug_field="slug", queryset=Theme.objects.all(), many=True, required=False
    )


class ProposalEditSerializer(serializers.Serializer):
    section = StrictPrimaryKeyRelatedField(
        queryset=Section.objects.all(), required=False, allow_null=True
    )
    title = StrictCharField(trim_whitespace=False, max_length=2000, required=False)
    body = StrictCharField(trim_whitespace=False, max_length=100_000, required=False)
    district = StrictSlugRelatedField(
        slug_field="slug", queryset=District.objects.all(), required=False, allow_null=True
    )
    themes = StrictSlugRelatedField(
        slug_field="slug", queryset=Theme.objects.all(), many=True, required=False
    )


class ModerationRequestSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[d.value for d in ProposalEvent.DECISIONS])
    reason = serializers.ChoiceField(
        choices=ProposalEvent.Reason.values, required=False, allow_blank=True
    )
    note = StrictCharField(required=False, allow_blank=True, max_length=5000)
    themes = StrictSlugRelatedField(
        slug_field="slug", queryset=Theme.objects.all(), many=True, required=False
    )
    duplicate_of = StrictPrimaryKeyRelatedField(
        queryset=Proposal.objects.all(), required=False, allow_null=True
    )
    # Not in the v1 contract: the status the moderator saw. When given, a decision
    # on a proposal someone else has moved meanwhile is a 409, not a silent overwrite.
    expected_status = serializers.ChoiceField(choices=Proposal.Status.values, required=False)
    # Additions for public rejections: whether the public sees a rejection for `other`
    # (the other reasons decide it), and whether they see the note with it.
    public = serializers.BooleanField(required=False, allow_null=True, default=None)
    note_public = serializers.BooleanField(required=False, default=False)


class AnswerRequestSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Answer.Outcome.values)
    text = StrictCharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=20_000
    )
    publish = serializers.BooleanField(required=False, allow_null=True, default=None)
    # "" for "not yet answered"; a different current outcome is a 409 answer_changed.
    expected_outcome = serializers.ChoiceField(
        choices=["", *Answer.Outcome.values], required=False, allow_blank=True
    )


class AnswerStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Answer
        fields = ["outcome", "text", "published", "answered_at", "updated_at"]


class HistoryEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = ProposalEvent
        fields = ["at", "actor", "action", "from_status", "to_status", "reason", "note"]

    def get_actor(self, event: ProposalEvent) -> str | None:
        return event.actor.display_name if event.actor else None


class ReactionRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=REACTION_KINDS)


class ReactionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    reactions = serializers.DictField(child=serializers.IntegerField())


class ReportOrderSerializer(serializers.Serializer):
    strategy = StrictCharField(max_length=80)
    format = serializers.ChoiceField(choices=Report.Format.values)
    # Checked by the service against the proposal list's filters, like the list itself.
    filters = serializers.JSONField(required=False)


class ReportSerializer(serializers.ModelSerializer):
    strategy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "status",
            "progress",
            "row_count",
            "created_at",
            "finished_at",
            "error",
            "download_url",
            "format",
            "strategy",
            "filters",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download_url(self, report: Report) -> str | None:
        if report.status != Report.Status.DONE or not report.file:
            return None
        return reverse("report-download", kwargs={"report_id": report.pk})


class SimilarRequestSerializer(serializers.Serializer):
    strategy = StrictSlugRelatedField(
        slug_field="slug", queryset=Strategy.objects.exclude(status=Strategy.Status.DRAFT)
    )
    title = StrictCharField(trim_whitespace=False, max_length=2000, allow_blank=True)
    # NUL is refused by the field itself (DRF's CharField), naming it.
    body = StrictCharField(trim_whitespace=False, max_length=100_000)


class SimilarProposalSerializer(serializers.Serializer):
    """A proposal nearly the same as another text; `similarity` is the estimated share
    (0 to 1) of the two texts' five-letter pieces they have in common."""

    id = serializers.IntegerField(source="proposal.pk")
    code = serializers.CharField(source="proposal.code")
    title = serializers.CharField(source="proposal.title")
    status = serializers.CharField(source="proposal.status")
    similarity = serializers.FloatField()
    url = serializers.SerializerMethodField()

    def get_url(self, similar: Any) -> str:
        return reverse("proposal-detail", kwargs={"proposal_id": similar.proposal.pk})


class GroupMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = Proposal
        fields = ["id", "code", "title", "status", "language"]


class DuplicateGroupSerializer(serializers.Serializer):
    """A group of near-identical proposals: `id` is its first proposal's id, `size` counts
    every member, `proposals` shows the first few of them."""

    id = serializers.IntegerField(source="label")
    size = serializers.IntegerField()
    statuses = serializers.DictField(child=serializers.IntegerField())
    proposals = GroupMemberSerializer(many=True)
