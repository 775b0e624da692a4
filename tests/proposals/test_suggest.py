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


def test_suggest_themes_names_a_bad_line(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"text": "ok"}\nnot json\n'))
    with pytest.raises(CommandError, match="line 2"):
        call_command("suggest_themes", stdout=io.StringIO())


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
