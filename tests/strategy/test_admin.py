"""Administrators import documents and set the consultation dates in the Django admin."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from strategy.models import Strategy

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[2] / "strategy" / "demo"


def test_admin_imports_a_document_in_three_languages(client, admin_user):
    client.force_login(admin_user)
    files = [SimpleUploadedFile(p.name, p.read_bytes()) for p in sorted(DEMO.glob("*.md"))]
    response = client.post("/admin/strategy/strategy/import/", {"files": files})
    assert response.status_code == 302, response.content.decode()[:2000]
    strategy = Strategy.objects.get(slug="almaty-2050")
    assert strategy.title_kk and strategy.title_en and strategy.title_ru
    assert strategy.sections.count() >= 10


def test_admin_import_errors_name_the_file_and_change_nothing(client, admin_user):
    client.force_login(admin_user)
    bad = SimpleUploadedFile("broken.ru.md", b"---\nlanguage: ru\n---\n# Title\n")
    response = client.post("/admin/strategy/strategy/import/", {"files": [bad]})
    assert response.status_code == 200
    # The admin capitalises messages; the file and line are there all the same.
    assert "broken.ru.md:1: no slug" in response.content.decode().lower()
    assert not Strategy.objects.exists()


def test_admin_changes_status_and_dates_through_the_service(client, admin_user, strategy):
    client.force_login(admin_user)
    response = client.post(
        f"/admin/strategy/strategy/{strategy.pk}/change/",
        {
            "status": "closed",
            "opens_at": "2026-01-01",
            "closes_at": "2026-02-01",
            "sections-TOTAL_FORMS": "0",
            "sections-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    strategy.refresh_from_db()
    assert (strategy.status, str(strategy.closes_at)) == ("closed", "2026-02-01")


def test_residents_cannot_reach_the_admin(client, resident):
    client.force_login(resident)
    assert client.get("/admin/strategy/strategy/import/").status_code == 302


def test_renaming_a_theme_in_the_admin_redoes_every_tally(client, admin_user, strategy):
    from proposals.models import Tally
    from proposals.tallies.services import tally_rebuild
    from strategy.models import Theme

    tally_rebuild(strategy_id=strategy.pk)
    assert not Tally.objects.get(strategy=strategy).is_dirty
    theme = Theme.objects.get(slug="ecology")
    client.force_login(admin_user)
    response = client.post(
        f"/admin/strategy/theme/{theme.pk}/change/",
        {
            "slug": "ecology",
            "position": 0,
            "name_ru": "Экология и климат",
            "name_kk": "Экология",
            "name_en": "Ecology",
            "description_ru": "",
            "description_kk": "",
            "description_en": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    theme.refresh_from_db()
    assert theme.name_ru == "Экология и климат"
    assert Tally.objects.get(strategy=strategy).is_dirty
