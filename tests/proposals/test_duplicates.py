"""Near-duplicates: fingerprints, groups kept up to date, the selectors and the API.

A campaign text is sent by several residents in Russian, Kazakh and English, each copy a
little different (a word changed, a sentence added, other punctuation and case, a typo):
every copy must land in the one group of its campaign, and unrelated texts on the same
topic must stay apart.
"""

import io
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from civic.accounts.models import User
from proposals.duplicates import fingerprint as fp
from proposals.duplicates import tasks
from proposals.duplicates.selectors import (
    duplicate_group_labels,
    duplicate_groups,
    group_sizes,
    near_duplicates_of_proposal,
    near_duplicates_of_text,
    strategies_needing_refresh,
)
from proposals.duplicates.services import (
    RefreshResult,
    duplicates_refresh,
    group_signatures,
)
from proposals.models import DuplicateIndex, Fingerprint, FingerprintBand, Proposal
from proposals.services import proposal_edit, proposal_moderate, proposal_submit
from strategy.models import Strategy
from tests.conftest import client_for
from tests.factories import ProposalFactory, StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db

# --- The texts ------------------------------------------------------------------------------

RU_TITLE = "Остановить вырубку деревьев в парке Горького"
RU_BODY = (
    "Мы, жители района, требуем немедленно остановить вырубку старых деревьев в парке "
    "Горького. Парк является единственным зелёным местом для отдыха детей и пенсионеров "
    "нашего района. Просим акимат пересмотреть проект реконструкции и сохранить каждое дерево."
)
KK_TITLE = "Аялдамаларға жылы күту орындарын салу"
KK_BODY = (
    "Біз, Әуезов ауданының тұрғындары, қала әкімдігінен барлық автобус аялдамаларына "
    "жабық әрі жылы күту орындарын салуды сұраймыз. Қыста балалар мен қарттар аязда "
    "жарты сағат бойы автобус күтеді. Бұл мәселені биыл шешу керек."
)
EN_TITLE = "Protected bike lanes on Abay Avenue"
EN_BODY = (
    "We, the residents of Bostandyk district, ask the city to build protected bike lanes "
    "along Abay Avenue from Dostyk to Sain. Cyclists now ride between buses and cars, and "
    "three people were injured there last year. Physical barriers would keep everyone safe."
)


def _variants(
    title: str, body: str, *, word: tuple[str, str], sentence: str, typo: tuple[str, str]
) -> dict[str, tuple[str, str]]:
    """One campaign text as several residents send it."""
    assert word[0] in body and typo[0] in body
    return {
        "original": (title, body),
        "word": (title, body.replace(*word)),
        "sentence": (title, f"{body} {sentence}"),
        # Shouted, without commas, with "..." for every full stop: the same folded text.
        "punctuation": (f"{title.upper()}!!!", body.replace(",", "").replace(".", " ...").upper()),
        "typo": (title, body.replace(*typo)),
    }


CAMPAIGNS: dict[str, dict[str, tuple[str, str]]] = {
    "ru": _variants(
        RU_TITLE,
        RU_BODY,
        word=("немедленно", "срочно"),
        sentence="Подписи соседей прилагаем.",
        typo=("реконструкции", "реконструкцыи"),
    ),
    "kk": _variants(
        KK_TITLE,
        KK_BODY,
        word=("сұраймыз", "өтінеміз"),
        sentence="Қол қойған тұрғындар тізімі қоса беріледі.",
        typo=("аялдамаларына", "аялдамаларна"),
    ),
    "en": _variants(
        EN_TITLE,
        EN_BODY,
        word=("ask", "urge"),
        sentence="Our petition has four hundred signatures.",
        typo=("injured", "injurd"),
    ),
}
VARIANTS = list(CAMPAIGNS["ru"])
# Same topic, same place, other proposals: never grouped with the campaigns.
UNRELATED: dict[str, tuple[str, str]] = {
    "ru": (
        "Посадить новые деревья в парке Горького",
        "В парке Горького мало тени летом, предлагаю высадить клёны и карагачи вдоль аллей, "
        "поставить лавочки и фонтанчики с питьевой водой.",
    ),
    "kk": (
        "Аялдамаларда автобус кестесін ілу",
        "Әр аялдамада автобустардың нақты уақыт кестесі көрсетілген электронды табло болса, "
        "адамдар күту уақытын біліп, жоспар құра алар еді.",
    ),
    "en": (
        "Bike parking near Abay Avenue metro",
        "There is nowhere to lock a bicycle at the metro stations on Abay Avenue; please put "
        "covered racks at every entrance so people can combine cycling and the metro.",
    ),
}

# The Kazakh campaign retyped on a Russian keyboard: к for қ, о for ө, and so on.
KK_ON_RUSSIAN_KEYBOARD = (
    KK_TITLE.translate(str.maketrans("әғқңөұүһіӘҒҚҢӨҰҮҺІ", "агкноуухиАГКНОУУХИ")),
    KK_BODY.translate(str.maketrans("әғқңөұүһіӘҒҚҢӨҰҮҺІ", "агкноуухиАГКНОУУХИ")),
)

# A chain: A is like B and B like C, but A is not like C. B holds the group together.
_YARD = [
    "Во дворе дома номер двенадцать нет ни одной скамейки для пожилых людей.",
    "Детская площадка сломана уже третий год, качели заржавели и опасны.",
    "Освещение во дворе не работает, вечером страшно возвращаться домой.",
    "Мусорные баки переполнены, их вывозят раз в неделю вместо трёх.",
    "Асфальт у подъезда разбит, после дождя стоят огромные лужи.",
]
_ASK = [
    "Просим акимат района включить наш двор в программу благоустройства.",
    "Жители готовы участвовать в субботниках и следить за порядком.",
    "Мы собрали подписи всех квартир и передали их в управляющую компанию.",
    "Ответа до сих пор нет, хотя прошло уже больше полугода.",
    "Надеемся, что в этом году вопрос наконец будет решён.",
    "Благоустройство двора улучшит жизнь сотен семей микрорайона.",
]
_MORE = [
    "Также нужно построить пандус для колясок у каждого подъезда.",
    "Парковка машин на газонах должна быть запрещена и наказуема.",
    "Рядом со школой необходим пешеходный переход со светофором.",
    "Старые тополя во дворе нужно обрезать, ветки падают на машины.",
    "Хотелось бы видеть во дворе спортивную площадку для подростков.",
]
CHAIN_TITLE = "Благоустройство нашего двора"
CHAIN = {
    "a": " ".join(_YARD + _ASK),
    "b": " ".join(_YARD[:3] + _ASK + _MORE[:3]),
    "c": " ".join(_ASK + _MORE),
}
ELSEWHERE = (
    "Бесплатный интернет в библиотеках",
    "Во всех городских библиотеках нужен быстрый бесплатный вай-фай и розетки у столов, "
    "чтобы студенты могли заниматься там по вечерам.",
)


def _text(title: str, body: str) -> str:
    return f"{title}\n{body}"


def _signature(title: str, body: str) -> np.ndarray:
    return fp.signature(_text(title, body), fp.params())


def _sim(a: tuple[str, str], b: tuple[str, str]) -> float:
    return fp.similarity(_signature(*a), _signature(*b))


# --- Helpers and fixtures -------------------------------------------------------------------


@pytest.fixture
def edit(django_capture_on_commit_callbacks, moderator):
    """A moderator asks for changes, then the author edits the text (tasks run)."""

    def _edit(proposal: Proposal, title: str, body: str) -> Proposal:
        proposal_moderate(
            proposal=proposal, moderator=moderator, decision="request_changes", note="Уточните."
        )
        with django_capture_on_commit_callbacks(execute=True):
            return proposal_edit(proposal=proposal, actor=proposal.author, title=title, body=body)

    return _edit


