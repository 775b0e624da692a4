"""Charts of a tally, drawn as SVG by the templates from these numbers.

Every chart is a list of bars with a label, a value and a length in percent of
the largest; the same numbers are shown as a table beside it.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from frontend import labels
from proposals.charts import Bar, bars

__all__ = ["Bar", "Chart", "Day", "bars", "days", "tally_charts"]


@dataclass
class Chart:
    slug: str
    title: str
    bars: list[Bar]

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)


@dataclass
class Day:
    date: date
    received: int
    published: int
    x: int
    received_height: float
    published_height: float


def tally_charts(
    tally: dict[str, Any], reference: Any, section_titles: dict[int, str]
) -> dict[str, Any]:
    """Every chart of the tallies page from the snapshot alone."""
    themes = reference.theme_by_slug
    districts = reference.district_by_slug
    # Largest first: the snapshot lists themes in their fixed order (ties keep it).
    by_theme = bars(
        [
            (
                row["theme"],
                themes[row["theme"]].name if row["theme"] in themes else row["theme"],
                row["count"],
            )
            for row in sorted(tally.get("by_theme", []), key=lambda row: -row["count"])
        ]
    )
    by_section = bars(
        [
            (
                row["code"] or "",
                f"{row['code']}. {section_titles.get(row['section'], '')}"
                if row["code"]
                else _("The whole document"),
                row["count"],
            )
            for row in tally.get("by_section", [])
        ]
    )
    by_district = bars(
        [
            (
                row["district"] or "",
                districts[row["district"]].name
                if row["district"] in districts
                else _("District not specified"),
                row["count"],
            )
            for row in tally.get("by_district", [])
        ]
    )
    by_language = bars(
        [
            (
                row["language"],
                str(labels.LANGUAGE.get(row["language"], row["language"])),
                row["count"],
            )
            for row in tally.get("by_language", [])
        ]
    )
    reactions = bars(
        [
            (kind, str(labels.REACTION.get(kind, kind)), count)
            for kind, count in tally.get("reactions", {}).items()
        ]
    )
    return {
        "lists": [
            Chart("theme", _("Published proposals by theme"), by_theme),
            Chart("section", _("Published proposals by section"), by_section),
            Chart("district", _("Published proposals by district"), by_district),
            Chart("language", _("Published proposals by language"), by_language),
            Chart("reactions", _("Reactions to published proposals"), reactions),
        ],
        "days": days(tally.get("by_day", [])),
        # The day chart's scale: the top of its columns.
        "days_max": max(
            (max(row["received"], row["published"]) for row in tally.get("by_day", [])),
            default=0,
        ),
    }


def days(rows: list[dict[str, Any]]) -> list[Day]:
    """Columns of a day chart: 10 units wide each, heights in percent of the busiest day."""
    top = max((max(row["received"], row["published"]) for row in rows), default=0) or 1
    return [
        Day(
            date=date.fromisoformat(row["date"]),
            received=row["received"],
            published=row["published"],
            x=10 * index,
            received_height=round(100 * row["received"] / top, 1),
            published_height=round(100 * row["published"] / top, 1),
        )
        for index, row in enumerate(rows)
    ]
