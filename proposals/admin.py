from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from civic.errors import DomainError
from proposals import services
from proposals.models import Proposal, ProposalEvent, Tally
from proposals.tallies.services import tally_rebuild


class ProposalEventInline(admin.TabularInline):
    model = ProposalEvent
    fk_name = "proposal"
    fields = ["at", "actor", "action", "from_status", "to_status", "reason", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _decide(request: HttpRequest, queryset: QuerySet[Proposal], **decision: str) -> None:
    done = 0
    for proposal in queryset:
        try:
            services.proposal_moderate(proposal=proposal, moderator=request.user, **decision)
            done += 1
        except DomainError as exc:
            messages.warning(request, f"{proposal.code}: {exc.message}")
    messages.info(request, f"{done} of {len(queryset)} decided.")


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    """Read-only: every change goes through the moderation services (the actions)."""

    list_display = ["code", "title", "status", "language", "district", "created_at"]
    list_filter = ["status", "language", "strategy", "district", "themes"]
    search_fields = ["code", "title"]
    date_hierarchy = "created_at"
    inlines = [ProposalEventInline]
    actions = ["approve", "reject_as_spam", "reject_as_off_topic"]
    readonly_fields = [
        "code",
        "strategy",
        "section",
        "author",
        "title",
        "body",
        "language",
        "district",
        "themes",
        "status",
        "duplicate_of",
        "created_at",
        "published_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # nothing accepted is ever lost

    @admin.action(description="Approve (publish)", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Proposal]) -> None:
        _decide(request, queryset, decision="approve")

    @admin.action(description="Reject as spam", permissions=["change"])
    def reject_as_spam(self, request: HttpRequest, queryset: QuerySet[Proposal]) -> None:
        _decide(request, queryset, decision="reject", reason="spam")

    @admin.action(description="Reject as off topic", permissions=["change"])
    def reject_as_off_topic(self, request: HttpRequest, queryset: QuerySet[Proposal]) -> None:
        _decide(request, queryset, decision="reject", reason="off_topic")


@admin.register(Tally)
class TallyAdmin(admin.ModelAdmin):
    list_display = ["strategy", "generated_at", "dirty_version", "built_version", "rebuild_count"]
    readonly_fields = [
        "strategy",
        "generated_at",
        "dirty_version",
        "built_version",
        "rebuild_count",
        "data",
    ]
    actions = ["rebuild"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Rebuild now from the rows")
    def rebuild(self, request: HttpRequest, queryset: QuerySet[Tally]) -> None:
        for tally in queryset:
            tally_rebuild(strategy_id=tally.strategy_id)
        messages.info(request, f"{len(queryset)} rebuilt.")
