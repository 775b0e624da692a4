"""The demo: the Алматы-2050 document, demo accounts and a few hundred proposals.

Everything is written through the same services a resident and a moderator use,
then dated back over the discussion period, so the demo walks the whole loop.
Loading twice changes nothing but the document text and the dates of the
consultation, which always cover today.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from civic.accounts import roles
from civic.accounts.consent import terms_version
from civic.accounts.models import User
from civic.accounts.services import (
    role_grant,
    user_accept_terms,
    user_register,
    user_verify_email,
)
from civic.accounts.tokens import email_token_make
from proposals import demo_data, services
from proposals.answers.services import answer_save
from proposals.models import Answer, Proposal, ProposalEvent, Reaction
from proposals.tallies.services import tally_rebuild
from proposals.versions.services import demo_revise
from strategy.models import District, Section, Strategy, Theme
from strategy.services import strategy_import_files, strategy_schedule, strategy_set_answer_rules

DEMO_PASSWORD = "almaty-2050-demo"  # noqa: S105 - printed for visitors on purpose
DEMO_DIR = Path(settings.BASE_DIR) / "strategy" / "demo"
DEMO_SLUG = "almaty-2050"
STAFF = [
    ("moderator@demo.civic.kz", "Модератор Асель", roles.MODERATOR),
    ("analyst@demo.civic.kz", "Аналитик Ержан", roles.ANALYST),
    ("admin@demo.civic.kz", "Администратор", roles.ADMIN),
    ("responder@demo.civic.kz", "Ответственный секретарь Дана", roles.RESPONDER),
]
# The city's promise for the demo strategy: answer within 60 days, and first whatever
# gathered five supporting reactions.
ANSWER_DEADLINE_DAYS, SUPPORT_THRESHOLD = 60, 5
# Outcomes in the proportions a real summary table shows; about half are answered.
OUTCOME_WEIGHTS = {
    "accepted": 18,
    "accepted_in_part": 22,
    "already_planned": 20,
    "not_accepted": 25,
    "out_of_scope": 15,
}
ANSWERED_SHARE, DRAFT_SHARE = 0.55, 0.05
# How many residents file each hand-written text: campaigns of near-identical
# proposals are part of what moderators and analysts face.
COPIES = (1, 2, 3, 3, 4, 5)
OPENED_DAYS_AGO = 75
CLOSES_IN_DAYS = 290

# A second author adds a line of their own, so copies are near, not exact, duplicates.
ADDENDA = {
    "ru": [
        "Живу в этом районе больше десяти лет и поддерживаю соседей.",
        "Присоединяюсь: у нас та же проблема.",
        "Очень прошу акимат обратить внимание.",
        "Готов участвовать в обсуждении на встрече с жителями.",
    ],
    "kk": [
        "Осы ауданда он жылдан астам тұрамын, көршілерімді қолдаймын.",
        "Қосыламын: бізде де дәл осындай мәселе бар.",
        "Әкімдіктен назар аударуды сұраймын.",
    ],
    "en": [
        "I have lived here for over ten years and support my neighbours.",
        "Adding my voice: we have the same problem.",
        "Please treat this as a priority.",
    ],
}


@dataclass
class DemoSummary:
    strategy: Strategy
    created: bool
    proposals: int
    accounts: list[tuple[str, str]] = field(default_factory=list)


def _account(
    email: str, display_name: str, language: str, district: District | None, password_hash: str
) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = user_register(
            email=email,
            password=DEMO_PASSWORD,
            display_name=display_name,
            district=district,
            language=language,
            password_hash=password_hash,
            accept_terms=True,
        )
    if user.consented_terms_version != terms_version():
        # An account of an earlier load, from before the terms in force.
        user = user_accept_terms(user=user, accept_terms=True)
    if not user.email_verified:
        user = user_verify_email(token=email_token_make(user_id=user.pk, email=user.email))
    return user


def _demo_document(today: date) -> Strategy:
    """The Алматы-2050 document, open so that the consultation covers today."""
    strategy = Strategy.objects.filter(slug=DEMO_SLUG).first()
    if strategy is None or not strategy.versions.filter(number__gt=1).exists():
        # Once revised, the demo keeps its revision: importing the first text
        # again would make it a third version.
        files = sorted(DEMO_DIR.glob(f"{DEMO_SLUG}.*.md"))
        strategy = strategy_import_files(files).strategy
    return strategy_schedule(
        strategy=strategy,
        status=Strategy.Status.OPEN,
        opens_at=today - timedelta(days=OPENED_DAYS_AGO),
        closes_at=today + timedelta(days=CLOSES_IN_DAYS),
    )


@transaction.atomic
def demo_strategy_load(*, today: date | None = None) -> Strategy:
    """Only the document: no accounts, no proposals, nothing anyone can sign in with. Safe on
    a production site that wants a sample document to try the consultation on."""
    return _demo_document(today or timezone.localdate())


def demo_load(*, today: date | None = None, seed: int = 2050) -> DemoSummary:
    today = today or timezone.localdate()
    # Demo accounts and decisions would otherwise mail hundreds of fake addresses.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        with transaction.atomic():
            strategy = _demo_document(today)
            districts = {d.slug: d for d in District.objects.all()}
            # One hash for every demo account: PBKDF2 costs half a second a call.
            password_hash = make_password(DEMO_PASSWORD)
            residents = [
                _account(
                    r["email"],
                    r["display_name"],
                    r["language"],
                    districts.get(r["district"]),
                    password_hash,
                )
                for r in demo_data.DEMO_RESIDENTS
            ]
            staff = []
            for email, name, role in STAFF:
                user = _account(email, name, "ru", None, password_hash)
                role_grant(user=user, role=role)
                staff.append((email, role))
            created = not Proposal.objects.filter(strategy=strategy).exists()
            if created:
                _file_proposals(strategy, residents, today, random.Random(seed))
            strategy = strategy_set_answer_rules(
                strategy=strategy,
                answer_deadline_days=ANSWER_DEADLINE_DAYS,
                support_threshold=SUPPORT_THRESHOLD,
                publish_answers=True,
            )
            responder = User.objects.get(email=STAFF[3][0])
            # Answers come once, also to a demo loaded before answers existed.
            if not Answer.objects.filter(proposal__strategy=strategy).exists():
                _answer_proposals(strategy, responder, random.Random(seed + 1))
            demo_revise(strategy=strategy, responder=responder)
        tally_rebuild(strategy_id=strategy.pk)
    accounts = [*staff, *((r.email, roles.RESIDENT) for r in residents[:3])]
    return DemoSummary(
        strategy=strategy,
        created=created,
        proposals=Proposal.objects.filter(strategy=strategy).count(),
        accounts=accounts,
    )


def _file_proposals(
    strategy: Strategy, residents: list[User], today: date, rng: random.Random
) -> None:
    moderator = User.objects.get(email=STAFF[0][0])
    themes = {t.slug: t for t in Theme.objects.all()}
    districts = {d.slug: d for d in District.objects.all()}
    sections = {s.code: s for s in Section.objects.filter(strategy=strategy)}
    by_language: dict[str, list[User]] = {}
    for resident in residents:
        by_language.setdefault(resident.language, []).append(resident)

    drafts = []
    for base in demo_data.DEMO_PROPOSALS:
        authors = rng.sample(residents, rng.choice(COPIES))
        same_language = by_language.get(base["language"]) or residents
        authors[0] = rng.choice(same_language)
        for copy, author in enumerate(authors):
            body = base["body"]
            if copy:
                body = f"{body}\n\n{rng.choice(ADDENDA[base['language']])}"
            district = base["district"] if not copy else getattr(author.district, "slug", None)
            drafts.append((base, author, body, district))

    start = timezone.make_aware(datetime.combine(today - timedelta(days=OPENED_DAYS_AGO), time(9)))
    span = (timezone.now() - timedelta(hours=2) - start).total_seconds()
    moments = sorted(start + timedelta(seconds=rng.random() * span) for _ in drafts)
    rng.shuffle(drafts)

    published: list[Proposal] = []
    first_of_text: dict[str, Proposal] = {}
    for (base, author, body, district), submitted_at in zip(drafts, moments, strict=True):
        proposal = services.proposal_submit(
            author=author,
            strategy=strategy,
            title=base["title"],
            body=body,
            section=sections.get(base["section"]) if base["section"] else None,
            district=districts.get(district) if district else None,
            themes=[themes[slug] for slug in base["themes"]],
        )
        decided_at = min(
            submitted_at + timedelta(hours=rng.randint(3, 60)),
            timezone.now() - timedelta(minutes=30),
        )
        original = first_of_text.setdefault(base["title"], proposal)
        outcome = _decide(rng, proposal, original, moderator, themes, base)
        if outcome == Proposal.Status.PUBLISHED:
            published.append(proposal)
        _backdate(proposal, submitted_at, decided_at)

    _react(rng, published, residents)


def _decide(
    rng: random.Random,
    proposal: Proposal,
    original: Proposal,
    moderator: User,
    themes: dict[str, Theme],
    base: dict,
) -> str:
    """Walk the proposal through a plausible moderation history; return its final status."""
    roll = rng.random()
    language = base["language"]
    if proposal.pk != original.pk and roll < 0.25 and original.status != Proposal.Status.WITHDRAWN:
        services.proposal_moderate(
            proposal=proposal,
            moderator=moderator,
            decision="reject",
            reason="duplicate",
            duplicate_of=original,
        )
        return Proposal.Status.REJECTED
    if roll < 0.12:
        return Proposal.Status.PENDING
    if roll < 0.20:
        services.proposal_moderate(
            proposal=proposal,
            moderator=moderator,
            decision="reject",
            reason=rng.choice(["off_topic", "not_a_proposal", "other", "personal_data"]),
            note=rng.choice(demo_data.REJECTION_NOTES[language]),
        )
        return Proposal.Status.REJECTED
    if roll < 0.30:
        services.proposal_moderate(
            proposal=proposal,
            moderator=moderator,
            decision="request_changes",
            note=rng.choice(demo_data.MODERATION_NOTES[language]),
        )
        if rng.random() < 0.5:
            return Proposal.Status.CHANGES_REQUESTED
        # The author revises; the moderator then publishes it.
        services.proposal_edit(
            proposal=proposal,
            actor=proposal.author,
            body=f"{proposal.body}\n\n{_revision(language)}",
        )
    elif roll < 0.35:
        services.proposal_withdraw(proposal=proposal, actor=proposal.author)
        return Proposal.Status.WITHDRAWN
    # Moderators confirm or widen the author's themes.
    extra = rng.choice([None, None, rng.choice(list(themes))])
    chosen = [themes[slug] for slug in base["themes"]] + ([themes[extra]] if extra else [])
    services.proposal_moderate(
        proposal=proposal,
        moderator=moderator,
        decision="approve",
        themes=list(dict.fromkeys(chosen)),
    )
    return Proposal.Status.PUBLISHED


def _revision(language: str) -> str:
    return {
        "ru": "Уточнение: речь идёт о дворах между домами 10–16, адрес указан выше.",
        "kk": "Нақтылау: сөз 10–16 үйлер арасындағы аулалар туралы.",
        "en": "Clarification: this concerns the courtyards between buildings 10 and 16.",
    }[language]


def _backdate(proposal: Proposal, submitted_at: datetime, decided_at: datetime) -> None:
    """Spread the demo over the discussion period (demo data only; services stamp `now`)."""
    events = list(proposal.events.order_by("id"))
    step = (decided_at - submitted_at) / max(1, len(events) - 1)
    for index, event in enumerate(events):
        ProposalEvent.objects.filter(pk=event.pk).update(
            at=submitted_at + step * index, notified_at=decided_at
        )
    proposal.refresh_from_db()
    Proposal.objects.filter(pk=proposal.pk).update(
        created_at=submitted_at,
        updated_at=decided_at,
        published_at=decided_at if proposal.published_at else None,
    )


def _answer_proposals(strategy: Strategy, responder: User, rng: random.Random) -> None:
    """The city answers about half of the published proposals, oldest first, in every
    outcome, each some days after publication; a few answers stay drafts."""
    published = list(
        Proposal.objects.filter(strategy=strategy, status=Proposal.Status.PUBLISHED).order_by(
            "published_at", "id"
        )
    )
    outcomes, weights = list(OUTCOME_WEIGHTS), list(OUTCOME_WEIGHTS.values())
    now = timezone.now()
    for proposal in published[: int(len(published) * ANSWERED_SHARE)]:
        outcome = rng.choices(outcomes, weights)[0]
        texts = demo_data.ANSWER_TEXTS[outcome][proposal.language]
        text = rng.choice(texts) or ("" if outcome == "accepted" else texts[0])
        draft = rng.random() < DRAFT_SHARE
        answer_save(
            proposal=proposal,
            responder=responder,
            outcome=outcome,
            text=text,
            publish=not draft,
        )
        answered_at = min(proposal.published_at + timedelta(days=rng.randint(1, 40)), now)
        # Demo data only: services stamp `now`, the demo spreads answers over the weeks.
        Answer.objects.filter(proposal=proposal).update(
            answered_at=None if draft else answered_at,
            updated_at=answered_at,
            notified_at=None if draft else answered_at,
        )
        ProposalEvent.objects.filter(proposal=proposal, action="answer").update(at=answered_at)


def _react(rng: random.Random, published: list[Proposal], residents: list[User]) -> None:
    kinds = Reaction.Kind.values
    weights = [50, 10, 6, 20, 14]
    for proposal in published:
        # A few proposals gather most of the support, as on every such platform.
        audience = rng.sample(residents, min(len(residents), int(rng.paretovariate(1.3) * 2)))
        for resident in audience:
            services.reaction_set(
                proposal=proposal, user=resident, kind=rng.choices(kinds, weights)[0]
            )