def _publish(proposal: Proposal, moderator) -> Proposal:
    return proposal_moderate(proposal=proposal, moderator=moderator, decision="approve")


def _campaign_texts():
    """(name, title, body) of every campaign copy, then of the unrelated texts."""
    for language, variants in CAMPAIGNS.items():
        for name, (title, body) in variants.items():
            yield f"{language}-{name}", title, body
    for language, (title, body) in UNRELATED.items():
        yield f"{language}-unrelated", title, body


def _send_campaign(strategy, resident, submit_one) -> dict[str, Proposal]:
    found: dict[str, Proposal] = {}
    for name, title, body in _campaign_texts():
        # The resident sent one copy: near_duplicates_of_proposal shows a resident their own.
        author = resident if name == "ru-word" else UserFactory()
        found[name] = submit_one(author=author, strategy=strategy, title=title, body=body)
    return found


@pytest.fixture
def campaign(strategy, resident, django_capture_on_commit_callbacks) -> dict[str, Proposal]:
    """Every copy of the three campaigns, then the unrelated texts ("ru-original", "kk-typo",
    "en-unrelated"...), submitted together: the first refresh finds no index and builds the
    whole strategy, the others find nothing left to do."""
    with django_capture_on_commit_callbacks(execute=True):
        return _send_campaign(strategy, resident, proposal_submit)


@pytest.fixture
def campaign_one_by_one(strategy, resident, django_capture_on_commit_callbacks):
    """The same, each submission's refresh run before the next one is sent: incremental."""

    def submit_one(**kwargs) -> Proposal:
        with django_capture_on_commit_callbacks(execute=True):
            return proposal_submit(**kwargs)

    return _send_campaign(strategy, resident, submit_one)


def _partition(strategy: Strategy) -> set[frozenset[int]]:
    """The strategy's groups as sets of proposal ids; checks every label is its group's
    smallest id."""
    groups: dict[int, set[int]] = defaultdict(set)
    for proposal_id, label in Fingerprint.objects.filter(strategy=strategy).values_list(
        "proposal_id", "group"
    ):
        groups[label].add(proposal_id)
    for label, members in groups.items():
        assert label == min(members), f"group {label} labelled with another id than its smallest"
    return {frozenset(members) for members in groups.values()}


def _ids(campaign: dict[str, Proposal], *names: str) -> frozenset[int]:
    return frozenset(campaign[name].pk for name in names)


def _expected_campaign_partition(campaign: dict[str, Proposal]) -> set[frozenset[int]]:
    return {_ids(campaign, *(f"{lang}-{v}" for v in VARIANTS)) for lang in CAMPAIGNS} | {
        _ids(campaign, f"{lang}-unrelated") for lang in UNRELATED
    }


def _ru() -> list[str]:
    return [f"ru-{v}" for v in VARIANTS]


def _label(proposal: Proposal) -> int:
    return Fingerprint.objects.get(proposal=proposal).group


