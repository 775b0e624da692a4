"""The theme suggester in Russian, Kazakh and English, and its two commands."""

import io
import json
import re
import sys

import pytest
from django.core.management import CommandError, call_command

from frontend.views.moderation import SUGGESTION_PREFILL
from proposals.suggest.stemming import kazakh_key, kazakh_prefixes
from proposals.suggest.suggester import FALLBACK_THEME, default_suggester


@pytest.fixture(autouse=True)
def _no_model_from_another_test():
    # Loaded models are cached by version, and versions restart with each test's database.
    from proposals.suggest.training import _loaded

    _loaded.cache_clear()


def _best(text: str) -> str | None:
    themes = default_suggester().suggest(text).themes
    return themes[0].slug if themes else None


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        # Inflected forms residents write, in the three languages.
        ("Автобусы по дорогам ходят раз в час, на остановках холодно", "transport"),
        ("Жолдарды жөндеу керек, аялдамаларда көлігі жоқ", "transport"),
        ("Mor buses and bike lanes on Abay please", "transport"),
        ("Во дворах нет горячей воды, КСК не отвечает", "housing_utilities"),
        ("Мектептерге орын жетпейді, балабақшаға кезек үлкен", "education"),
        ("the clinic has no doctors on weekends and the ambulance takes an hour", "health"),
        ("Зейнеткерлерге жеңілдік керек, пандус жоқ", "social"),
        ("Смог зимой невозможный, уберите угольные котельные и посадите деревья", "ecology"),
        # Kazakh typed on a Russian keyboard (к for қ, о for ө).
        ("коликтер коп, жолдарда кептелис", "transport"),
        # Mixed Russian and Kazakh.
        ("Акимат должен отчитываться, әкімдік бюджетті жарияласын", "governance"),
    ],
)
def test_the_best_theme_in_every_language(text, theme):
    assert _best(text) == theme


def test_a_suggestion_says_which_words_drove_it():
    suggestion = default_suggester().suggest("Жолдарды жөндеу керек, көлігі көп")
    assert suggestion.language == "kk"
    transport = next(t for t in suggestion.themes if t.slug == "transport")
    assert {"жолдарды", "көлігі"} <= set(transport.words)
    assert suggestion.version


def test_scores_are_shares_best_first():
    themes = default_suggester().suggest("Автобусы и светофоры, а еще камеры и полиция").themes
    scores = [theme.score for theme in themes]
    assert scores == sorted(scores, reverse=True)
    assert 0 < sum(scores) <= 1.0001


def test_a_text_about_nothing_still_gets_a_best_guess_no_one_would_pre_tick():
    [guess] = default_suggester().suggest("Здравствуйте, спасибо!").themes
    assert guess.slug == FALLBACK_THEME
    assert guess.score == round(1 / 12, 3)
    assert guess.words == ()
    assert guess.score < SUGGESTION_PREFILL


def test_kazakh_keys_meet_their_inflected_forms():
    assert kazakh_key("көлік") in kazakh_prefixes("көлігі")
    assert kazakh_key("жол") in kazakh_prefixes("жолдарды")
    assert kazakh_key("мектеп") in kazakh_prefixes("мектептерге")


