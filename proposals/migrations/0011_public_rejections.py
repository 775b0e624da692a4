"""Rejections for a duplicate, off topic or not a proposal become public; notes stay private
(no moderator chose to publish them when they were written)."""

from django.db import migrations

PUBLIC_REASONS = ("duplicate", "off_topic", "not_a_proposal")


def publish_harmless_rejections(apps, schema_editor):
    Proposal = apps.get_model("proposals", "Proposal")
    ProposalEvent = apps.get_model("proposals", "ProposalEvent")
    ProposalEvent.objects.filter(action="reject", reason__in=PUBLIC_REASONS).update(public=True)
    Proposal.objects.filter(
        status="rejected",
        latest_decision__action="reject",
        latest_decision__reason__in=PUBLIC_REASONS,
    ).update(rejection_public=True)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0010_answers")]
    operations = [migrations.RunPython(publish_harmless_rejections, migrations.RunPython.noop)]
