"""factory_boy factories shared by every test package."""

from datetime import timedelta

import factory
from django.conf import settings
from django.utils import timezone

from civic.accounts.models import User
from proposals.models import Proposal, Reaction
from proposals.search.services import search_index_update
from proposals.services import reaction_totals_recount
from strategy.models import Section, Strategy


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"resident{n}@example.org")
    display_name = factory.Sequence(lambda n: f"Resident {n}")
    email_verified = True
    # Accounts made here accepted the terms in force, as a signup through the pages does.
    consented_terms_version = factory.LazyFunction(lambda: settings.CIVIC_TERMS_VERSION)
    consented_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class StrategyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Strategy
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"strategy-{n}")
    code_prefix = "TST"
    status = Strategy.Status.OPEN
    title_ru = factory.Sequence(lambda n: f"Стратегия {n}")
    title_en = factory.Sequence(lambda n: f"Strategy {n}")
    opens_at = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    closes_at = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    strategy = factory.SubFactory(StrategyFactory)
    code = factory.Sequence(lambda n: str(n + 1))
    position = factory.Sequence(lambda n: n)
    title_ru = factory.Sequence(lambda n: f"Раздел {n}")
    title_en = factory.Sequence(lambda n: f"Section {n}")


class ProposalFactory(factory.django.DjangoModelFactory):
    """Rows straight into the table, for read-side tests; writes go through services."""

    class Meta:
        model = Proposal
        skip_postgeneration_save = True

    strategy = factory.SubFactory(StrategyFactory)
    author = factory.SubFactory(UserFactory)
    code = factory.Sequence(lambda n: f"TST-{n + 1:06d}")
    title = factory.Sequence(lambda n: f"Предложение номер {n}")
    body = "Посадить деревья вдоль арыков и починить освещение во дворах."
    search_text = factory.LazyAttribute(lambda p: f"{p.title}\n{p.body}".casefold())
    language = "ru"
    status = Proposal.Status.PUBLISHED
    published_at = factory.LazyAttribute(
        lambda p: timezone.now() if p.status == Proposal.Status.PUBLISHED else None
    )

    @factory.post_generation
    def themes(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            obj.themes.set(extracted)

    @factory.post_generation
    def search_index(obj, create, extracted, **kwargs):  # noqa: N805
        # As proposal_submit does: a search finds what the rows hold.
        if create:
            search_index_update(proposal_ids=[obj.pk])


def reaction_add(*, proposal: Proposal, user: User, kind: str) -> Reaction:
    """A reaction row straight into the table, for read-side tests, with the proposal's
    kept totals recounted as services.reaction_set does (without its checks, follow and
    tally mark)."""
    reaction = Reaction.objects.create(proposal=proposal, user=user, kind=kind)
    reaction_totals_recount(proposal_ids=[proposal.pk])
    return reaction
