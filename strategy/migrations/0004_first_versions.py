"""Every strategy imported before versions existed gets its current text as version 1."""

from django.db import migrations

LANGUAGES = ("ru", "kk", "en")


def first_versions(apps, schema_editor):
    Strategy = apps.get_model("strategy", "Strategy")
    Section = apps.get_model("strategy", "Section")
    StrategyVersion = apps.get_model("strategy", "StrategyVersion")
    for strategy in Strategy.objects.filter(versions__isnull=True):
        codes = dict(Section.objects.filter(strategy=strategy).values_list("id", "code"))
        sections = [
            {
                "code": section.code,
                "parent_code": codes.get(section.parent_id),
                "depth": section.depth,
                "title": {lang: getattr(section, f"title_{lang}") for lang in LANGUAGES},
                "body": {lang: getattr(section, f"body_{lang}") for lang in LANGUAGES},
            }
            for section in Section.objects.filter(strategy=strategy).order_by("position")
        ]
        StrategyVersion.objects.create(
            strategy=strategy,
            number=1,
            imported_at=strategy.updated_at,
            title={lang: getattr(strategy, f"title_{lang}") for lang in LANGUAGES},
            description={lang: getattr(strategy, f"description_{lang}") for lang in LANGUAGES},
            sections=sections,
            changed_sections=[s["code"] for s in sections],
        )


class Migration(migrations.Migration):
    dependencies = [("strategy", "0003_answers_and_versions")]
    operations = [migrations.RunPython(first_versions, migrations.RunPython.noop)]
