"""Issue 12 in a real browser: the printable report summary on a phone."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.utils import translation

from proposals.charts import bars
from proposals.reports import writers


def _summary_file(tmp_path, language: str):
    report = SimpleNamespace(pk=12, language=language)
    strategy = SimpleNamespace(title="Стратегия развития города Алматы до 2050 года")
    title = "Больше деревьев во дворах микрорайонов Алмагуль и Орбита вдоль арыков"
    context = {
        "report": report,
        "strategy": strategy,
        "total": 1234,
        "generated_at": datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
        "filters": [
            ("Темы", "Транспорт, Экология и охрана окружающей среды"),
            ("Статус", "Опубликовано"),
        ],
        "charts": [
            {
                "slug": "by_section",
                "title": "По разделам",
                "bars": bars([("", "1.2. Зелёный город и общественные пространства", 120)]),
            }
        ],
        "days": [(date(2026, 11, 1), 1000)],
        "top_by_theme": [
            {"theme": "Транспорт", "proposals": [("ALA2050-000001", title, 12345, 23456)]}
        ],
        "reaction_names": ["Нравится"],
    }
    path = tmp_path / "summary.html"
    with translation.override(language):
        writers.write_html(path, context)
    return path


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_report_summary_does_not_scroll_sideways_at_360(chromium, tmp_path, language):
    page = chromium.new_page(viewport={"width": 360, "height": 800})
    try:
        page.goto(_summary_file(tmp_path, language).as_uri())
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
    finally:
        page.close()
    assert widths[0] <= widths[1], widths
