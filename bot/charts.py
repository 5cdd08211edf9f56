"""PNG charts for Slack: a team's KPI trends over recent weeks, and the scorecard ranking as bars.

Labels use the English names: matplotlib's bundled font has no CJK glyphs (Chinese stays in the text).
"""

from __future__ import annotations

from io import BytesIO

import matplotlib

matplotlib.use("Agg")  # no display; and the object API below keeps no global state between threads

from matplotlib.figure import Figure  # noqa: E402

MAX_LINES = 6


def trend_chart(*, title: str, labels: list[str], series: dict[str, list[float | None]]) -> bytes | None:
    """One line per KPI (at most six) of its attainment in percent over the weeks in ``labels``, with the
    100 % line: one axes renders in a few tens of milliseconds, so a digest fan-out stays fast. None when
    no KPI has data in the window (the digest then says so and carries no chart)."""
    with_data = {name: values for name, values in series.items() if any(value is not None for value in values)}
    if not with_data:
        return None
    figure = Figure(figsize=(7, 3.2), dpi=80)
    figure.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.12)
    axes = figure.add_subplot()
    for name, values in list(with_data.items())[:MAX_LINES]:
        points = [(x, value) for x, value in enumerate(values) if value is not None]
        axes.plot([x for x, _ in points], [value for _, value in points], marker="o", markersize=3, label=name)
    axes.axhline(100, linestyle="--", linewidth=1, color="grey")
    axes.set_title(title, fontsize=10)
    axes.set_ylabel("% of target", fontsize=8)
    axes.set_xticks(range(len(labels)), [label.split("-")[-1] for label in labels], fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    axes.legend(fontsize=7, loc="lower left", ncols=3)
    return _png(figure)


def score_bars(*, title: str, teams: list[str], scores: list[float]) -> bytes:
    """Horizontal bars of the weighted scores, best on top."""
    figure = Figure(figsize=(6, 0.45 * len(teams) + 1.2), dpi=90)
    axes = figure.add_subplot()
    positions = list(range(len(teams)))[::-1]
    axes.barh(positions, scores, color="#2c6fbb")
    axes.set_yticks(positions, teams, fontsize=8)
    axes.set_xlim(0, 100)
    axes.set_title(title)
    for position, score in zip(positions, scores, strict=True):
        axes.text(score + 1, position, f"{score:.1f}", va="center", fontsize=8)
    figure.subplots_adjust(left=0.3, right=0.95)
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
