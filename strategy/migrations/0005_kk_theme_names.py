"""The Kazakh name of the housing theme is written out: residents do not all read «ТКШ»."""

from django.db import migrations

SLUG = "housing_utilities"
OLD_NAME_KK = "ТКШ"
NEW_NAME_KK = "Тұрғын үй-коммуналдық шаруашылық"


def _rename(apps, old: str, new: str) -> None:
    # Only the untouched default changes: an operator who renamed the theme keeps their name.
    Theme = apps.get_model("strategy", "Theme")
    Theme.objects.filter(slug=SLUG, name_kk=old).update(name_kk=new)


def write_out(apps, schema_editor) -> None:
    _rename(apps, OLD_NAME_KK, NEW_NAME_KK)


def abbreviate(apps, schema_editor) -> None:
    _rename(apps, NEW_NAME_KK, OLD_NAME_KK)


class Migration(migrations.Migration):
    dependencies = [("strategy", "0004_first_versions")]
    operations = [migrations.RunPython(write_out, abbreviate)]
