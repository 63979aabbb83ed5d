"""Chart numbers and geometry: rounding, axes, stacked and grouped bars, lines with gaps, CSV."""
from __future__ import annotations

from decimal import Decimal

import pytest

from postal_svc.documents.charts import (
    MAX_BAR, Category, ChartData, ChartKind, Series, layout, nice_scale, percent_of)


def days(*labels: str) -> tuple[Category, ...]:
    return tuple(Category(f"2020-03-{label}", f"{label}/03") for label in labels)


@pytest.mark.parametrize(("part", "whole", "expected"), [
    (2, 3, Decimal("66.7")), (1, 8, Decimal("12.5")), (1, 2000, Decimal("0.1")),  # half up
    (0, 5, Decimal("0.0")), (5, 5, Decimal("100.0")), (1, 0, None)])
def test_a_rate_is_a_percentage_with_one_decimal_rounded_half_up(part, whole, expected):
    assert percent_of(part, whole) == expected


@pytest.mark.parametrize(("maximum", "top", "ticks"), [
    (23, 30, [0, 10, 20, 30]), (4, 4, [0, 1, 2, 3, 4]), (100, 100, [0, 25, 50, 75, 100]),
    (93_500, 100_000, [0, 25_000, 50_000, 75_000, 100_000]), (0, 1, [0, 1])])
def test_an_axis_ends_on_a_round_number_just_above_the_largest_value(maximum, top, ticks):
    assert nice_scale(maximum) == (top, ticks)


def test_stacked_bars_pile_each_days_channels_up_to_the_days_total():
    chart = ChartData("c", ChartKind.STACKED, ("day",), days("01", "02"), (
        Series("online", "Online", (1, 3)), Series("counter", "Counter", (0, 1)),
        Series("total", "Total", (1, 4), drawn=False)))
    box = layout(chart)
    second_day = [r for r in box.rects if r.category == 1]
    assert [r.value for r in second_day] == [3, 1]  # the zero on day 1 draws nothing
    assert len(box.rects) == 3
    full = box.bottom - box.top  # the axis tops out at 4 = the day's total
    assert sum(r.height for r in second_day) == pytest.approx(full)
    assert second_day[1].y + second_day[1].height == pytest.approx(second_day[0].y)
    assert box.ticks[-1].value == 4


def test_grouped_bars_stand_side_by_side_and_a_lone_month_is_not_a_wall():
    chart = ChartData("r", ChartKind.GROUPED, ("month",), (Category("2020-03", "03/2020"),), (
        Series("revenue_vnd", "Revenue", (66_800,)), Series("discount_vnd:X", "X", (11_200,))))
    revenue, discount = layout(chart).rects
    assert revenue.width == discount.width == MAX_BAR
    assert discount.x == pytest.approx(revenue.x + revenue.width)
    assert revenue.height > discount.height


def test_a_rate_line_breaks_where_there_is_nothing_to_divide():
    chart = ChartData("t", ChartKind.LINE, ("day",), days("01", "02", "03", "04"), (
        Series("pct", "%", (Decimal("50.0"), None, Decimal("100.0"), Decimal("75.0"))),),
        percent=True)
    box = layout(chart)
    assert [len(points) for _, points in box.lines] == [1, 2]
    assert [p.category for p in box.points] == [0, 2, 3]
    top_point = box.points[1]
    assert top_point.y == pytest.approx(box.top)  # 100% is the top of a percent axis


def test_a_horizontal_bar_chart_puts_labels_left_and_scales_percentages_to_100():
    chart = ChartData("w", ChartKind.HBAR, ("ward_code", "ward_name"),
                      (Category("26794", "Phường Linh Xuân"), Category("", "Chưa rõ")),
                      (Series("pct", "%", (Decimal("50.0"), Decimal("0.0"))),), percent=True)
    box = layout(chart)
    assert box.horizontal and [label.text for label in box.labels] == ["Phường Linh Xuân",
                                                                        "Chưa rõ"]
    (bar,) = box.rects
    assert bar.width == pytest.approx((box.right - box.left) / 2)


def test_many_days_get_at_most_a_dozen_axis_labels():
    chart = ChartData("c", ChartKind.STACKED, ("day",),
                      tuple(Category(str(i), str(i)) for i in range(366)),
                      (Series("n", "n", tuple(1 for _ in range(366))),))
    assert len(layout(chart).labels) <= 12


def test_the_csv_is_the_table_with_formula_like_text_defused():
    chart = ChartData("w", ChartKind.HBAR, ("ward_code", "ward_name"),
                      (Category("1", "=cmd()"), Category("2", "Phường 7")), (
                          Series("orders", "Orders", (3, 0), drawn=False),
                          Series("pct", "%", (Decimal("66.7"), None))), percent=True)
    assert chart.csv_rows() == [["ward_code", "ward_name", "orders", "pct"],
                                ["1", "'=cmd()", "3", "66.7"], ["2", "Phường 7", "0", ""]]
    assert [values for _, values in chart.table()] == [[3, Decimal("66.7")], [0, None]]


def test_a_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError):
        ChartData("c", ChartKind.LINE, ("day",), days("01", "02"), (Series("n", "n", (1,)),))
