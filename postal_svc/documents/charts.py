"""Chart data and its geometry for inline SVG: stacked, grouped and horizontal bars, lines.

Pure: a report builds a `ChartData` (the numbers, with labels in the reader's language); the
page draws `layout(chart)` and lists `chart.table()`, and the CSV download is
`chart.csv_rows()`, so the picture, the table and the file show the same numbers by
construction. No fonts are measured: labels are placed, not fitted, and long ones shortened.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Callable

Number = int | Decimal
Scale = Callable[[float], float]  # a value to its position on the value axis


class ChartKind(StrEnum):
    STACKED = "stacked"  # one bar per category, drawn series on top of each other
    GROUPED = "grouped"  # drawn series side by side in each category
    HBAR = "hbar"        # one horizontal bar per category (one drawn series)
    LINE = "line"        # one line per drawn series; None leaves a gap


@dataclass(frozen=True)
class Category:
    """One position on the category axis: `key` goes to the CSV, `label` on the chart."""

    key: str
    label: str


@dataclass(frozen=True)
class Series:
    """Numbers per category; `drawn` False: listed in the table and CSV, not drawn (e.g. the
    counts a rate is made of)."""

    key: str
    label: str
    values: tuple[Number | None, ...]
    drawn: bool = True


@dataclass(frozen=True)
class ChartData:
    """A chart's numbers. `category_header` names the CSV's first column (the key) and, when
    it has two names, a second column with the label (e.g. ward_code, ward_name)."""

    key: str
    kind: ChartKind
    category_header: tuple[str, ...]
    categories: tuple[Category, ...]
    series: tuple[Series, ...]
    percent: bool = False

    def __post_init__(self) -> None:
        if len(self.category_header) not in (1, 2):
            raise ValueError("category_header names one or two columns")
        for series in self.series:
            if len(series.values) != len(self.categories):
                raise ValueError(f"series {series.key}: one value per category expected")
        if self.kind is ChartKind.HBAR and len(self.drawn) != 1:
            raise ValueError("a horizontal bar chart draws exactly one series")

    @property
    def drawn(self) -> tuple[Series, ...]:
        return tuple(series for series in self.series if series.drawn)

    @property
    def empty(self) -> bool:
        """Nothing to draw: no category, or every drawn value zero or missing."""
        return not any(value for series in self.drawn for value in series.values)

    def table(self) -> list[tuple[Category, list[Number | None]]]:
        """Each category with every series' value, in series order (the page's data table)."""
        return [(category, [series.values[i] for series in self.series])
                for i, category in enumerate(self.categories)]

    def csv_rows(self) -> list[list[str]]:
        """A header (category columns, then series keys) and one row per category; a missing
        value is an empty cell. Text a spreadsheet would run as a formula gets an apostrophe."""
        rows = [[*self.category_header, *(_cell(series.key) for series in self.series)]]
        for category, values in self.table():
            first = [_cell(category.key)]
            if len(self.category_header) == 2:
                first.append(_cell(category.label))
            rows.append([*first, *("" if value is None else str(value) for value in values)])
        return rows


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def percent_of(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` in percent, one decimal, rounded half up; None when `whole` is 0."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


# -- geometry ------------------------------------------------------------------------------------

WIDTH = 960
HEIGHT = 320
MAX_CATEGORY_LABELS = 12
LABEL_CHARS = 28
MAX_BAR = 56.0


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    series: int
    category: int
    value: Number


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    series: int
    category: int
    value: Number


@dataclass(frozen=True)
class Tick:
    """A gridline of the value axis at `position` (y, or x for horizontal bars)."""

    position: float
    value: Number


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    ticks: list[Tick] = field(default_factory=list)
    rects: list[Rect] = field(default_factory=list)
    lines: list[tuple[int, list[tuple[float, float]]]] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    horizontal: bool = False  # the value axis runs left to right (horizontal bars)


def nice_scale(maximum: float, steps: int = 4) -> tuple[Number, list[Number]]:
    """A round top for an axis reaching `maximum` and its gridline values from 0, e.g. 23 ->
    (30, [0, 10, 20, 30]); whole numbers, except steps below 1 (small percentages)."""
    if maximum <= 0:
        return 1, [0, 1]
    raw = maximum / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    count = math.ceil(maximum / step - 1e-9)
    if step >= 1 and float(step).is_integer():
        whole = int(step)
        return whole * count, [whole * i for i in range(count + 1)]
    exact = Decimal(str(step))
    return exact * count, [exact * i for i in range(count + 1)]


def short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def layout(chart: ChartData, width: int = WIDTH, height: int = HEIGHT) -> Layout:
    """Where everything goes in a `width` x `height` SVG (its viewBox)."""
    if chart.kind is ChartKind.HBAR:
        return _horizontal(chart, width)
    left, top, right, bottom = 64.0, 12.0, width - 12.0, height - 40.0
    drawn = chart.drawn
    n = max(len(chart.categories), 1)
    if chart.kind is ChartKind.STACKED:
        tallest = max((sum(float(s.values[i] or 0) for s in drawn)
                       for i in range(len(chart.categories))), default=0.0)
    else:
        tallest = max((float(v) for s in drawn for v in s.values if v is not None), default=0.0)
    if chart.percent:
        tallest = 100.0
    top_value, tick_values = nice_scale(tallest)

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * value / float(top_value)

    result = Layout(width, height, left, top, right, bottom,
                    ticks=[Tick(y_of(float(v)), v) for v in tick_values])
    slot = (right - left) / n
    every = math.ceil(len(chart.categories) / MAX_CATEGORY_LABELS) or 1
    for i, category in enumerate(chart.categories):
        if i % every == 0:
            result.labels.append(Label(left + slot * (i + 0.5), bottom + 18, short(category.label)))
    if chart.kind is ChartKind.LINE:
        _lines(chart, result, slot, y_of)
    else:
        _bars(chart, result, slot, y_of)
    return result


def _bars(chart: ChartData, result: Layout, slot: float, y_of: Scale) -> None:
    """Bars centred in their category's slot, at most MAX_BAR wide (a month alone on the axis
    still reads as a bar, not a wall)."""
    drawn = chart.drawn
    per_category = 1 if chart.kind is ChartKind.STACKED else max(len(drawn), 1)
    width = min((slot - min(slot * 0.2, 8.0)) / per_category, MAX_BAR)
    for i in range(len(chart.categories)):
        x = result.left + slot * (i + 0.5) - width * per_category / 2
        base = 0.0
        for s, series in enumerate(drawn):
            value = series.values[i]
            if not value:
                continue
            if chart.kind is ChartKind.STACKED:
                y_top, y_base = y_of(base + float(value)), y_of(base)
                result.rects.append(Rect(x, y_top, width, y_base - y_top, s, i, value))
                base += float(value)
            else:
                y_top = y_of(float(value))
                result.rects.append(Rect(x + width * s, y_top, width, result.bottom - y_top,
                                         s, i, value))


def _lines(chart: ChartData, result: Layout, slot: float, y_of: Scale) -> None:
    for s, series in enumerate(chart.drawn):
        segment: list[tuple[float, float]] = []
        for i, value in enumerate(series.values):
            if value is None:
                if segment:
                    result.lines.append((s, segment))
                segment = []
                continue
            point = Point(result.left + slot * (i + 0.5), y_of(float(value)), s, i, value)
            result.points.append(point)
            segment.append((point.x, point.y))
        if segment:
            result.lines.append((s, segment))


def _horizontal(chart: ChartData, width: int) -> Layout:
    row = 26.0
    left, top, right = 220.0, 8.0, width - 56.0
    bottom = top + row * max(len(chart.categories), 1)
    series = chart.drawn[0]
    tallest = 100.0 if chart.percent else max(
        (float(v) for v in series.values if v is not None), default=0.0)
    top_value, tick_values = nice_scale(tallest)

    def x_of(value: float) -> float:
        return left + (right - left) * value / float(top_value)

    result = Layout(width, int(bottom + 28), left, top, right, bottom,
                    ticks=[Tick(x_of(float(v)), v) for v in tick_values], horizontal=True)
    for i, category in enumerate(chart.categories):
        y = top + row * i
        result.labels.append(Label(left - 8, y + row * 0.65, short(category.label)))
        value = series.values[i]
        if value:
            result.rects.append(Rect(left, y + 4, x_of(float(value)) - left, row - 8, 0, i,
                                     value))
    return result
