"""Proposals made before theme provenance was stored get their author's themes back.

The author's themes are the ones before the first decision that changed themes (an event's
`changes["themes"]["from"]`), or, when no decision changed them, the current ones.
"""

from django.db import migrations


def backfill(apps, schema_editor):
    Proposal = apps.get_model("proposals", "Proposal")
    ProposalEvent = apps.get_model("proposals", "ProposalEvent")
    Through = Proposal.themes.through
    last = 0
    while True:
        ids = list(
            Proposal.objects.filter(author_themes=[], id__gt=last)
            .order_by("id")
            .values_list("id", flat=True)[:2000]
        )
        if not ids:
            return
        last = ids[-1]
        current: dict[int, list[str]] = {}
        for proposal_id, slug in Through.objects.filter(proposal_id__in=ids).values_list(
            "proposal_id", "theme__slug"
        ):
            current.setdefault(proposal_id, []).append(slug)
        before: dict[int, list[str]] = {}
        for proposal_id, changes in (
            ProposalEvent.objects.filter(proposal_id__in=ids)
            .exclude(action__in=["submit", "edit", "withdraw"])
            .order_by("at", "id")
            .values_list("proposal_id", "changes")
        ):
            themes = (changes or {}).get("themes")
            if proposal_id not in before and themes:
                before[proposal_id] = themes.get("from", [])
        for proposal_id in ids:
            themes = before.get(proposal_id, current.get(proposal_id, []))
            if themes:
                Proposal.objects.filter(pk=proposal_id).update(author_themes=sorted(themes))


class Migration(migrations.Migration):
    dependencies = [("proposals", "0007_suggester_models")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
