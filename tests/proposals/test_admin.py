import pytest

from proposals.models import ProposalEvent
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db


def test_admin_action_approves_through_the_service(client, admin_user, strategy):
    pending = ProposalFactory.create_batch(2, strategy=strategy, status="pending")
    published = ProposalFactory(strategy=strategy)
    client.force_login(admin_user)
    response = client.post(
        "/admin/proposals/proposal/",
        {"action": "approve", "_selected_action": [p.pk for p in [*pending, published]]},
    )
    assert response.status_code == 302
    for proposal in pending:
        proposal.refresh_from_db()
        assert proposal.status == "published"
    # The one already published could not be approved again and got no audit row.
    assert ProposalEvent.objects.filter(action="approve").count() == 2


def test_proposals_cannot_be_deleted_in_the_admin(client, admin_user, strategy):
    proposal = ProposalFactory(strategy=strategy)
    client.force_login(admin_user)
    assert client.get(f"/admin/proposals/proposal/{proposal.pk}/delete/").status_code == 403
    assert client.get(f"/admin/proposals/proposal/{proposal.pk}/change/").status_code == 200
