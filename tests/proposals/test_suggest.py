"""The theme suggester in Russian, Kazakh and English, and its two commands."""

import io
import json
import re
import sys

import pytest
from django.core.management import CommandError, call_command

from proposals.suggest.stemming import kazakh_key, kazakh_prefixes
from proposals.suggest.suggester import default_suggester


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


def test_a_text_about_nothing_gets_no_suggestion():
    assert default_suggester().suggest("Здравствуйте, спасибо!").themes == []


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
    from proposals.tasks import suggestion_sweep

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


@pytest.mark.django_db
def test_retraining_learns_a_word_from_confirmed_themes_and_versions_the_model(
    strategy, resident, moderator
):
    from proposals.models import Proposal, SuggesterModel
    from proposals.services import proposal_suggestions_save
    from proposals.suggest.training import current_suggester, suggester_retrain

    before = default_suggester().suggest("Опять тарантасы!").themes
    assert [t.slug for t in before] == []
    for title, body in _TAUGHT:
        _confirmed(strategy, resident, moderator, title, body, "safety")

    model = suggester_retrain(force=True)
    assert model is not None and model.trained_on == 3
    assert set(model.accuracy) == {"model", "vocabulary"}
    assert set(model.accuracy["model"]) == {"ru", "kk", "en"}
    # Three proposals cannot make it worse on the evaluation texts, so it is in use.
    assert model.active
    assert SuggesterModel.objects.filter(active=True).count() == 1
    assert "safety" in model.learned["ru"]["тарантас"]

    suggestion = current_suggester().suggest("Опять тарантасы!")
    assert suggestion.version == model.version
    assert suggestion.themes[0].slug == "safety"
    assert "тарантасы" in suggestion.themes[0].words

    # Every suggestion stored on a proposal names the model that made it.
    proposal = Proposal.objects.order_by("id").first()
    proposal_suggestions_save(proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.suggestion_version == model.version


@pytest.mark.django_db
def test_a_campaign_teaches_once(strategy, resident, moderator):
    from proposals.suggest.training import confirmed_examples

    for _ in range(3):
        _confirmed(strategy, resident, moderator, *_TAUGHT[0], "safety")
    # The copies are one text: not enough texts to learn "тарантас" from.
    assert len(list(confirmed_examples())) == 1


@pytest.mark.django_db
def test_retraining_waits_for_enough_new_confirmations(strategy, resident, moderator):
    from proposals.suggest.training import suggester_retrain
    from proposals.tasks import suggester_retrain as retrain_task

    _confirmed(strategy, resident, moderator, *_TAUGHT[0], "safety")
    assert suggester_retrain() is None
    assert retrain_task() is None


@pytest.mark.django_db
def test_a_model_less_accurate_than_the_vocabulary_is_kept_inactive(
    strategy, resident, moderator, monkeypatch
):
    from proposals.models import SuggesterModel
    from proposals.suggest import training

    # Teach common words the wrong theme, strongly: the evaluation texts then suffer.
    monkeypatch.setattr(training, "LEARNED_WEIGHT", 50.0)
    bodies = [
        "Автобусы и дороги, остановки и маршруты в городе, транспорт и пробки.",
        "Дороги разбиты, автобусы ходят редко, на остановках нет расписания.",
        "Маршруты автобусов и светофоры на дорогах надо менять, пробки везде.",
    ]
    for n, body in enumerate(bodies):
        _confirmed(strategy, resident, moderator, f"Про город {n}", body, "culture")
    model = training.suggester_retrain(force=True)
    assert model is not None and not model.active
    assert sum(model.accuracy["model"].values()) < sum(model.accuracy["vocabulary"].values())
    assert not SuggesterModel.objects.filter(active=True).exists()
    assert training.current_suggester().version == "vocabulary-1"


@pytest.mark.django_db
def test_train_suggester_prints_the_figures(strategy, resident, moderator):
    for title, body in _TAUGHT:
        _confirmed(strategy, resident, moderator, title, body, "safety")
    out = io.StringIO()
    call_command("train_suggester", "--force", stdout=out)
    text = out.getvalue()
    assert re.search(
        r"learned-1-\d{8}-\d{6}: 3 published proposals, \d+ learned keys, active", text
    )
    assert re.search(r"ru: top-1 \d+\.\d% \(vocabulary alone \d+\.\d%\)", text)
    out = io.StringIO()
    call_command("train_suggester", stdout=out)
    assert "nothing done" in out.getvalue()


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
def test_a_model_kept_inactive_is_not_trained_again_on_the_same_proposals(
    strategy, resident, moderator, monkeypatch
):
    from proposals.models import SuggesterModel
    from proposals.suggest import training

    monkeypatch.setattr(training, "RETRAIN_AFTER", 2)
    monkeypatch.setattr(training, "LEARNED_WEIGHT", 50.0)  # a model worse than the vocabulary
    bodies = [
        "Автобусы и дороги, остановки и маршруты в городе, транспорт и пробки.",
        "Дороги разбиты, автобусы ходят редко, на остановках нет расписания.",
        "Маршруты автобусов и светофоры на дорогах надо менять, пробки везде.",
    ]
    for n, body in enumerate(bodies):
        _confirmed(strategy, resident, moderator, f"Город {n}", body, "culture")
    first = training.suggester_retrain()
    assert first is not None and not first.active
    # Nothing new confirmed since: the next runs leave it at that.
    assert training.suggester_retrain() is None
    assert SuggesterModel.objects.count() == 1


@pytest.mark.django_db
def test_a_new_model_must_also_beat_the_one_in_use(strategy, resident, moderator):
    from proposals.models import SuggesterModel
    from proposals.suggest import training

    for title, body in _TAUGHT:
        _confirmed(strategy, resident, moderator, title, body, "safety")
    in_use = training.suggester_retrain(force=True)
    assert in_use.active
    # Pretend the model in use scored higher than anything can.
    SuggesterModel.objects.filter(pk=in_use.pk).update(
        accuracy={"model": {"ru": 1.0, "kk": 1.0, "en": 1.0}, "vocabulary": {}}
    )
    challenger = training.suggester_retrain(force=True)
    assert challenger is not None and not challenger.active
    assert SuggesterModel.objects.get(active=True).pk == in_use.pk


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