@pytest.mark.django_db
def test_suggest_themes_reads_and_writes_json_lines(monkeypatch):
    lines = [
        {"text": "Автобусы ходят редко"},
        {"text": "Жолдарды жөндеу керек"},
        {"text": "more trees in the parks"},
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(json.dumps(x) for x in lines)))
    out = io.StringIO()
    call_command("suggest_themes", stdout=out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [a["language"] for a in answers] == ["ru", "kk", "en"]
    assert [a["themes"][0]["slug"] for a in answers] == ["transport", "transport", "ecology"]
    assert set(answers[0]["themes"][0]) == {"slug", "score"}


@pytest.mark.django_db
def test_suggest_themes_names_a_bad_line(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"text": "ok"}\nnot json\n'))
    with pytest.raises(CommandError, match="line 2"):
        call_command("suggest_themes", stdout=io.StringIO())


@pytest.mark.django_db
def test_evaluate_suggester_prints_accuracy_per_language(tmp_path):
    (tmp_path / "ru.jsonl").write_text(
        json.dumps({"text": "Автобусы ходят редко", "themes": ["transport"]}, ensure_ascii=False)
        + "\n"
        + json.dumps({"text": "Нет горячей воды", "themes": ["housing_utilities"]})
        + "\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    call_command("evaluate_suggester", folder=str(tmp_path), stdout=out)
    report = out.getvalue()
    assert "ru: 2 texts, top-1 accuracy 100.0%" in report
    assert "transport" in report and "housing_utilities" in report


# --- suggestions stored on proposals ---------------------------------------------------------


@pytest.fixture
def submitted(strategy, resident, django_capture_on_commit_callbacks):
    from proposals.services import proposal_submit
    from strategy.models import Theme

    with django_capture_on_commit_callbacks(execute=True):
        return proposal_submit(
            author=resident,
            strategy=strategy,
            title="Автобусы ходят раз в час",
            body="На остановках по Райымбека автобусы ждать по сорок минут, нужны новые маршруты.",
            themes=[Theme.objects.get(slug="ecology")],
        )


@pytest.mark.django_db
def test_a_submission_gets_suggestions_kept_apart_from_its_themes(submitted):
    submitted.refresh_from_db()
    assert submitted.author_themes == ["ecology"]
    assert list(submitted.themes.values_list("slug", flat=True)) == ["ecology"]
    assert submitted.suggested_themes[0]["slug"] == "transport"
    assert submitted.suggested_themes[0]["words"]
    assert submitted.suggestion_version


@pytest.mark.django_db
def test_staff_see_suggestions_in_the_api_and_authors_do_not(submitted, moderator, resident):
    from tests.conftest import client_for

    staff = client_for(moderator).get(f"/api/v1/proposals/{submitted.pk}/").json()
    assert staff["suggested_themes"][0]["slug"] == "transport"
    assert staff["suggested_themes"][0]["version"]
    own = client_for(resident).get(f"/api/v1/proposals/{submitted.pk}/").json()
    assert "suggested_themes" not in own


@pytest.mark.django_db
def test_the_decide_page_ticks_the_suggested_theme_beside_the_authors(client, submitted, moderator):
    client.force_login(moderator)
    page = client.get(f"/ru/moderation/{submitted.pk}/").content.decode()
    ticked = {
        value
        for value, rest in re.findall(
            r'<input type="checkbox" name="themes" value="([a-z_]+)"([^>]*)>', page
        )
        if "checked" in rest
    }
    assert ticked == {"ecology", "transport"}


@pytest.mark.django_db
def test_the_sweep_suggests_for_proposals_whose_message_was_lost(submitted):
    from proposals.models import Proposal
    from proposals.suggest.tasks import suggestion_sweep

    Proposal.objects.filter(pk=submitted.pk).update(suggested_themes=[], suggestion_version="")
    assert suggestion_sweep() == 1
    submitted.refresh_from_db()
    assert submitted.suggestion_version and submitted.suggested_themes


# --- learning from moderators ----------------------------------------------------------------


def _confirmed(strategy, author, moderator, title: str, body: str, theme: str):
    from proposals.services import proposal_moderate, proposal_submit
    from strategy.models import Theme

    proposal = proposal_submit(author=author, strategy=strategy, title=title, body=body)
    return proposal_moderate(
        proposal=proposal,
        moderator=moderator,
        decision="approve",
        themes=[Theme.objects.get(slug=theme)],
    )


# A word no vocabulary holds ("тарантас", an old word for a carriage): only the moderators'
# confirmed themes can teach what it is about.
_TAUGHT = [
    ("Тарантасы на Абая", "Тарантасы стоят на Абая весь день, ни пройти ни проехать."),
    ("Убрать тарантасы", "Каждый тарантас у школы мешает детям, уберите их с улицы."),
    ("Тарантас у парка", "Тарантасами заставлен въезд у парка, нужен порядок на улице."),
]


@pytest.mark.django_db
def test_without_a_learned_model_the_vocabulary_suggests():
    from proposals.suggest.training import current_suggester

    assert current_suggester().version == "vocabulary-1"


def _published(strategy, texts: list[str], theme: str, start: int = 0, **kwargs) -> None:
    """Confirmed proposals straight into the table, one minute apart in confirmation."""
    from datetime import timedelta

    from django.utils import timezone

    from strategy.models import Theme
    from tests.factories import ProposalFactory

    base = timezone.now() - timedelta(days=30)
    slug = Theme.objects.get(slug=theme)
    for n, text in enumerate(texts, start=start):
        ProposalFactory(
            strategy=strategy,
            title=text[:60],
            body=text,
            published_at=base + timedelta(minutes=n),
            themes=[slug],
            **kwargs,
        )


def _carriages(count: int, start: int = 0) -> list[str]:
    return [
        f"Тарантас номер {n} опять стоит во дворе дома {n + 7}, просим убрать."
        for n in range(start, start + count)
    ]


def _smog(count: int, start: int = 0) -> list[str]:
    return [
        f"Смог над городом, котельная номер {n} дымит углём, дышать нечем."
        for n in range(start, start + count)
    ]


@pytest.mark.django_db
def test_retraining_learns_a_word_from_confirmed_themes_and_versions_the_model(
    strategy, resident, moderator
):
    from proposals.models import Proposal, SuggesterModel
    from proposals.suggest.services import proposal_suggestions_save
    from proposals.suggest.training import current_suggester, suggester_retrain

    before = default_suggester().suggest("Опять тарантасы!").themes
    assert [t.words for t in before] == [()]  # a guess: the vocabulary knows no such word
    for title, body in _TAUGHT:
        _confirmed(strategy, resident, moderator, title, body, "safety")
    _confirmed(strategy, resident, moderator, "Смог зимой", BODY_TEXT, "ecology")

    model = suggester_retrain(force=True)
    assert model is not None and model.trained_on == 4
    assert model.accuracy["texts"] == {"training": 3, "held_out": 1}
    # Too few of the city's proposals to judge: the written texts were the floor, and
    # four proposals cannot make them worse.
    assert set(model.accuracy["written"]) == {"ru", "kk", "en"}
    assert model.active and model.weights
    assert SuggesterModel.objects.filter(active=True).count() == 1
    assert model.learned["languages"] == {"ru": 4}

    # The classifier learned the word; four texts are too few to outweigh the vocabulary's
    # guess yet (that is the blend's job), but they are what it learned.
    suggester = current_suggester()
    suggestion = suggester.suggest("Опять тарантасы!")
    assert suggestion.version == model.version
    [probabilities] = suggester.classifier.probabilities(["Опять тарантасы!"])
    learned = dict(zip(suggester.classifier.themes, probabilities, strict=True))
    assert max(learned, key=learned.get) == "safety"
    assert "тарантасы" in suggester.classifier.words_for("Опять тарантасы!", "safety")

    # Every suggestion stored on a proposal names the model that made it.
    proposal = Proposal.objects.order_by("id").first()
    proposal_suggestions_save(proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.suggestion_version == model.version


@pytest.mark.django_db
def test_learning_is_from_confirmed_themes_only(strategy):
    """Only published proposals teach, with the themes a moderator confirmed: not what
    the author chose, not what the suggester proposed, not pending or rejected ones."""
    from proposals.models import Proposal
    from proposals.suggest.training import confirmed_examples

    _published(
        strategy,
        _carriages(2),
        "safety",
        author_themes=["culture"],
        suggested_themes=[{"slug": "education", "score": 0.9, "words": []}],
    )
    for status in (Proposal.Status.PENDING, Proposal.Status.REJECTED):
        _published(strategy, _carriages(2, start=10), "ecology", status=status)
    examples = confirmed_examples()
    assert [themes for _, _, themes in examples] == [["safety"], ["safety"]]


@pytest.mark.django_db
def test_a_campaign_teaches_once(strategy, resident, moderator):
    from proposals.suggest.training import confirmed_examples

    for _ in range(3):
        _confirmed(strategy, resident, moderator, *_TAUGHT[0], "safety")
    # The copies are one text.
    assert len(confirmed_examples()) == 1


@pytest.mark.django_db
def test_retraining_waits_for_enough_new_confirmations(strategy, resident, moderator):
    from proposals.suggest.tasks import suggester_retrain as retrain_task
    from proposals.suggest.training import suggester_retrain

    _confirmed(strategy, resident, moderator, *_TAUGHT[0], "safety")
    assert suggester_retrain() is None
    assert retrain_task() is None


@pytest.fixture
def judged_on_few(monkeypatch):
    """Judge on held-out proposals from 5 per language, and let the model count fully."""
    from proposals.suggest import training

    monkeypatch.setattr(training, "MIN_JUDGED", 5)
    monkeypatch.setattr(training, "BLEND_HALF", 1)
    monkeypatch.setattr(training, "BLEND_CHOICES", (1,))


@pytest.mark.django_db
def test_a_model_worse_than_the_vocabulary_on_the_newest_proposals_is_kept_inactive(
    strategy, judged_on_few
):
    from proposals.models import SuggesterModel
    from proposals.suggest import training

    # Older proposals taught smog as culture; the newest say what it is.
    _published(strategy, _carriages(5), "safety")
    _published(strategy, _smog(35, start=5), "culture", start=5)
    _published(strategy, _smog(10, start=40), "ecology", start=40)
    model = training.suggester_retrain(force=True)
    assert model is not None and not model.active
    held = model.accuracy["held_out"]["ru"]
    assert held["texts"] == 10
    assert held["model"] < held["vocabulary"] == 1.0
    assert not SuggesterModel.objects.filter(active=True).exists()
    assert training.current_suggester().version == "vocabulary-1"


@pytest.mark.django_db
def test_a_new_model_must_also_beat_the_one_in_use_on_what_it_never_saw(strategy, judged_on_few):
    from proposals.models import SuggesterModel
    from proposals.suggest import training

    _published(strategy, _carriages(20), "safety")
    _published(strategy, _smog(20, start=20), "ecology", start=20)
    in_use = training.suggester_retrain(force=True)
    assert in_use.active
    # Then a run of carriages filed under culture, and the newest back under safety: a
    # candidate trained on the culture run gets the newest wrong, the model in use right.
    _published(strategy, _carriages(60, start=100), "culture", start=100)
    _published(strategy, _carriages(25, start=200), "safety", start=200)
    challenger = training.suggester_retrain(force=True)
    assert challenger is not None and not challenger.active
    held = challenger.accuracy["held_out"]["ru"]
    assert held["unseen_by_model_in_use"] == held["texts"] == 25
    assert held["model_on_unseen"] < held["in_use_on_unseen"]
    assert held["model"] >= held["vocabulary"]  # it was the model in use that it lost to
    assert SuggesterModel.objects.get(active=True).pk == in_use.pk


@pytest.mark.django_db
def test_a_model_kept_inactive_is_not_trained_again_on_the_same_proposals(
    strategy, judged_on_few, settings
):
    from proposals.models import SuggesterModel
    from proposals.suggest import training

    settings.CIVIC_SUGGESTER_RETRAIN_AFTER = 2
    _published(strategy, _carriages(5), "safety")
    _published(strategy, _smog(35, start=5), "culture", start=5)
    _published(strategy, _smog(10, start=40), "ecology", start=40)
    first = training.suggester_retrain()
    assert first is not None and not first.active
    # Nothing new confirmed since: the next runs leave it at that.
    assert training.suggester_retrain() is None
    assert SuggesterModel.objects.count() == 1


@pytest.mark.django_db
def test_train_suggester_prints_the_figures(strategy, judged_on_few):
    _published(strategy, _carriages(20), "safety")
    _published(strategy, _smog(20, start=20), "ecology", start=20)
    out = io.StringIO()
    call_command("train_suggester", "--force", stdout=out)
    text = out.getvalue()
    assert re.search(
        r"learned-1-\d{8}-\d{6}: 40 published proposals, 40 distinct texts "
        r"\(8 newest held out to judge it\), active",
        text,
    ), text
    assert re.search(
        r"ru: top-1 \d+\.\d% on 8 held-out proposals \(vocabulary alone \d+\.\d%, "
        r"always one theme \d+\.\d%\)",
        text,
    ), text
    assert re.search(r"kk: too few held-out proposals to judge; on the written", text)
    out = io.StringIO()
    call_command("train_suggester", stdout=out)
    assert "nothing done" in out.getvalue()


@pytest.mark.django_db
def test_a_stored_model_suggests_as_it_did_when_trained(strategy):
    """The weights go through the database and back: the same scores, no pickle."""
    from sklearn.feature_extraction.text import HashingVectorizer

    from proposals.suggest import training
    from proposals.suggest.classifier import _HASHER, FEATURES, word_feature

    _published(strategy, _carriages(6), "safety")
    _published(strategy, _smog(6, start=6), "ecology", start=6)
    model = training.suggester_retrain(force=True)
    assert model.active
    training._loaded.cache_clear()
    loaded = training.current_suggester()
    fresh = training.LearnedSuggester(training.fit(training.confirmed_examples()), model.version)
    texts = ["Тарантас во дворе", "Дым от котельной", "Здравствуйте"]
    assert loaded.suggest_many(texts) == fresh.suggest_many(texts)
    # The words behind a learned theme come from the vectorizer's own columns.
    alone = HashingVectorizer(
        analyzer=lambda text: [text], n_features=FEATURES, alternate_sign=False, norm=None
    )
    assert alone.transform(["w тарантас"]).indices.tolist() == [word_feature("тарантас")]
    assert word_feature("тарантас") in _HASHER.transform(["тарантас"]).indices


@pytest.mark.django_db
def test_proposals_from_before_provenance_get_their_authors_themes_back(
    strategy, resident, moderator
):
    """The data migration: themes before the first decision that changed them are the
    author's; without such a decision, the current themes are."""
    import importlib

    from django.apps import apps

    from proposals.models import Proposal
    from proposals.services import proposal_moderate, proposal_submit
    from strategy.models import Theme

    backfill = importlib.import_module("proposals.migrations.0008_backfill_author_themes").backfill
    ecology, transport = Theme.objects.get(slug="ecology"), Theme.objects.get(slug="transport")
    changed = proposal_submit(
        author=resident, strategy=strategy, title="Смог зимой", body=BODY_TEXT, themes=[ecology]
    )
    proposal_moderate(proposal=changed, moderator=moderator, decision="approve", themes=[transport])
    kept = proposal_submit(
        author=resident, strategy=strategy, title="Смог летом", body=BODY_TEXT, themes=[ecology]
    )
    none = proposal_submit(author=resident, strategy=strategy, title="Без тем", body=BODY_TEXT)
    Proposal.objects.update(author_themes=[])

    backfill(apps, None)

    assert Proposal.objects.get(pk=changed.pk).author_themes == ["ecology"]
    assert Proposal.objects.get(pk=kept.pk).author_themes == ["ecology"]
    assert Proposal.objects.get(pk=none.pk).author_themes == []


BODY_TEXT = "Переведите частный сектор с угля на газ, дышать зимой совсем нечем."


@pytest.mark.django_db
def test_reading_the_model_in_use_does_not_spoil_a_callers_transaction(monkeypatch):
    """A database without the table (not migrated yet) answers with an error: inside a
    caller's transaction, PostgreSQL would refuse every later query without a savepoint."""
    from django.db import connection, transaction

    from proposals.models import Proposal, SuggesterModel
    from proposals.suggest import training

    class Missing(type(SuggesterModel.objects)):
        def filter(self, *args, **kwargs):
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table")
            raise AssertionError("unreachable")

    manager = Missing()
    manager.model = SuggesterModel
    monkeypatch.setattr(SuggesterModel, "objects", manager)
    with transaction.atomic():
        assert training.current_suggester().version == "vocabulary-1"
        assert Proposal.objects.count() == 0  # the transaction still works


@pytest.mark.django_db
def test_approvals_retrain_in_the_embedded_default(
    strategy, resident, moderator, settings, django_capture_on_commit_callbacks
):
    """Without a worker or beat (SQLite, tasks run in process), the approval that makes
    enough proposals newly confirmed trains the next model."""
    from proposals.models import SuggesterModel

    settings.CIVIC_SUGGESTER_RETRAIN_AFTER = 4
    bodies = _carriages(2) + _smog(2, start=2)
    themes = ["safety", "safety", "ecology", "ecology"]
    for n, (body, theme) in enumerate(zip(bodies, themes, strict=True)):
        with django_capture_on_commit_callbacks(execute=True):
            _confirmed(strategy, resident, moderator, f"Заявка номер {n}", body, theme)
        assert SuggesterModel.objects.count() == (1 if n == 3 else 0)
    assert SuggesterModel.objects.get().trained_on == 4


@pytest.mark.django_db
def test_a_language_with_few_proposals_keeps_the_written_texts_as_its_floor(
    strategy, judged_on_few
):
    """Ten Kazakh proposals are too few to judge Kazakh on: the written Kazakh texts are,
    and a model that learned the wrong theme for roads falls below them."""
    from proposals.models import Proposal
    from proposals.suggest import training

    kazakh = [f"Жолдар бұзылған, көлік көп, аялдама жоқ, {n}-үйдің жанында." for n in range(4)]
    _published(strategy, kazakh, "culture", language="kk")
    _published(strategy, _carriages(20, start=10), "safety", start=10)
    assert Proposal.objects.filter(language="kk").count() == 4
    model = training.suggester_retrain(force=True)
    assert model is not None and not model.active
    written = model.accuracy["written"]["kk"]
    assert written["model"] < written["vocabulary"] - training.TOLERANCE
    assert "kk" not in model.accuracy["held_out"]


def test_one_russian_word_that_begins_like_a_kazakh_key_is_not_taken_for_kazakh():
    """«количество» begins like the key of «көлік» (transport): alone, in a text with no
    Kazakh letter, it is a Russian word; Kazakh typed on a Russian keyboard has several."""
    guess = default_suggester().suggest("Большое количество людей у здания").themes
    assert [t.words for t in guess] == [()]  # no evidence: the best guess, not transport
    assert _best("Большое количество мусора во дворе") != "transport"
    assert _best("коликтер коп, жолдарда кептелис") == "transport"
