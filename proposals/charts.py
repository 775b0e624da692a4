"""Bars of a chart: the numbers the SVG bars of pages and HTML reports are drawn from."""

from dataclasses import dataclass


@dataclass
class Bar:
    label: str
    value: int
    # Length in percent of the largest bar of its chart.
    percent: float
    key: str = ""


def bars(rows: list[tuple[str, str, int]]) -> list[Bar]:
    """(key, label, value) rows as bars scaled to the largest value."""
    top = max((value for _, _, value in rows), default=0) or 1
    return [
        Bar(key=key, label=label, value=value, percent=round(100 * value / top, 1))
        for key, label, value in rows
    ]
