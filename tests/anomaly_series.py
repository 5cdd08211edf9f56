"""Synthetic weekly KPI series with known anomalies, and how well kpi_core.anomalies finds them: shared by
tests/test_anomalies.py (bounds that can fail) and bench/anomalies.py (the README's figures)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from kpi_core.anomalies import MIN_HISTORY, judge


@dataclass(frozen=True)
class Series:
    values: list[float]
    anomalies: frozenset[int]  # indexes of the injected anomalies


@dataclass(frozen=True)
class Rates:
    normal_weeks: int
    false_positives: int
    anomalies: int
    detected: int

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.normal_weeks if self.normal_weeks else 0.0

    @property
    def detection_rate(self) -> float:
        return self.detected / self.anomalies if self.anomalies else 0.0

    def __add__(self, other: Rates) -> Rates:
        return Rates(
            self.normal_weeks + other.normal_weeks,
            self.false_positives + other.false_positives,
            self.anomalies + other.anomalies,
            self.detected + other.detected,
        )


def synthetic(
    rng: random.Random,
    *,
    weeks: int = 156,
    level: float = 100.0,
    noise: float = 5.0,
    season: float = 0.0,
    trend: float = 0.0,
    anomaly_every: int = 20,
    anomaly_size: float = 6.0,
) -> Series:
    """Normal noise around a level with a trend (per week) and a yearly wave of amplitude ``season``; about
    one week in ``anomaly_every`` (after the first year) is pushed ``anomaly_size`` noise deviations away."""
    values = []
    anomalies = set()
    for week in range(weeks):
        value = level + trend * week + season * math.sin(2 * math.pi * week / 52) + rng.gauss(0, noise)
        if week >= MIN_HISTORY and rng.random() < 1 / anomaly_every:
            value += rng.choice((-1, 1)) * anomaly_size * noise
            anomalies.add(week)
        values.append(value)
    return Series(values, frozenset(anomalies))


def rates(series: Series, *, threshold: float, first_week: int = MIN_HISTORY) -> Rates:
    """Each week from ``first_week`` judged against the weeks before it, as the digest does."""
    false_positives = detected = normal = 0
    for week in range(first_week, len(series.values)):
        found = judge(series.values[:week], series.values[week])
        flagged = found is not None and found.unusual(threshold)
        if week in series.anomalies:
            detected += flagged
        else:
            normal += 1
            false_positives += flagged
    anomalies = sum(1 for week in series.anomalies if week >= first_week)
    return Rates(normal, false_positives, anomalies, detected)


def measure(kind: str, *, runs: int, seed: int, threshold: float, first_week: int = MIN_HISTORY) -> Rates:
    """Rates over ``runs`` series of one kind: ``flat``, ``trend`` or ``seasonal``."""
    rng = random.Random(seed)
    shape = {"flat": {}, "trend": {"trend": 0.3}, "seasonal": {"season": 20.0}}[kind]
    total = Rates(0, 0, 0, 0)
    for _ in range(runs):
        total += rates(synthetic(rng, **shape), threshold=threshold, first_week=first_week)  # type: ignore[arg-type]
    return total
