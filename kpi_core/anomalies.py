"""How unusual a KPI's weekly value is against its own history: a robust z-score (medians and the MAD),
which a few earlier outliers cannot drag along the way a mean and standard deviation would.

- The baseline is the last ``WINDOW`` weeks with data (at least ``MIN_HISTORY``; fewer, nothing is judged):
  a robust straight line through them (Theil-Sen), so a steady trend is expected rather than flagged.
- Seasonally aware: once a year of history exists and it is told clearly better by last year's same weeks
  than by a straight line (``_has_season``), the value is judged year over year instead: against the same
  week a year before (the median of it and the weeks either side, so last year's own outlier does not
  count) plus the window's typical year-over-year change. The high season is then expected, not flagged.
- score = (value - expected) / scale, where scale = 1.4826 × the MAD of the window's residuals: the
  number of standard deviations for normal noise. When more than half the residuals are equal, 1.2533 ×
  their mean absolute deviation stands in; when all are, no score is given (nothing tells how unusual).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MIN_HISTORY = 12
WINDOW = 26
SEASON = 52
#: weeks behind the judged one that the seasonal baseline can look at: a year of weeks, each with its
#: same week a year before (and the one before that)
FULL_HISTORY = 2 * SEASON + 1
MAD_TO_SIGMA = 1.4826  # MAD × this estimates the standard deviation of normal noise
MEAN_AD_TO_SIGMA = 1.2533  # so does the mean absolute deviation × this
#: the seasonal baseline judges only when its spread is below this share of the trend line's
SEASONAL_PREFERENCE = 0.8
DEFAULT_THRESHOLD = 3.5  # Iglewicz and Hoaglin's cut-off for the modified z-score


@dataclass(frozen=True)
class Anomaly:
    """A value judged against its history. ``score`` is signed: above (+) or below (-) the expected value."""

    value: float
    expected: float
    score: float
    seasonal: bool
    history: int  # weeks the baseline rests on

    def unusual(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        return abs(self.score) >= threshold


def judge(history: Sequence[float | None], value: float) -> Anomaly | None:
    """``value`` against ``history``: the weeks right before it, oldest first (None: a week without data).
    None when the history is too short or too flat to tell."""
    now = len(history)
    window = [index for index in range(max(0, now - WINDOW), now) if history[index] is not None]
    if len(window) < MIN_HISTORY:
        return None
    baseline = _trend_baseline(history, window, now)
    if _has_season(history, now):
        baseline = _seasonal_baseline(history, window, now) or baseline
    if baseline is None:
        return None
    expected, scale, is_seasonal, used = baseline
    return Anomaly(value=value, expected=expected, score=(value - expected) / scale, seasonal=is_seasonal, history=used)


_Baseline = tuple[float, float, bool, int]


def _has_season(history: Sequence[float | None], now: int) -> bool:
    """Whether the last year is better told by last year's same weeks than by a straight line: a straight
    line through a year of a seasonal KPI misses its wave, while year-over-year differences of a KPI without
    a season carry last year's noise too (about 1.2 times the spread), hence the clear margin asked for."""
    year = [index for index in range(max(0, now - SEASON), now) if history[index] is not None]
    line = _trend_baseline(history, year, now)
    yearly = _seasonal_baseline(history, year, now)
    if yearly is None or len(year) < SEASON // 2:
        return False
    return line is None or yearly[1] < SEASONAL_PREFERENCE * line[1]  # expected value, scale, seasonal, weeks used


def _trend_baseline(history: Sequence[float | None], window: list[int], now: int) -> _Baseline | None:
    """A robust straight line through the window (Theil-Sen: the median of the pairwise slopes), so a
    steady trend is expected rather than flagged."""
    points = [(index, _value(history[index])) for index in window]
    slopes = [(later - earlier) / (j - i) for n, (i, earlier) in enumerate(points) for (j, later) in points[n + 1 :]]
    slope = statistics.median(slopes)
    intercept = statistics.median(y - slope * x for x, y in points)
    scale = _scale([y - (intercept + slope * x) for x, y in points])
    if scale is None:
        return None
    return intercept + slope * now, scale, False, len(points)


def _seasonal_baseline(history: Sequence[float | None], window: list[int], now: int) -> _Baseline | None:
    """Year-over-year: each week less the same week a year before (the median of it and the weeks either
    side), judged against the window's year-over-year differences."""
    current = _year_ago(history, now)
    differences = [
        (index, _value(history[index]) - year_ago)
        for index in window
        if (year_ago := _year_ago(history, index)) is not None
    ]
    if current is None or len(differences) < MIN_HISTORY:
        return None
    values = [difference for _, difference in differences]
    centre = statistics.median(values)
    scale = _scale([difference - centre for difference in values])
    if scale is None:
        return None
    return current + centre, scale, True, len(differences)


def _year_ago(history: Sequence[float | None], index: int) -> float | None:
    same_week = [history[i] for i in range(index - SEASON - 1, index - SEASON + 2) if 0 <= i < len(history)]
    known = [item for item in same_week if item is not None]
    return statistics.median(known) if known else None


def _scale(residuals: list[float]) -> float | None:
    """The noise's standard deviation estimated from residuals: 1.4826 × their MAD, or 1.2533 × their mean
    absolute deviation when more than half of them are equal; None when all are."""
    centre = statistics.median(residuals)
    deviations = [abs(item - centre) for item in residuals]
    scale = statistics.median(deviations) * MAD_TO_SIGMA
    if scale == 0:
        scale = statistics.fmean(deviations) * MEAN_AD_TO_SIGMA
    return scale if scale > 0 and math.isfinite(scale) else None


def _value(item: float | None) -> float:
    assert item is not None  # the window holds weeks with data only
    return item