def _python(script: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    """Run a script in a new Python process of this project, with these environment values."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root), **env},
        cwd=root,
        check=False,
        timeout=60,
    )


# --- fingerprint.py -------------------------------------------------------------------------


def test_the_parameters_come_from_settings():
    p = fp.params()
    assert (p.threshold, p.shingle, p.num_perm) == (0.5, 5, 64)
    # datasketch's banding for 64 permutations at 0.5: 14 bands of 4 rows.
    assert (p.bands, p.rows) == (14, 4)
    assert p.name == "minhash-h-k-c5-p64-b14r4-t0.5"


def test_the_parameters_follow_changed_settings(settings):
    settings.CIVIC_DUPLICATE_THRESHOLD = 0.8
    settings.CIVIC_DUPLICATE_SHINGLE = 4
    settings.CIVIC_DUPLICATE_NUM_PERM = 128
    p = fp.params()
    assert (p.threshold, p.shingle, p.num_perm) == (0.8, 4, 128)
    assert p.bands * p.rows <= 128
    assert p.name.startswith("minhash-h-k-c4-p128-") and p.name.endswith("-t0.8")


def test_a_threshold_the_start_up_check_accepts_works():
    script = (
        "import django\n"
        "from django.core.exceptions import ImproperlyConfigured\n"
        "try:\n"
        "    django.setup()\n"
        "except ImproperlyConfigured:\n"
        "    print('refused at start-up')\n"
        "else:\n"
        "    from proposals.duplicates import fingerprint as fp\n"
        "    print(fp.params().name)\n"
    )
    result = _python(script, CIVIC_DUPLICATE_THRESHOLD="1", DJANGO_SETTINGS_MODULE="civic.settings")
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.strip() == "refused at start-up" or "-t1.0" in result.stdout


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Ёлка, ЁЖИК и   ещё!!! ", "елка ежик и еще"),
        # Kazakh letters fold onto their Russian-keyboard neighbours.
        ("ӘУЕЗОВ ауданы — Қыста\tаязда", "ауезов ауданы кыста аязда"),
        ("әғқңөұүһі ӘҒҚҢӨҰҮҺІ", "агкноуухи агкноуухи"),
        ("Bike-lanes, on ABAY... (please)", "bike lanes on abay please"),
        ("snake_case__and\nnew lines", "snake case and new lines"),
        ("№ 12/3: 2024 год", "12 3 2024 год"),
        ("?!…", ""),
    ],
)
def test_normalise_folds_case_yo_punctuation_and_spaces(text, folded):
    assert fp.normalise(text) == folded


@pytest.mark.parametrize("language", CAMPAIGNS)
def test_the_exact_text_hash_ignores_only_what_normalise_folds(language):
    variants = CAMPAIGNS[language]
    original = fp.text_hash(_text(*variants["original"]))
    assert fp.text_hash(_text(*variants["punctuation"])) == original
    assert len(original) == 32
    for name in ("word", "sentence", "typo"):
        assert fp.text_hash(_text(*variants[name])) != original, name


def test_kazakh_typed_on_a_russian_keyboard_is_the_same_text():
    title, body = KK_ON_RUSSIAN_KEYBOARD
    assert "қ" not in body and "к" in body and body != KK_BODY
    assert fp.text_hash(_text(title, body)) == fp.text_hash(_text(KK_TITLE, KK_BODY))
    assert _sim(KK_ON_RUSSIAN_KEYBOARD, (KK_TITLE, KK_BODY)) == 1.0
    # Russian itself is not folded: и and й, е and э stay apart.
    assert fp.normalise("Йод эхо") == "йод эхо"


def test_shingles_are_the_overlapping_pieces_of_the_folded_text():
    # One hash per distinct piece of five letters: "абвгдеж" has three.
    assert len(fp.shingle_hashes("абвгдеж", 5)) == 3
    # Equal pieces hash alike wherever they stand: "абвгд" twice is one piece.
    pieces = {"абвгд", "бвгд ", "вгд а", "гд аб", "д абв", " абвг"}
    assert len(fp.shingle_hashes("абвгд абвгд", 5)) == len(pieces) == 6
    assert set(fp.shingle_hashes("абвгд", 5)) < set(fp.shingle_hashes("абвгдеж", 5))
    # A text shorter than a piece is one piece; an empty one has none.
    assert len(fp.shingle_hashes("a b", 5)) == 1
    assert fp.shingle_hashes("", 5) == []
    assert fp.shingle_hashes(fp.normalise("..."), 5) == []
    # Hashes fit the 32 bits MinHash's permutations expect.
    assert all(0 <= h < 2**32 for h in fp.shingle_hashes("Алматы-2050 стратегиясы", 5))


@pytest.mark.parametrize("language", CAMPAIGNS)
@pytest.mark.parametrize("variant", VARIANTS[1:])
def test_a_changed_copy_of_a_campaign_scores_above_the_threshold(language, variant):
    variants = CAMPAIGNS[language]
    score = _sim(variants["original"], variants[variant])
    # Well above, not just above: these must group whatever the band luck.
    assert score >= 0.75
    if variant == "punctuation":
        assert score == 1.0


@pytest.mark.parametrize("language", CAMPAIGNS)
def test_unrelated_texts_on_the_same_topic_score_below_the_threshold(language):
    for variant in CAMPAIGNS[language].values():
        assert _sim(variant, UNRELATED[language]) < 0.25
    for other in CAMPAIGNS:
        if other != language:
            assert _sim(CAMPAIGNS[language]["original"], CAMPAIGNS[other]["original"]) < 0.25


def test_the_chain_texts_are_a_chain():
    a, b, c = ((CHAIN_TITLE, CHAIN[k]) for k in "abc")
    assert _sim(a, b) >= 0.6
    assert _sim(b, c) >= 0.6
    assert _sim(a, c) < fp.params().threshold


def test_signatures_are_uint32_and_round_trip_through_bytes():
    p = fp.params()
    signature = fp.signature(_text(RU_TITLE, RU_BODY), p)
    assert signature.dtype == np.uint32 and signature.shape == (p.num_perm,)
    data = fp.to_bytes(signature)
    assert isinstance(data, bytes) and len(data) == 4 * p.num_perm
    assert np.array_equal(fp.from_bytes(data), signature)
    assert np.array_equal(fp.from_bytes(memoryview(data)), signature)
    assert fp.from_bytes(data).dtype == np.dtype("<u4")


def test_bulk_signatures_equal_one_at_a_time():
    p = fp.params()
    texts = [_text(*v) for v in CAMPAIGNS["kk"].values()]
    for bulk, text in zip(fp.signatures(texts, p), texts, strict=True):
        assert np.array_equal(bulk, fp.signature(text, p))


def test_band_keys_are_deterministic_64_bit_and_one_per_band():
    p = fp.params()
    text = _text(KK_TITLE, KK_BODY)
    keys = fp.band_keys(fp.signature(text, p), p)
    assert keys == fp.band_keys(fp.signature(text, p), p)
    assert len(keys) == p.bands
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert len(set(keys)) == p.bands
    # Same text, same keys, stored or fresh.
    stored = fp.from_bytes(fp.to_bytes(fp.signature(text, p)))
    assert fp.band_keys(stored, p) == keys


def test_band_keys_are_the_same_in_another_process():
    """Keys live in the database and are shared by every process: no salted hash()."""
    p = fp.params()
    text = _text(EN_TITLE, EN_BODY)
    script = (
        "import sys, json\n"
        "from proposals.duplicates import fingerprint as fp\n"
        f"p = fp.Params({p.threshold}, {p.shingle}, {p.num_perm}, {p.bands}, {p.rows})\n"
        "text = sys.stdin.read()\n"
        "print(json.dumps(fp.band_keys(fp.signature(text, p), p)))\n"
    )
    result = _python(script, stdin=text, PYTHONHASHSEED="12345")
    assert result.returncode == 0, result.stderr[-500:]
    assert json.loads(result.stdout) == fp.band_keys(fp.signature(text, p), p)


def test_texts_sharing_a_band_share_its_key_and_unrelated_ones_share_none():
    p = fp.params()
    keys = {
        name: set(fp.band_keys(_signature(*variant), p))
        for name, variant in CAMPAIGNS["ru"].items()
    }
    assert keys["punctuation"] == keys["original"]
    assert keys["word"] & keys["original"]
    unrelated = set(fp.band_keys(_signature(*UNRELATED["ru"]), p))
    assert not unrelated & keys["original"]


def test_group_signatures_groups_in_memory_with_the_smallest_id_as_label():
    p = fp.params()
    texts = {
        10: CAMPAIGNS["ru"]["word"],
        3: CAMPAIGNS["ru"]["typo"],
        7: UNRELATED["ru"],
        5: CAMPAIGNS["en"]["original"],
        12: CAMPAIGNS["en"]["sentence"],
        8: CAMPAIGNS["ru"]["punctuation"],
    }
    ids = list(texts)
    groups = group_signatures(ids, [_signature(*texts[i]) for i in ids], p)
    assert {i: groups.find(i) for i in ids} == {10: 3, 3: 3, 7: 7, 5: 5, 12: 5, 8: 3}
    assert group_signatures([], [], p).parent == {}


# --- services.py ----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["campaign", "campaign_one_by_one"])
def test_a_campaign_lands_in_one_group_per_language(request, strategy, how):
    campaign = request.getfixturevalue(how)
    assert Fingerprint.objects.filter(strategy=strategy).count() == len(campaign)
    assert _partition(strategy) == _expected_campaign_partition(campaign)
    for language in CAMPAIGNS:
        assert _label(campaign[f"{language}-word"]) == campaign[f"{language}-original"].pk
    # Every fingerprint is fresh, and each band row points at its strategy.
    assert strategies_needing_refresh() == []
    assert FingerprintBand.objects.filter(strategy_id=strategy.pk).count() == (
        len(campaign) * fp.params().bands
    )


def test_the_first_refresh_is_full_and_later_ones_incremental(campaign_one_by_one, strategy):
    campaign = campaign_one_by_one
    index = DuplicateIndex.objects.get(strategy=strategy)
    assert index.params == fp.params().name
    assert index.built_at is not None
    # The first submission found no index; the others came one at a time.
    assert (index.full_rebuilds, index.incremental_updates) == (1, len(campaign) - 1)


def test_the_stored_fingerprint_is_the_texts_signature(campaign):
    proposal = campaign["kk-sentence"]
    stored = Fingerprint.objects.get(proposal=proposal)
    proposal.refresh_from_db()
    assert np.array_equal(
        fp.from_bytes(stored.signature), _signature(proposal.title, proposal.body)
    )
    assert stored.text_hash == fp.text_hash(_text(proposal.title, proposal.body))
    assert stored.computed_at == proposal.updated_at
    assert sorted(
        FingerprintBand.objects.filter(fingerprint=stored).values_list("key", flat=True)
    ) == (sorted(fp.band_keys(_signature(proposal.title, proposal.body), fp.params())))


def test_an_incremental_result_equals_a_full_rebuild(campaign_one_by_one, strategy):
    campaign = campaign_one_by_one
    incremental = _partition(strategy)
    result = duplicates_refresh(strategy_id=strategy.pk, full=True)
    assert result == RefreshResult(strategy.pk, True, len(campaign), len(campaign))
    assert _partition(strategy) == incremental == _expected_campaign_partition(campaign)
    assert DuplicateIndex.objects.get(strategy=strategy).full_rebuilds == 2


# Three proposals made of the yard sentences: B and C are 67% alike and share one band, A
# (the oldest) shares that band too but is only about 20% like either of them.
_POOL = _YARD + _ASK + _MORE
BUCKET = {
    name: (CHAIN_TITLE, " ".join(_POOL[i] for i in sentences))
    for name, sentences in {
        "a": [3, 9, 7, 11],
        "b": [10, 5, 15, 12, 9, 3, 13],
        "c": [10, 15, 6, 12, 9, 3, 13],
    }.items()
}


@pytest.fixture
def bucket(strategy, submit) -> dict[str, Proposal]:
    return {name: submit(strategy, *BUCKET[name]) for name in "abc"}


def test_two_alike_proposals_sharing_a_band_with_an_older_one_group_incrementally(bucket, strategy):
    p = fp.params()
    a, b, c = (_signature(*BUCKET[name]) for name in "abc")
    assert fp.similarity(b, c) >= 0.65
    assert fp.similarity(a, b) < 0.3 and fp.similarity(a, c) < 0.3
    keys = {name: fp.band_keys(sig, p) for name, sig in zip("abc", (a, b, c), strict=True)}
    shared = [band for band in range(p.bands) if keys["b"][band] == keys["c"][band]]
    assert len(shared) == 1 and keys["a"][shared[0]] == keys["b"][shared[0]]
    # One at a time, C joins B: they are alike and share a band.
    assert _partition(strategy) == {_ids(bucket, "a"), _ids(bucket, "b", "c")}


def test_a_full_rebuild_keeps_two_alike_proposals_behind_an_older_one_together(bucket, strategy):
    incremental = _partition(strategy)
    duplicates_refresh(strategy_id=strategy.pk, full=True)
    assert _partition(strategy) == incremental


def test_a_refresh_with_nothing_stale_does_nothing(campaign, strategy):
    before = DuplicateIndex.objects.get(strategy=strategy)
    assert duplicates_refresh(strategy_id=strategy.pk) == RefreshResult(strategy.pk, False, 0, 0)
    after = DuplicateIndex.objects.get(strategy=strategy)
    assert (after.full_rebuilds, after.incremental_updates, after.built_at) == (
        before.full_rebuilds,
        before.incremental_updates,
        before.built_at,
    )


def test_the_task_returns_the_result_as_a_dict(strategy, resident):
    proposal_submit(author=resident, strategy=strategy, title=RU_TITLE, body=RU_BODY)
    assert tasks.duplicates_refresh(strategy.pk) == {
        "strategy": strategy.pk,
        "full": True,
        "fingerprinted": 1,
        "groups_changed": 1,
    }


def test_groups_of_one_strategy_never_hold_another_strategys_proposals(strategy, submit):
    other = StrategyFactory(slug="astana-test", code_prefix="AST")
    here = submit(strategy, *CAMPAIGNS["ru"]["original"])
    there = submit(other, *CAMPAIGNS["ru"]["word"])
    assert _label(here) == here.pk
    assert _label(there) == there.pk
    assert FingerprintBand.objects.filter(strategy_id=other.pk).count() == fp.params().bands


def test_a_text_changed_by_its_author_leaves_its_group(campaign_one_by_one, strategy, edit):
    campaign = campaign_one_by_one
    # The original labels its group: leaving, the others keep together under a new label.
    leaving = campaign["ru-original"]
    edit(leaving, *ELSEWHERE)
    rest = _ids(campaign, "ru-word", "ru-sentence", "ru-punctuation", "ru-typo")
    expected = (_expected_campaign_partition(campaign) - {_ids(campaign, *_ru())}) | {
        rest,
        frozenset({leaving.pk}),
    }
    assert _partition(strategy) == expected
    assert _label(campaign["ru-typo"]) == min(rest)
    assert _label(leaving) == leaving.pk
    stored = Fingerprint.objects.get(proposal=leaving)
    assert stored.text_hash == fp.text_hash(_text(*ELSEWHERE))
    # The incremental regrouping is what a full rebuild finds.
    duplicates_refresh(strategy_id=strategy.pk, full=True)
    assert _partition(strategy) == expected


def test_a_text_edited_into_a_campaign_copy_joins_its_group(campaign, strategy, edit):
    joining = campaign["en-unrelated"]
    edit(joining, EN_TITLE, EN_BODY.replace("Sain", "Sain Street"))
    en = _ids(campaign, *(f"en-{v}" for v in VARIANTS), "en-unrelated")
    assert en in _partition(strategy)
    assert _label(joining) == campaign["en-original"].pk


def test_an_edit_of_the_link_splits_the_chain(strategy, submit, edit):
    a = submit(strategy, CHAIN_TITLE, CHAIN["a"])
    c = submit(strategy, CHAIN_TITLE, CHAIN["c"])
    # A and C alone are not alike: two groups, until B joins them.
    assert _partition(strategy) == {frozenset({a.pk}), frozenset({c.pk})}
    b = submit(strategy, CHAIN_TITLE, CHAIN["b"])
    assert _partition(strategy) == {frozenset({a.pk, b.pk, c.pk})}
    assert {_label(a), _label(b), _label(c)} == {a.pk}

    edit(b, *ELSEWHERE)
    assert _partition(strategy) == {frozenset({a.pk}), frozenset({b.pk}), frozenset({c.pk})}
    assert (_label(a), _label(b), _label(c)) == (a.pk, b.pk, c.pk)
    duplicates_refresh(strategy_id=strategy.pk, full=True)
    assert _partition(strategy) == {frozenset({a.pk}), frozenset({b.pk}), frozenset({c.pk})}


def test_an_edit_that_keeps_the_link_alike_keeps_the_chain(strategy, submit, edit):
    b = submit(strategy, CHAIN_TITLE, CHAIN["b"])
    a = submit(strategy, CHAIN_TITLE, CHAIN["a"])
    c = submit(strategy, CHAIN_TITLE, CHAIN["c"])
    assert _partition(strategy) == {frozenset({a.pk, b.pk, c.pk})}
    assert _label(c) == b.pk
    edit(b, CHAIN_TITLE, CHAIN["b"] + " Спасибо.")
    # Still the link: nothing splits, the label stays.
    assert _partition(strategy) == {frozenset({a.pk, b.pk, c.pk})}
    assert _label(a) == _label(c) == b.pk


def test_a_kazakh_copy_typed_on_a_russian_keyboard_joins_its_campaign(campaign, strategy, submit):
    copy = submit(strategy, *KK_ON_RUSSIAN_KEYBOARD)
    assert _label(copy) == campaign["kk-original"].pk
    stored = Fingerprint.objects.get(proposal=copy)
    assert stored.text_hash == Fingerprint.objects.get(proposal=campaign["kk-original"]).text_hash


def test_a_refresh_after_a_submission_looks_at_that_proposal_only(campaign, strategy, resident):
    # The first one's message was lost; the second's refresh names its proposal.
    lost = proposal_submit(author=resident, strategy=strategy, title=RU_TITLE, body=RU_BODY)
    sent = proposal_submit(author=resident, strategy=strategy, title=KK_TITLE, body=KK_BODY)
    result = duplicates_refresh(strategy_id=strategy.pk, proposal_id=sent.pk)
    assert result == RefreshResult(strategy.pk, False, 1, 0)
    assert _label(sent) == campaign["kk-original"].pk
    assert not Fingerprint.objects.filter(proposal=lost).exists()
    # Fresh already: nothing to do. Another strategy's proposal: nothing either.
    assert duplicates_refresh(strategy_id=strategy.pk, proposal_id=sent.pk) == RefreshResult(
        strategy.pk, False, 0, 0
    )
    other = StrategyFactory(slug="astana-test", code_prefix="AST")
    assert duplicates_refresh(strategy_id=other.pk, proposal_id=lost.pk).fingerprinted == 0
    assert not Fingerprint.objects.filter(proposal=lost).exists()
    # The sweep's refresh, naming none, finds the lost one.
    assert strategies_needing_refresh() == [strategy.pk]
    assert tasks.duplicates_refresh(strategy.pk) == {
        "strategy": strategy.pk,
        "full": False,
        "fingerprinted": 1,
        "groups_changed": 0,
    }
    assert _label(lost) == campaign["ru-original"].pk


def test_a_refresh_naming_a_proposal_still_rebuilds_after_new_parameters(
    campaign, strategy, resident, settings
):
    sent = proposal_submit(author=resident, strategy=strategy, title=EN_TITLE, body=EN_BODY)
    settings.CIVIC_DUPLICATE_NUM_PERM = 128
    result = tasks.duplicates_refresh(strategy.pk, sent.pk)
    assert result == {
        "strategy": strategy.pk,
        "full": True,
        "fingerprinted": len(campaign) + 1,
        "groups_changed": len(campaign) + 1,
    }
    assert DuplicateIndex.objects.get(strategy=strategy).params == fp.params().name
    assert len(fp.from_bytes(Fingerprint.objects.get(proposal=sent).signature)) == 128
    assert _label(sent) == campaign["en-original"].pk


def test_a_decision_touches_the_row_but_does_not_refingerprint(campaign, strategy, moderator):
    proposal = campaign["ru-sentence"]
    before = Fingerprint.objects.get(proposal=proposal)
    bands = sorted(FingerprintBand.objects.filter(fingerprint=before).values_list("pk", "key"))
    index_before = DuplicateIndex.objects.get(strategy=strategy)

    approved = _publish(proposal, moderator)
    assert approved.updated_at > before.computed_at
    assert strategies_needing_refresh() == [strategy.pk]

    result = duplicates_refresh(strategy_id=strategy.pk)
    assert result == RefreshResult(strategy.pk, False, 0, 0)
    after = Fingerprint.objects.get(proposal=proposal)
    assert after.computed_at == approved.updated_at
    assert (bytes(after.signature), after.text_hash, after.group) == (
        bytes(before.signature),
        before.text_hash,
        before.group,
    )
    # The band rows were not rewritten (new rows would have new ids).
    assert sorted(FingerprintBand.objects.filter(fingerprint=after).values_list("pk", "key")) == (
        bands
    )
    index = DuplicateIndex.objects.get(strategy=strategy)
    assert index.incremental_updates == index_before.incremental_updates + 1
    assert index.full_rebuilds == index_before.full_rebuilds
    assert strategies_needing_refresh() == []


def test_a_new_threshold_makes_the_next_refresh_a_full_one(campaign, strategy, submit, settings):
    # A and C of the chain, without B: 0.44 alike, apart at 0.5 and together at 0.4.
    a = submit(strategy, CHAIN_TITLE, CHAIN["a"])
    c = submit(strategy, CHAIN_TITLE, CHAIN["c"])
    apart = _expected_campaign_partition(campaign) | {frozenset({a.pk}), frozenset({c.pk})}
    assert _partition(strategy) == apart
    old = DuplicateIndex.objects.get(strategy=strategy).params

    settings.CIVIC_DUPLICATE_THRESHOLD = 0.4
    new = fp.params().name
    assert new != old and new.endswith("-t0.4")
    # Nothing is stale, but the index was built with other parameters.
    assert strategies_needing_refresh() == [strategy.pk]
    result = duplicates_refresh(strategy_id=strategy.pk)
    assert result.full and result.fingerprinted == len(campaign) + 2
    index = DuplicateIndex.objects.get(strategy=strategy)
    assert (index.params, index.full_rebuilds) == (new, 2)
    together = _expected_campaign_partition(campaign) | {frozenset({a.pk, c.pk})}
    assert _partition(strategy) == together
    # The bands were cut again: as many per proposal as the new parameters have.
    assert FingerprintBand.objects.filter(fingerprint__proposal=a).count() == fp.params().bands
    assert fp.params().bands != 14
    assert strategies_needing_refresh() == []
    assert not duplicates_refresh(strategy_id=strategy.pk).full

    settings.CIVIC_DUPLICATE_THRESHOLD = 0.5
    assert strategies_needing_refresh() == [strategy.pk]
    assert duplicates_refresh(strategy_id=strategy.pk).full
    assert _partition(strategy) == apart
    assert DuplicateIndex.objects.get(strategy=strategy).params == old


def test_more_stale_proposals_than_the_batch_rebuild_in_full(strategy, resident, settings):
    settings.CIVIC_DUPLICATE_BATCH = 2

    def send(title: str, body: str) -> Proposal:
        # No callbacks run: the proposals wait for a refresh, as after a lost message.
        return proposal_submit(author=resident, strategy=strategy, title=title, body=body)

    send(*CAMPAIGNS["ru"]["original"])
    assert duplicates_refresh(strategy_id=strategy.pk).full  # the first build
    send(*CAMPAIGNS["ru"]["word"])
    send(*UNRELATED["ru"])
    # As many as the batch: one at a time.
    assert duplicates_refresh(strategy_id=strategy.pk) == RefreshResult(strategy.pk, False, 2, 0)
    send(*CAMPAIGNS["ru"]["typo"])
    send(*CAMPAIGNS["kk"]["original"])
    send(*CAMPAIGNS["kk"]["word"])
    # One more than the batch: the whole strategy, every proposal fingerprinted again.
    result = duplicates_refresh(strategy_id=strategy.pk)
    assert result == RefreshResult(strategy.pk, True, 6, 6)
    sizes = sorted(len(group) for group in _partition(strategy))
    assert sizes == [1, 2, 3]
    index = DuplicateIndex.objects.get(strategy=strategy)
    assert (index.full_rebuilds, index.incremental_updates) == (2, 1)


def test_strategies_needing_refresh_and_the_sweep(strategy, resident, submit):
    other = StrategyFactory(slug="astana-test", code_prefix="AST")
    quiet = StrategyFactory(slug="shymkent-test", code_prefix="SHY")
    submit(quiet, *CAMPAIGNS["kk"]["original"])
    assert strategies_needing_refresh() == []
    # Submitted without their tasks (a lost message): no fingerprint yet.
    waiting = [
        proposal_submit(author=resident, strategy=s, title=t, body=b)
        for s, (t, b) in [
            (strategy, CAMPAIGNS["ru"]["original"]),
            (strategy, CAMPAIGNS["ru"]["typo"]),
            (other, CAMPAIGNS["en"]["original"]),
        ]
    ]
    expected = sorted([strategy.pk, other.pk])
    assert strategies_needing_refresh() == expected

    assert tasks.duplicate_sweep() == expected
    assert strategies_needing_refresh() == []
    assert Fingerprint.objects.filter(proposal__in=waiting).count() == 3
    assert _label(waiting[1]) == waiting[0].pk

    # An index built with other parameters is left behind too, with nothing stale.
    DuplicateIndex.objects.filter(strategy=quiet).update(params="minhash-old")
    assert strategies_needing_refresh() == [quiet.pk]
    assert tasks.duplicate_sweep() == [quiet.pk]
    assert DuplicateIndex.objects.get(strategy=quiet).params == fp.params().name
    assert tasks.duplicate_sweep() == []


_COMMAND_LINE = re.compile(
    r"(?P<slug>[a-z-]+): (?P<n>\d+) fingerprinted \((?P<scope>whole strategy|new and changed "
    r"only)\) in \d+\.\d{3} s; (?P<groups>\d+) groups of near-duplicates hold (?P<held>\d+) "
    r"of (?P<total>\d+) proposals"
)


def _command(*args: str) -> list[dict[str, str]]:
    out = io.StringIO()
    call_command("rebuild_duplicates", *args, stdout=out)
    lines = out.getvalue().splitlines()
    matches = [_COMMAND_LINE.fullmatch(line) for line in lines]
    assert all(matches), lines
    return [m.groupdict() for m in matches]


def test_rebuild_duplicates_says_what_it_did(campaign, strategy, resident):
    full = {"slug": strategy.slug, "n": "18", "scope": "whole strategy"}
    summary = {"groups": "3", "held": "15", "total": "18"}
    assert _command("--strategy", strategy.slug, "--full") == [{**full, **summary}]
    assert DuplicateIndex.objects.get(strategy=strategy).full_rebuilds == 2
    quiet = {"slug": strategy.slug, "n": "0", "scope": "new and changed only"}
    assert _command("--strategy", strategy.slug) == [{**quiet, **summary}]

    # Every strategy, by slug; one proposal waiting in the strategy is done incrementally.
    other = StrategyFactory(slug="aktobe-test", code_prefix="AKT")
    proposal_submit(author=resident, strategy=strategy, title=RU_TITLE, body=RU_BODY + " Да.")
    assert _command() == [
        {
            "slug": other.slug,
            "n": "0",
            "scope": "whole strategy",
            "groups": "0",
            "held": "0",
            "total": "0",
        },
        {**quiet, "n": "1", "groups": "3", "held": "16", "total": "19"},
    ]


def test_rebuild_duplicates_refuses_an_unknown_strategy(strategy):
    with pytest.raises(CommandError, match="No strategy 'nowhere'"):
        call_command("rebuild_duplicates", "--strategy", "nowhere", stdout=io.StringIO())


# --- selectors.py ---------------------------------------------------------------------------


@pytest.fixture
def published(campaign, moderator) -> dict[str, Proposal]:
    """Some of the campaign published: ru typo and sentence, kk original, the unrelated ru."""
    for name in ("ru-typo", "ru-sentence", "kk-original", "ru-unrelated"):
        campaign[name] = _publish(campaign[name], moderator)
    return campaign


def test_similar_published_finds_only_published_ones_most_similar_first(published, strategy):
    title, body = CAMPAIGNS["ru"]["original"]
    found = near_duplicates_of_text(strategy=strategy, title=title, body=body)
    assert [s.proposal.pk for s in found] and all(
        s.proposal.status == Proposal.Status.PUBLISHED for s in found
    )
    assert {s.proposal.pk for s in found} == _ids(published, "ru-typo", "ru-sentence")
    scores = [s.similarity for s in found]
    assert scores == sorted(scores, reverse=True)
    for item in found:
        expected = _sim((title, body), (item.proposal.title, item.proposal.body))
        assert item.similarity == round(expected, 2)
        assert item.similarity >= fp.params().threshold
    assert [
        s.proposal.pk
        for s in near_duplicates_of_text(strategy=strategy, title=title, body=body, limit=1)
    ] == [found[0].proposal.pk]


def test_similar_published_ranks_ties_by_id(published, strategy, moderator):
    _publish(published["ru-punctuation"], moderator)
    _publish(published["ru-original"], moderator)
    found = near_duplicates_of_text(strategy=strategy, title=RU_TITLE, body=RU_BODY)
    # The two copies with the same folded text score 1.0, the older first.
    assert [s.proposal.pk for s in found[:2]] == sorted(
        _ids(published, "ru-original", "ru-punctuation")
    )
    assert [s.similarity for s in found[:2]] == [1.0, 1.0]
    assert len(found) == 4


def test_similar_published_looks_in_the_one_strategy(published, submit, moderator):
    other = StrategyFactory(slug="astana-test", code_prefix="AST")
    copy = _publish(submit(other, RU_TITLE, RU_BODY), moderator)
    found = near_duplicates_of_text(strategy=other, title=RU_TITLE, body=RU_BODY)
    assert [s.proposal.pk for s in found] == [copy.pk]


def test_similar_published_of_an_unrelated_text_is_empty(published, strategy):
    assert near_duplicates_of_text(strategy=strategy, title=ELSEWHERE[0], body=ELSEWHERE[1]) == []


def test_near_duplicates_shows_staff_every_status_but_itself(published, moderator, analyst):
    proposal = published["ru-original"]
    for user in (moderator, analyst):
        found = near_duplicates_of_proposal(user=user, proposal=proposal)
        assert {s.proposal.pk for s in found} == _ids(
            published, "ru-word", "ru-sentence", "ru-punctuation", "ru-typo"
        )
        assert proposal.pk not in {s.proposal.pk for s in found}
        assert {s.proposal.status for s in found} == {"pending", "published"}
        assert found[0].proposal.pk == published["ru-punctuation"].pk
        assert found[0].similarity == 1.0
    assert len(near_duplicates_of_proposal(user=moderator, proposal=proposal, limit=2)) == 2


def test_near_duplicates_shows_a_resident_published_ones_and_their_own(
    published, resident, other_resident
):
    proposal = published["ru-typo"]
    mine = {s.proposal.pk for s in near_duplicates_of_proposal(user=resident, proposal=proposal)}
    assert mine == _ids(published, "ru-sentence", "ru-word")  # published, and their own
    theirs = {
        s.proposal.pk for s in near_duplicates_of_proposal(user=other_resident, proposal=proposal)
    }
    assert theirs == _ids(published, "ru-sentence")


def test_near_duplicates_of_a_proposal_not_fingerprinted_yet(campaign, strategy, moderator):
    fresh = ProposalFactory(
        strategy=strategy,
        title=KK_TITLE,
        body=KK_BODY.replace("биыл", "тезірек"),
        language="kk",
        status=Proposal.Status.PENDING,
    )
    assert not Fingerprint.objects.filter(proposal=fresh).exists()
    found = near_duplicates_of_proposal(user=moderator, proposal=fresh)
    assert {s.proposal.pk for s in found} == _ids(campaign, *(f"kk-{v}" for v in VARIANTS))
    assert not Fingerprint.objects.filter(proposal=fresh).exists()


def test_group_sizes_of_proposals_in_groups(campaign):
    ids = [p.pk for p in campaign.values()]
    sizes = group_sizes(proposal_ids=ids)
    assert sizes == {campaign[f"{lang}-{v}"].pk: 5 for lang in CAMPAIGNS for v in VARIANTS}
    assert group_sizes(proposal_ids=[campaign["en-unrelated"].pk]) == {}
    assert group_sizes(proposal_ids=[]) == {}


def test_duplicate_group_labels_largest_first(campaign, strategy, submit):
    # A sixth Kazakh copy makes the Kazakh group the largest.
    extra = submit(strategy, KK_TITLE, KK_BODY + " Рахмет!")
    labels = list(duplicate_group_labels(strategy=strategy))
    first = {lang: campaign[f"{lang}-original"].pk for lang in CAMPAIGNS}
    assert labels == [(first["kk"], 6), (first["ru"], 5), (first["en"], 5)]
    assert list(duplicate_group_labels(strategy=strategy, min_size=6)) == [(first["kk"], 6)]
    assert list(duplicate_group_labels(strategy=strategy, min_size=7)) == []
    # Groups of one are never groups.
    assert list(duplicate_group_labels(strategy=strategy, min_size=1)) == labels
    assert _label(extra) == first["kk"]


def test_duplicate_groups_count_statuses_and_show_the_first_members(
    published, strategy, monkeypatch
):
    from proposals.duplicates import selectors

    labels = list(duplicate_group_labels(strategy=strategy))
    groups = {g.label: g for g in duplicate_groups(strategy=strategy, labels=labels)}
    ru = groups[published["ru-original"].pk]
    assert ru.size == 5
    assert ru.statuses == {"pending": 3, "published": 2}
    assert [p.pk for p in ru.proposals] == sorted(_ids(published, *_ru()))
    assert groups[published["kk-original"].pk].statuses == {"pending": 4, "published": 1}

    monkeypatch.setattr(selectors, "GROUP_SAMPLE", 2)
    [sample] = duplicate_groups(strategy=strategy, labels=[(ru.label, ru.size)])
    assert sample.size == 5
    assert [p.pk for p in sample.proposals] == sorted(_ids(published, *_ru()))[:2]


# --- The API --------------------------------------------------------------------------------

SIMILAR = "/api/v1/proposals/similar/"
SIMILAR_KEYS = {"id", "code", "title", "status", "similarity", "url"}


def _groups_url(strategy: Strategy) -> str:
    return f"/api/v1/strategies/{strategy.slug}/duplicate-groups/"


def _near_url(proposal: Proposal) -> str:
    return f"/api/v1/proposals/{proposal.pk}/near-duplicates/"


def _similar(client, strategy, title, body):
    return client.post(
        SIMILAR, {"strategy": strategy.slug, "title": title, "body": body}, format="json"
    )


def test_similar_api_answers_anyone_with_published_proposals(published, strategy, api):
    response = _similar(api, strategy, *CAMPAIGNS["ru"]["word"])
    assert response.status_code == 200
    data = response.json()
    assert {item["id"] for item in data} == _ids(published, "ru-typo", "ru-sentence")
    for item in data:
        assert set(item) == SIMILAR_KEYS
        proposal = Proposal.objects.get(pk=item["id"])
        assert (item["code"], item["title"], item["status"]) == (
            proposal.code,
            proposal.title,
            "published",
        )
        assert item["url"] == f"/api/v1/proposals/{proposal.pk}/"
        assert isinstance(item["similarity"], float) and 0.5 <= item["similarity"] <= 1
    assert [i["similarity"] for i in data] == sorted((i["similarity"] for i in data), reverse=True)
    # Nothing is stored.
    assert Proposal.objects.count() == len(published)


@pytest.mark.parametrize("language", CAMPAIGNS)
def test_similar_api_in_every_language(campaign, strategy, moderator, api, language):
    _publish(campaign[f"{language}-typo"], moderator)
    title, body = CAMPAIGNS[language]["sentence"]
    data = _similar(api, strategy, title, body).json()
    assert [item["id"] for item in data] == [campaign[f"{language}-typo"].pk]


def test_similar_api_may_be_called_with_no_title(published, strategy, api):
    response = _similar(api, strategy, "", RU_BODY)
    assert response.status_code == 200
    assert {item["id"] for item in response.json()} == _ids(published, "ru-typo", "ru-sentence")


def test_similar_api_of_a_closed_strategy_is_allowed(published, strategy, api):
    Strategy.objects.filter(pk=strategy.pk).update(status=Strategy.Status.CLOSED)
    assert _similar(api, strategy, RU_TITLE, RU_BODY).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": RU_TITLE, "body": RU_BODY}, "strategy"),
        ({"strategy": "almaty-test", "body": RU_BODY}, "title"),
        ({"strategy": "almaty-test", "title": RU_TITLE}, "body"),
        ({"strategy": 1, "title": RU_TITLE, "body": RU_BODY}, "strategy"),
        ({"strategy": ["almaty-test"], "title": RU_TITLE, "body": RU_BODY}, "strategy"),
        ({"strategy": None, "title": RU_TITLE, "body": RU_BODY}, "strategy"),
        ({"strategy": "no-such-plan", "title": RU_TITLE, "body": RU_BODY}, "strategy"),
        ({"strategy": "draft-plan", "title": RU_TITLE, "body": RU_BODY}, "strategy"),
        ({"strategy": "almaty\x00test", "title": RU_TITLE, "body": RU_BODY}, "strategy"),
        ({"strategy": "almaty-test", "title": 12345, "body": RU_BODY}, "title"),
        ({"strategy": "almaty-test", "title": True, "body": RU_BODY}, "title"),
        ({"strategy": "almaty-test", "title": None, "body": RU_BODY}, "title"),
        ({"strategy": "almaty-test", "title": RU_TITLE, "body": ["a", "b"]}, "body"),
        ({"strategy": "almaty-test", "title": RU_TITLE, "body": {"text": RU_BODY}}, "body"),
        ({"strategy": "almaty-test", "title": RU_TITLE, "body": 3.5}, "body"),
        ({"strategy": "almaty-test", "title": RU_TITLE, "body": ""}, "body"),
        ({"strategy": "almaty-test", "title": "Пар\x00к", "body": RU_BODY}, "title"),
        ({"strategy": "almaty-test", "title": RU_TITLE, "body": RU_BODY + "\x00"}, "body"),
        ({"strategy": "almaty-test", "title": RU_TITLE, "body": "x" * 100_001}, "body"),
    ],
)
def test_similar_api_names_the_bad_field(strategy, api, payload, field):
    StrategyFactory(slug="draft-plan", code_prefix="DRF", status=Strategy.Status.DRAFT)
    response = api.post(SIMILAR, payload, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"not json", b"{"])
def test_similar_api_wants_a_json_object(strategy, api, body):
    response = api.post(SIMILAR, body, content_type="application/json")
    assert response.status_code == 400


def test_similar_api_is_throttled_in_its_own_scope(strategy, api, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"similar": "2/minute"})
    codes = [_similar(api, strategy, RU_TITLE, RU_BODY).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_similar_api_takes_only_post(strategy, api):
    assert api.get(SIMILAR).status_code == 405


_EXPECTED_STATUS = {
    "anonymous": 401,
    "resident": 403,
    "moderator": 200,
    "analyst": 200,
    "admin": 200,
}


@pytest.mark.parametrize("who", list(_EXPECTED_STATUS))
def test_near_duplicates_api_is_for_staff(published, people_by_role, who):
    # The resident asks about their own proposal, and still may not.
    response = client_for(people_by_role[who]).get(_near_url(published["ru-word"]))
    assert response.status_code == _EXPECTED_STATUS[who]
    if response.status_code == 200:
        data = response.json()
        assert {item["id"] for item in data} == _ids(
            published, "ru-original", "ru-sentence", "ru-punctuation", "ru-typo"
        )
        for item in data:
            assert set(item) == SIMILAR_KEYS
            assert item["url"] == f"/api/v1/proposals/{item['id']}/"
        assert {item["status"] for item in data} == {"pending", "published"}
        assert data[0]["similarity"] >= data[-1]["similarity"]


def test_near_duplicates_api_of_a_lone_proposal_is_empty(campaign, moderator):
    assert client_for(moderator).get(_near_url(campaign["en-unrelated"])).json() == []


def test_near_duplicates_api_of_an_unknown_proposal_is_404(campaign, moderator):
    assert client_for(moderator).get("/api/v1/proposals/999999/near-duplicates/").status_code == 404


@pytest.mark.parametrize("who", list(_EXPECTED_STATUS))
def test_duplicate_groups_api_is_for_staff(published, strategy, people_by_role, who):
    response = client_for(people_by_role[who]).get(_groups_url(strategy))
    assert response.status_code == _EXPECTED_STATUS[who]


def test_duplicate_groups_api_lists_groups_largest_first(published, strategy, submit, analyst):
    submit(strategy, EN_TITLE, EN_BODY + " Thank you.")
    response = client_for(analyst).get(_groups_url(strategy))
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"count", "next", "previous", "results"}
    assert (data["count"], data["next"], data["previous"]) == (3, None, None)
    first = {lang: published[f"{lang}-original"].pk for lang in CAMPAIGNS}
    assert [(g["id"], g["size"]) for g in data["results"]] == [
        (first["en"], 6),
        (first["ru"], 5),
        (first["kk"], 5),
    ]
    by_id = {g["id"]: g for g in data["results"]}
    assert by_id[first["ru"]]["statuses"] == {"pending": 3, "published": 2}
    assert by_id[first["en"]]["statuses"] == {"pending": 6}
    for group in data["results"]:
        assert set(group) == {"id", "size", "statuses", "proposals"}
        assert [p["id"] for p in group["proposals"]] == sorted(p["id"] for p in group["proposals"])
        for member in group["proposals"]:
            assert set(member) == {"id", "code", "title", "status", "language"}
    ru = by_id[first["ru"]]["proposals"]
    assert [m["id"] for m in ru] == sorted(_ids(published, *_ru()))
    assert {m["language"] for m in ru} == {"ru"}
    assert {m["language"] for m in by_id[first["kk"]]["proposals"]} == {"kk"}


def test_duplicate_groups_api_filters_and_pages(published, strategy, moderator):
    client = client_for(moderator)
    assert client.get(_groups_url(strategy), {"min_size": "6"}).json()["results"] == []
    assert client.get(_groups_url(strategy), {"min_size": "5"}).json()["count"] == 3
    first = client.get(_groups_url(strategy), {"page_size": "2"}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["previous"]
    seen = [g["id"] for g in first["results"] + second["results"]]
    assert sorted(seen) == sorted(published[f"{lang}-original"].pk for lang in CAMPAIGNS)


def test_duplicate_groups_api_of_a_strategy_without_groups(strategy, admin_user):
    data = client_for(admin_user).get(_groups_url(strategy)).json()
    assert data == {"count": 0, "next": None, "previous": None, "results": []}


def test_duplicate_groups_api_shows_staff_a_draft_strategy(admin_user):
    draft = StrategyFactory(slug="draft-plan", code_prefix="DRF", status=Strategy.Status.DRAFT)
    assert client_for(admin_user).get(_groups_url(draft)).status_code == 200


def test_duplicate_groups_api_of_an_unknown_strategy_is_404(strategy, moderator, api):
    url = "/api/v1/strategies/no-such-plan/duplicate-groups/"
    assert client_for(moderator).get(url).status_code == 404
    assert api.get(url).status_code == 401


@pytest.mark.parametrize(
    "min_size", ["1", "0", "-2", "x", "2.5", "²", "٣", "３", " 2", "", "99999999", "1000001"]
)
def test_duplicate_groups_api_refuses_a_bad_min_size(strategy, moderator, min_size):
    response = client_for(moderator).get(_groups_url(strategy), {"min_size": min_size})
    assert response.status_code == 400
    data = response.json()
    assert list(data) == ["min_size"]
    assert isinstance(data["min_size"], list) and data["min_size"]


def test_duplicate_groups_api_takes_the_largest_min_size(strategy, moderator):
    response = client_for(moderator).get(_groups_url(strategy), {"min_size": "1000000"})
    assert response.status_code == 200


def test_duplicate_groups_api_refuses_a_min_size_too_long_to_read(strategy, moderator):
    client = client_for(moderator)
    client.raise_request_exception = False
    response = client.get(_groups_url(strategy), {"min_size": "9" * 5000})
    assert response.status_code == 400
    assert list(response.json()) == ["min_size"]


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_no_author_email_or_id_in_any_duplicate_response(published, strategy, moderator, api):
    staff = client_for(moderator)
    responses = [
        _similar(api, strategy, RU_TITLE, RU_BODY),
        _similar(api, strategy, KK_TITLE, KK_BODY),
        staff.get(_near_url(published["ru-original"])),
        staff.get(_near_url(published["en-original"])),
        staff.get(_groups_url(strategy)),
        staff.get(_groups_url(strategy), {"min_size": "5", "page_size": "1"}),
    ]
    authors = list(User.objects.filter(proposals__in=published.values()).distinct())
    assert len(authors) == len(published)
    for response in responses:
        assert response.status_code == 200
        text = response.content.decode()
        assert json.loads(text)
        for author in authors:
            assert author.email not in text
            assert author.email.split("@")[0] not in text
        found = _keys(response.json())
        assert not found & {"author", "author_id", "author_name", "user", "user_id", "email"}


# --- After review: agreement, decisions, bounded lookups, query counts ----------------------


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_one_at_a_time_and_whole_strategy_give_the_same_groups(strategy, submit, seed):
    """Texts made of overlapping sentence sets (many pairs near the threshold, chains and
    triangles): the groups built one submission at a time equal a whole regrouping."""
    import random

    rng = random.Random(seed)
    for _ in range(24):
        picked = rng.sample(range(len(_POOL)), rng.randint(4, 7))
        submit(strategy, CHAIN_TITLE, " ".join(_POOL[i] for i in picked))
    incremental = _partition(strategy)
    assert any(len(group) > 1 for group in incremental)  # the case is not trivial
    duplicates_refresh(strategy_id=strategy.pk, full=True)
    assert _partition(strategy) == incremental


def test_decisions_alone_never_regroup_the_whole_strategy(campaign, strategy, moderator, settings):
    settings.CIVIC_DUPLICATE_BATCH = 3
    before = DuplicateIndex.objects.get(strategy=strategy)
    bands = set(
        FingerprintBand.objects.filter(strategy_id=strategy.pk).values_list("id", flat=True)
    )
    for proposal in list(campaign.values())[:5]:
        _publish(proposal, moderator)
    result = duplicates_refresh(strategy_id=strategy.pk)
    assert (result.full, result.fingerprinted) == (False, 0)
    after = DuplicateIndex.objects.get(strategy=strategy)
    assert after.full_rebuilds == before.full_rebuilds
    assert (
        set(FingerprintBand.objects.filter(strategy_id=strategy.pk).values_list("id", flat=True))
        == bands
    )
    assert strategies_needing_refresh() == []


def test_a_lookup_reads_a_bounded_number_of_one_groups_members(
    strategy, submit, moderator, monkeypatch
):
    from proposals.duplicates import selectors

    title, body = CAMPAIGNS["ru"]["original"]
    copies = [submit(strategy, title, f"{body} {'!' * n}") for n in range(12)]
    assert len(_partition(strategy)) == 1
    monkeypatch.setattr(selectors, "MEMBERS_PER_GROUP", 4)
    found = near_duplicates_of_proposal(user=moderator, proposal=copies[-1])
    # Like one member, like the group: four of the eleven others are enough to say so.
    assert len(found) == 4
    scores = [item.similarity for item in found]
    assert scores == sorted(scores, reverse=True)


def _campaigns(strategy, submit, count: int) -> None:
    """`count` campaigns of two copies each, of texts unlike each other (made-up words)."""
    import random

    rng = random.Random(count)
    for n in range(count):
        text = " ".join(
            "".join(rng.choice("абвгдежзиклмнопрстуфхцчшы") for _ in range(7)) for _ in range(30)
        )
        for copy in range(2):
            submit(strategy, f"Кампания номер {n}", f"{text} {'!' * copy}")


@pytest.mark.parametrize("count", [2, 12])
def test_the_groups_api_makes_the_same_queries_for_any_number_of_groups(
    strategy, submit, moderator, django_assert_max_num_queries, count
):
    _campaigns(strategy, submit, count)
    client = client_for(moderator)
    assert client.get(_groups_url(strategy)).json()["count"] == count
    with django_assert_max_num_queries(8):
        response = client.get(_groups_url(strategy))
    assert response.status_code == 200
