"""Periods: ISO weeks, months, quarters and years; labels, navigation and edge cases around year ends."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kpi_core.errors import PeriodError
from kpi_core.periods import Period, PeriodKind


@pytest.mark.parametrize(
    ("label", "kind", "start", "end"),
    [
        pytest.param("2026-W01", PeriodKind.WEEK, date(2025, 12, 29), date(2026, 1, 5), id="week-1-starts-in-2025"),
        pytest.param("2026-W40", PeriodKind.WEEK, date(2026, 9, 28), date(2026, 10, 5), id="week-40"),
        pytest.param("2026-W53", PeriodKind.WEEK, date(2026, 12, 28), date(2027, 1, 4), id="week-53-of-2026"),
        pytest.param("2020-W53", PeriodKind.WEEK, date(2020, 12, 28), date(2021, 1, 4), id="week-53-of-2020"),
        pytest.param("2025-W52", PeriodKind.WEEK, date(2025, 12, 22), date(2025, 12, 29), id="last-week-of-2025"),
        pytest.param("2026-01", PeriodKind.MONTH, date(2026, 1, 1), date(2026, 2, 1), id="january"),
        pytest.param("2026-02", PeriodKind.MONTH, date(2026, 2, 1), date(2026, 3, 1), id="february"),
        pytest.param("2028-02", PeriodKind.MONTH, date(2028, 2, 1), date(2028, 3, 1), id="leap-february"),
        pytest.param("2026-12", PeriodKind.MONTH, date(2026, 12, 1), date(2027, 1, 1), id="december"),
        pytest.param("2026-Q1", PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 4, 1), id="q1"),
        pytest.param("2026-Q2", PeriodKind.QUARTER, date(2026, 4, 1), date(2026, 7, 1), id="q2"),
        pytest.param("2026-Q3", PeriodKind.QUARTER, date(2026, 7, 1), date(2026, 10, 1), id="q3"),
        pytest.param("2026-Q4", PeriodKind.QUARTER, date(2026, 10, 1), date(2027, 1, 1), id="q4"),
        pytest.param("2027", PeriodKind.YEAR, date(2027, 1, 1), date(2028, 1, 1), id="year"),
        pytest.param("2028", PeriodKind.YEAR, date(2028, 1, 1), date(2029, 1, 1), id="leap-year"),
        pytest.param("1900", PeriodKind.YEAR, date(1900, 1, 1), date(1901, 1, 1), id="first-year"),
        pytest.param("9990", PeriodKind.YEAR, date(9990, 1, 1), date(9991, 1, 1), id="last-year"),
    ],
)
def test_parse_gives_bounds_and_label_round_trips(label, kind, start, end):
    period = Period.parse(label)
    assert (period.kind, period.start, period.end) == (kind, start, end)
    assert period.label == label
    assert str(period) == label
    assert Period.parse(period.label) == period


@pytest.mark.parametrize(
    ("text", "label"),
    [
        pytest.param(" 2026-w40 ", "2026-W40", id="lower-case-week-with-spaces"),
        pytest.param("2026-q3", "2026-Q3", id="lower-case-quarter"),
    ],
)
def test_parse_is_lenient_about_case_and_surrounding_spaces(text, label):
    assert Period.parse(text).label == label


@pytest.mark.parametrize(
    "label",
    [
        pytest.param("2026-W54", id="week-54"),
        pytest.param("2025-W53", id="week-53-of-a-52-week-year"),
        pytest.param("2026-W00", id="week-0"),
        pytest.param("2026-W1", id="week-one-digit"),
        pytest.param("2026-13", id="month-13"),
        pytest.param("2026-00", id="month-0"),
        pytest.param("2026-1", id="month-one-digit"),
        pytest.param("2026-Q5", id="quarter-5"),
        pytest.param("2026-Q0", id="quarter-0"),
        pytest.param("202", id="three-digit-year"),
        pytest.param("02027", id="five-digit-year"),
        pytest.param("2027-", id="year-and-dash"),
        pytest.param("1899", id="year-before-1900"),
        pytest.param("9991", id="year-after-9990"),
        pytest.param("0000", id="year-0"),
        pytest.param("9999", id="year-ending-after-year-9999"),
        pytest.param("26-09", id="two-digit-year"),
        pytest.param("2026/09", id="slash"),
        pytest.param("2026-09-01", id="a-day"),
        pytest.param("", id="empty"),
        pytest.param("September", id="words"),
        pytest.param("0999-12", id="before-1900"),
        pytest.param("1899-W52", id="week-before-1900"),
        pytest.param("9991-01", id="after-9990"),
        pytest.param("0000-01", id="year-0-month"),
        pytest.param("0000-Q1", id="year-0-quarter"),
        pytest.param("0000-W01", id="year-0-week"),
        pytest.param("9999-12", id="month-ending-after-year-9999"),
        pytest.param("9999-Q4", id="quarter-ending-after-year-9999"),
        pytest.param("9999-W52", id="week-ending-after-year-9999"),
    ],
)
def test_bad_labels_raise_period_error(label):
    with pytest.raises(PeriodError) as raised:
        Period.parse(label)
    assert raised.value.label == label
    assert repr(label) in str(raised.value)


def test_period_error_explains_the_missing_week():
    with pytest.raises(PeriodError, match="2025 has no ISO week 53"):
        Period.parse("2025-W53")


@pytest.mark.parametrize(
    ("kind", "day", "label"),
    [
        pytest.param("week", date(2026, 1, 1), "2026-W01", id="new-year-thursday"),
        pytest.param("week", date(2025, 12, 29), "2026-W01", id="monday-of-week-1"),
        pytest.param("week", date(2025, 12, 28), "2025-W52", id="sunday-before-week-1"),
        pytest.param("week", date(2026, 12, 31), "2026-W53", id="new-years-eve-2026"),
        pytest.param("week", date(2027, 1, 3), "2026-W53", id="last-day-of-week-53"),
        pytest.param("week", date(2027, 1, 4), "2027-W01", id="first-day-after-week-53"),
        pytest.param("week", date(2021, 1, 3), "2020-W53", id="january-in-2020-w53"),
        pytest.param("month", date(2026, 2, 28), "2026-02", id="end-of-february"),
        pytest.param("quarter", date(2026, 3, 31), "2026-Q1", id="last-day-of-q1"),
        pytest.param("quarter", date(2026, 4, 1), "2026-Q2", id="first-day-of-q2"),
        pytest.param("quarter", date(2026, 6, 30), "2026-Q2", id="last-day-of-q2"),
        pytest.param("quarter", date(2026, 7, 1), "2026-Q3", id="first-day-of-q3"),
        pytest.param("quarter", date(2026, 9, 30), "2026-Q3", id="last-day-of-q3"),
        pytest.param("quarter", date(2026, 10, 1), "2026-Q4", id="first-day-of-q4"),
        pytest.param("quarter", date(2026, 12, 31), "2026-Q4", id="last-day-of-q4"),
        pytest.param("year", date(2027, 1, 1), "2027", id="new-years-day"),
        pytest.param("year", date(2027, 12, 31), "2027", id="new-years-eve"),
        pytest.param("year", date(2028, 2, 29), "2028", id="leap-day"),
    ],
)
def test_containing(kind, day, label):
    period = Period.containing(kind, day)
    assert period.label == label
    assert period.contains(day)
    assert period.start <= day < period.end


def test_iso_week_53_of_2026_runs_from_28_december_to_3_january():
    week = Period.parse("2026-W53")
    assert week.start == date(2026, 12, 28)  # a Monday
    assert week.start.weekday() == 0
    assert week.contains(date(2027, 1, 3))  # the Sunday, in 2027
    assert not week.contains(date(2027, 1, 4))
    assert not week.contains(date(2026, 12, 27))
    assert (week.end - week.start).days == 7


def test_contains_is_half_open():
    month = Period.parse("2026-09")
    assert month.contains(date(2026, 9, 1))
    assert month.contains(date(2026, 9, 30))
    assert not month.contains(date(2026, 10, 1))
    assert not month.contains(date(2026, 8, 31))


@pytest.mark.parametrize(
    ("label", "previous", "following"),
    [
        pytest.param("2026-W01", "2025-W52", "2026-W02", id="week-1-after-a-52-week-year"),
        pytest.param("2026-W53", "2026-W52", "2027-W01", id="week-53"),
        pytest.param("2027-W01", "2026-W53", "2027-W02", id="week-1-after-a-53-week-year"),
        pytest.param("2025-W52", "2025-W51", "2026-W01", id="week-52-of-a-52-week-year"),
        pytest.param("2026-01", "2025-12", "2026-02", id="january"),
        pytest.param("2026-12", "2026-11", "2027-01", id="december"),
        pytest.param("2026-03", "2026-02", "2026-04", id="march-after-short-february"),
        pytest.param("2026-Q1", "2025-Q4", "2026-Q2", id="q1"),
        pytest.param("2026-Q4", "2026-Q3", "2027-Q1", id="q4"),
        pytest.param("2027", "2026", "2028", id="year"),
    ],
)
def test_previous_and_next_across_year_ends(label, previous, following):
    period = Period.parse(label)
    assert period.previous().label == previous
    assert period.next().label == following
    assert period.previous().end == period.start
    assert period.next().start == period.end
    assert period.next().previous() == period
    assert period.previous().next() == period


@pytest.mark.parametrize(
    ("label", "year_ago"),
    [
        pytest.param("2026-W53", "2025-W52", id="w53-maps-to-w52-when-the-year-before-has-none"),
        pytest.param("2027-W52", "2026-W52", id="w52-stays-w52-even-after-a-53-week-year"),
        pytest.param("2027-W01", "2026-W01", id="w01-starting-in-january"),
        pytest.param("2026-W01", "2025-W01", id="w01-starting-in-december"),
        pytest.param("2026-W40", "2025-W40", id="ordinary-week"),
        pytest.param("2026-09", "2025-09", id="month"),
        pytest.param("2029-02", "2028-02", id="february-after-a-leap-year"),
        pytest.param("2026-Q1", "2025-Q1", id="quarter"),
        pytest.param("2029", "2028", id="year-after-a-leap-year"),
    ],
)
def test_year_ago(label, year_ago):
    assert Period.parse(label).year_ago() == Period.parse(year_ago)


def test_2021_has_no_week_53_but_2020_does():
    # sanity for the year_ago cases above: 2020-12-31 is a Thursday, 2021-12-31 a Friday
    Period.parse("2020-W53")
    with pytest.raises(PeriodError):
        Period.parse("2021-W53")


def test_year_ago_of_2020_w53_is_2019_w52():
    week = Period.parse("2020-W53").year_ago()
    assert week.label == "2019-W52"
    assert (week.start, week.end) == (date(2019, 12, 23), date(2019, 12, 30))


def test_utc_bounds_in_utc_and_a_zone_without_dst():
    september = Period.parse("2026-09")
    assert september.utc_bounds(ZoneInfo("UTC")) == (
        datetime(2026, 9, 1, tzinfo=UTC),
        datetime(2026, 10, 1, tzinfo=UTC),
    )
    # Asia/Shanghai is UTC+8 all year: local midnight is 16:00 UTC the day before
    assert september.utc_bounds(ZoneInfo("Asia/Shanghai")) == (
        datetime(2026, 8, 31, 16, tzinfo=UTC),
        datetime(2026, 9, 30, 16, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("now", "zone", "kind", "label"),
    [
        pytest.param(datetime(2026, 9, 30, 21, 30, tzinfo=UTC), "Europe/Berlin", "month", "2026-09", id="berlin"),
        pytest.param(datetime(2026, 9, 30, 21, 30, tzinfo=UTC), "Asia/Shanghai", "month", "2026-10", id="shanghai"),
        pytest.param(
            datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
            "Asia/Shanghai",
            "quarter",
            "2027-Q1",
            id="new-year-in-shanghai",
        ),
        pytest.param(
            datetime(2026, 12, 31, 16, tzinfo=UTC), "Asia/Shanghai", "year", "2027", id="year-starts-in-shanghai"
        ),
        pytest.param(
            datetime(2026, 12, 31, 16, tzinfo=UTC), "Europe/Berlin", "year", "2026", id="still-2026-in-berlin"
        ),
        pytest.param(
            datetime(2027, 1, 4, 3, tzinfo=UTC),
            "America/New_York",
            "week",
            "2026-W53",
            id="still-sunday-in-new-york",
        ),
    ],
)
def test_current_is_read_in_the_given_zone(now, zone, kind, label):
    assert Period.current(kind, now=now, tz=ZoneInfo(zone)).label == label


def test_periods_sort_by_start():
    labels = ["2026-W40", "2025-W52", "2026-W01"]
    assert [period.label for period in sorted(Period.parse(label) for label in labels)] == [
        "2025-W52",
        "2026-W01",
        "2026-W40",
    ]


@pytest.mark.parametrize(
    ("zone", "start", "end"),
    [
        pytest.param("UTC", datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC), id="utc"),
        # UTC+8 all year: the local year starts at 16:00 UTC on New Year's Eve
        pytest.param(
            "Asia/Shanghai",
            datetime(2026, 12, 31, 16, tzinfo=UTC),
            datetime(2027, 12, 31, 16, tzinfo=UTC),
            id="shanghai",
        ),
        # winter time at both ends (UTC-5): the year's DST shifts cancel out
        pytest.param(
            "America/New_York", datetime(2027, 1, 1, 5, tzinfo=UTC), datetime(2028, 1, 1, 5, tzinfo=UTC), id="new-york"
        ),
    ],
)
def test_a_year_is_cut_in_the_teams_time_zone(zone, start, end):
    year = Period.parse("2027")
    assert year.utc_bounds(ZoneInfo(zone)) == (start, end)
    assert (year.end - year.start).days == 365
    assert Period.parse("2028").end - Period.parse("2028").start == date(2029, 1, 1) - date(2028, 1, 1)


def test_a_year_holds_its_quarters_and_months():
    year = Period.parse("2027")
    quarters = [Period.parse(f"2027-Q{number}") for number in range(1, 5)]
    months = [Period.parse(f"2027-{number:02d}") for number in range(1, 13)]
    assert quarters[0].start == months[0].start == year.start
    assert quarters[-1].end == months[-1].end == year.end
    assert all(year.contains(period.start) for period in quarters + months)
