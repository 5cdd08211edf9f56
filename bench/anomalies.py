"""False-positive and detection rates of the anomaly flags (kpi_core.anomalies) on synthetic weekly KPI
series with known anomalies: flat, trending and seasonal, each week judged against the weeks before it.

    python bench/anomalies.py [--runs 200] [--seed 1]

Series: 156 weeks of normal noise (sigma 5) around 100; "trend" adds 0.3 a week, "seasonal" a yearly
wave of amplitude 20; about one week in 20 is pushed 6 sigma away (up or down). Prints, per kind and
threshold, the share of normal weeks flagged and of anomalies found, from week 12 (the least history
judged) and from week 70 (a year of history behind the week and its window).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.anomaly_series import measure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="series per kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{args.runs} series of 156 weeks per kind, anomalies of 6 sigma, seed {args.seed}")
    print(
        f"{'series':<10} {'from week':>9} {'threshold':>9} {'normal weeks':>12} {'false pos.':>10} "
        f"{'anomalies':>9} {'found':>7}"
    )
    for kind in ("flat", "trend", "seasonal"):
        for first_week in (12, 70):
            for threshold in (3.0, 3.5, 5.0):
                rates = measure(kind, runs=args.runs, seed=args.seed, threshold=threshold, first_week=first_week)
                print(
                    f"{kind:<10} {first_week:>9} {threshold:>9} {rates.normal_weeks:>12} "
                    f"{rates.false_positive_rate:>9.2%} {rates.anomalies:>9} {rates.detection_rate:>6.1%}"
                )


if __name__ == "__main__":
    main()
