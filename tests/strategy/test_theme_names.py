"""The Kazakh name of the housing theme is written out by a data migration, which leaves a name
an operator chose alone, both ways."""

from importlib import import_module

import pytest
from django.apps import apps

from strategy.models import Theme

migration = import_module("strategy.migrations.0005_kk_theme_names")

WRITTEN_OUT = "Тұрғын үй-коммуналдық шаруашылық"


def _housing() -> Theme:
    return Theme.objects.get(slug="housing_utilities")


@pytest.mark.django_db
def test_a_migrated_database_names_the_housing_theme_in_full():
    assert _housing().name_kk == WRITTEN_OUT


@pytest.mark.django_db
def test_the_migration_turns_the_default_abbreviation_into_the_full_name_and_back():
    Theme.objects.filter(slug="housing_utilities").update(name_kk="ТКШ")
    migration.write_out(apps, None)
    assert _housing().name_kk == WRITTEN_OUT
    migration.abbreviate(apps, None)
    assert _housing().name_kk == "ТКШ"


@pytest.mark.django_db
def test_a_name_the_operator_chose_is_kept_both_ways():
    Theme.objects.filter(slug="housing_utilities").update(name_kk="Тұрғын үй және коммуналдық")
    migration.write_out(apps, None)
    assert _housing().name_kk == "Тұрғын үй және коммуналдық"
    migration.abbreviate(apps, None)
    assert _housing().name_kk == "Тұрғын үй және коммуналдық"
    # The other themes are never touched.
    assert Theme.objects.get(slug="ecology").name_kk == "Экология"
