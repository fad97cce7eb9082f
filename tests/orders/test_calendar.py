"""The month grid's neighbours: whole calendar months, across the turn of the year."""

from datetime import date

from maintenance.orders.calendar import grid_for


def test_a_month_grid_links_the_months_before_and_after_across_the_year() -> None:
    grid = grid_for("month", date(2026, 12, 31))
    assert (grid.previous, grid.next) == (date(2026, 11, 1), date(2027, 1, 1))
    grid = grid_for("month", date(2027, 1, 31))
    assert (grid.previous, grid.next) == (date(2026, 12, 1), date(2027, 2, 1))
    assert grid.weeks[0][0] <= date(2027, 1, 1)
    assert grid.weeks[-1][-1] >= date(2027, 1, 31)
